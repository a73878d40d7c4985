"""Fixtures shared by every layer's tests: the tiny guest image and guests booted from it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qvirt.builder import build
from tests.support.plainqemu import PlainGuest


@pytest.fixture(scope="session")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``qvirt-builder tiny`` output, built once per test worker (the build cache is shared)."""
    out = tmp_path_factory.mktemp("tiny")
    build("tiny", out)
    return out


def blank_disk(path: Path, size: str = "256M") -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    return path


@pytest.fixture
def plain_guest(tiny_image: Path, tmp_path: Path) -> Iterator[Callable[..., PlainGuest]]:
    """Start tiny guests under bare QEMU, each with its own blank data disk; all killed after."""
    guests: list[PlainGuest] = []

    def start(**options: bool) -> PlainGuest:
        work = tmp_path / f"guest{len(guests)}"
        work.mkdir()
        guest = PlainGuest(tiny_image, work, disk=blank_disk(work / "data.qcow2"), **options)
        guests.append(guest)
        return guest.start()

    yield start
    for guest in guests:
        guest.kill()
