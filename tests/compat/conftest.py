"""Files the compat cases name: a guest definition, a document libvirt refuses, a pool and a
volume definition, a pool source spec, a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.cases import BAD, GUEST, UNTYPED
from tests.compat.network_cases import HOST, NET, NET2
from tests.compat.storage_cases import POOL, SOURCE, VOL

# qvirtd's fixtures, for the lifecycle harness against the daemon.
from tests.daemon.conftest import guest_dir, qvirtd  # noqa: F401


@pytest.fixture
def case_files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "guest.xml").write_text(GUEST)
    (tmp_path / "bad.xml").write_text(BAD)
    (tmp_path / "untyped.xml").write_text(UNTYPED)
    (tmp_path / "pool.xml").write_text(POOL)
    (tmp_path / "vol.xml").write_text(VOL)
    (tmp_path / "src.xml").write_text(SOURCE)
    (tmp_path / "net.xml").write_text(NET)
    (tmp_path / "net2.xml").write_text(NET2)
    (tmp_path / "host.xml").write_text(HOST)
    (tmp_path / "adir").mkdir()
    return {"xml": str(tmp_path / "guest.xml"), "bad": str(tmp_path / "bad.xml"),
            "untyped": str(tmp_path / "untyped.xml"), "pool": str(tmp_path / "pool.xml"),
            "vol": str(tmp_path / "vol.xml"), "src": str(tmp_path / "src.xml"),
            "dir": str(tmp_path / "adir"), "net": str(tmp_path / "net.xml"),
            "net2": str(tmp_path / "net2.xml"), "host": str(tmp_path / "host.xml")}


def expand(args: list[str], files: dict[str, str]) -> list[str]:
    return [a.format(**files) for a in args]
