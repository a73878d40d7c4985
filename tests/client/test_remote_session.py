"""qemu:///session: the first client finds no per-user daemon and starts one (detached, with
an idle timeout); clients racing to start it start one between them; later ones reuse it.

The daemon started is the production one (``qvirtd --session --timeout 30``); HOME and the XDG
variables point into the test's directory, so its files and sockets stay there."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import qvirt
from qvirt.util.sockets import SOCK_RW, session_socket_dir

EXIT_WAIT = 60.0


def daemons_under(root: Path) -> list[int]:
    """Pids of the session qvirtd processes whose XDG_RUNTIME_DIR lies under ``root``."""
    marker = f"XDG_RUNTIME_DIR={root}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if (any(a.endswith(b"qvirtd") for a in argv) and b"--session" in argv
                and any(e.startswith(marker) for e in environ)):
            found.append(int(entry.name))
    return found


def test_session_daemon_started_once_and_reused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(root / "run"))
    for variable in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(variable, raising=False)
    assert session_socket_dir() == root / "run" / "qvirt"
    try:
        types: list[str] = []

        def connect() -> None:
            conn = qvirt.open("qemu:///session")
            types.append(conn.getType())
            conn.close()

        racers = [threading.Thread(target=connect) for _ in range(3)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert types == ["QEMU"] * 3
        first = daemons_under(root)
        assert len(first) == 1
        assert (session_socket_dir() / SOCK_RW).exists()
        conn = qvirt.open("qemu:///session")
        assert conn.getURI() == "qemu:///session"
        assert conn.listAllDomains() == []
        conn.close()
        assert daemons_under(root) == first
    finally:
        for pid in daemons_under(root):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + EXIT_WAIT
        while daemons_under(root) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert daemons_under(root) == []
