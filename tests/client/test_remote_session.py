"""qemu:///session: the first client finds no per-user daemon and starts one (detached, with
an idle timeout); clients racing to start it start one between them; later ones reuse it.

Until qvirtd has --session, the daemon started here is ``qvirtd --root R --timeout 5``, put in
place of transport.SESSION_DAEMON, with XDG_RUNTIME_DIR pointing where that daemon binds its
sockets (R/run/qvirt is then session_socket_dir())."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import qvirt
from qvirt.client.remote import transport
from qvirt.util.sockets import SOCK_RW, session_socket_dir
from tests.daemon.conftest import QVIRTD

EXIT_WAIT = 60.0


def daemons_under(root: Path) -> list[int]:
    """Pids of the qvirtd processes serving ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(root).encode() in argv and any(a.endswith(b"qvirtd") for a in argv):
            found.append(int(entry.name))
    return found


def test_production_command() -> None:
    assert transport.SESSION_DAEMON[1:] == ["--session", "--timeout", "30"]


def test_session_daemon_started_once_and_reused(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(root / "run"))
    monkeypatch.setattr(transport, "SESSION_DAEMON",
                        [QVIRTD, "--root", str(root), "--timeout", "5"])
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
