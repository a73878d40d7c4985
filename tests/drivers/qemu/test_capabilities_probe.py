"""Probing real QEMU binaries over QMP: the answers match the recorded ones (which the probe
made; a missing recording is written), a failing binary reports libvirt's error, and the probe
works when called from inside a running event loop (the embedded driver's case)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qvirt.drivers.qemu import caps_probe
from qvirt.drivers.qemu.capabilities import QemuCaps, kvm_access, probe_binary
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.drivers.qemu.test_capabilities_parse import RECORDED

pytestmark = pytest.mark.integration


def write_recording(path: Path, binary: str, replies: dict[str, Any]) -> None:
    """One reply per line, so a changed QEMU shows as a readable diff."""
    accels = []
    for accel, answers in replies.items():
        lines = [f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}"
                 for k, v in sorted(answers.items())]
        accels.append(f" {json.dumps(accel)}: {{\n" + ",\n".join(lines) + "\n }")
    path.write_text(f'{{"binary": {json.dumps(binary)},\n "replies": {{\n'
                    + ",\n".join(accels) + "\n}}\n")


def stable(caps: QemuCaps) -> dict[str, Any]:
    """What any probe of a binary answers alike on any host: not the schema's numbering, and
    not what depends on this host's KVM."""
    return {"version": caps.version, "arch": caps.arch,
            "machines": caps.machine_types("qemu"), "cpus": caps.cpu_definitions("qemu"),
            "types": caps.types, "commands": caps.commands,
            "tpm": (caps.tpm_models, caps.tpm_types), "display": caps.display_types,
            "sev": caps.sev, "sgx": caps.sgx}


@pytest.mark.parametrize("name", ["qemu-system-x86_64", "qemu-system-i386"])
def test_probe_matches_the_recording(name: str) -> None:
    binary = shutil.which(name)
    assert binary is not None
    replies = probe_binary(binary)
    path = RECORDED / f"{name}.json"
    if not path.exists():
        write_recording(path, binary, replies)
    fresh = QemuCaps.from_replies(binary, replies)
    saved = QemuCaps.from_replies(binary, json.loads(path.read_text())["replies"])
    assert stable(fresh) == stable(saved)
    # A second, TCG-only probe runs exactly when KVM is there to be used.
    assert fresh.kvm_enabled == kvm_access()["rw"]
    assert set(replies) == ({"kvm", "tcg"} if fresh.kvm_enabled else {"kvm"})


@pytest.mark.parametrize("prober", [caps_probe.probe, caps_probe.probe_apart])
def test_probe_under_tcg_asks_only_what_depends_on_the_accelerator(
        prober: Callable[[str, str], dict[str, Any]]) -> None:
    replies = prober("/usr/bin/qemu-system-x86_64", caps_probe.ACCELS["tcg"])
    assert set(replies) == caps_probe.PER_ACCEL
    assert replies["query-kvm"]["return"]["enabled"] is False


@pytest.mark.parametrize("prober", [caps_probe.probe, caps_probe.probe_apart])
def test_a_binary_that_fails_reports_its_output(
        tmp_path: Path, prober: Callable[[str, str], dict[str, Any]]) -> None:
    bad = tmp_path / "qemu-system-bad"
    bad.write_text("#!/bin/sh\necho 'qemu: could not load PC BIOS' >&2\nexit 1\n")
    bad.chmod(0o755)
    with pytest.raises(QvirtError) as err:
        prober(str(bad), caps_probe.ACCELS["kvm"])
    assert err.value.code == ErrorNumber.INTERNAL_ERROR
    assert err.value.domain == ErrorDomain.QEMU
    assert err.value.message == (f"internal error: Failed to probe capabilities for {bad}: "
                                 "qemu: could not load PC BIOS")


def test_probe_from_inside_an_event_loop() -> None:
    async def inside() -> dict[str, Any]:
        return caps_probe.probe("/usr/bin/qemu-system-x86_64", caps_probe.ACCELS["tcg"])

    replies = asyncio.run(inside())
    assert replies["query-machines"]["return"]
