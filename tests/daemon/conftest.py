"""Fixtures for qvirtd's tests: a daemon of its own per test (tmp_path root, its own sockets),
stopped afterwards with every guest it started destroyed, and clients to talk to it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qvirt.util.sockets import SOCK_RO, SOCK_RW, root_socket_dir
from tests.drivers.qemu.conftest import kill_all_under, qemu_pids_under
from tests.support.oracle import SYSTEM_PYTHON

QVIRTD = str(Path(sys.executable).parent / "qvirtd")
START_WAIT = 60.0

# Run by python3-libvirt at teardown: whatever a test left running is destroyed through the
# daemon itself, so the daemon's own bookkeeping sees it go.
DESTROY_ALL = """
import sys, libvirt
conn = libvirt.open(sys.argv[1])
for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
    dom.destroy()
"""


@dataclass
class Daemon:
    """A running qvirtd: its process, root and the URIs of its two sockets."""

    proc: subprocess.Popen[str]
    root: Path

    @property
    def log(self) -> Path:
        """The daemon's output: a file, not a pipe nobody reads until the end, which a
        chatty daemon (thousands of dropped clients under the fuzz) would fill and block on."""
        return self.root.with_name(f"{self.root.name}-qvirtd.log")

    @property
    def rw(self) -> Path:
        return root_socket_dir(self.root) / SOCK_RW

    @property
    def ro(self) -> Path:
        return root_socket_dir(self.root) / SOCK_RO

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.rw}"

    @property
    def ro_uri(self) -> str:
        return f"qemu+unix:///system?socket={self.ro}"


def virsh(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True,
                          timeout=180, check=False)


def identity(path: Path) -> tuple[int, int] | None:
    """Which file ``path`` is: its inode and change time (a new file may reuse the inode)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_ctime_ns


def start_qvirtd(root: Path, *options: str, netns: str | None = None) -> Daemon:
    """A qvirtd on ``root`` with extra command-line ``options``, once its sockets exist; its
    output goes to a file (a pipe read only at the end fills up and blocks the daemon). With
    ``netns`` it runs inside that network namespace (``ip netns exec`` execs it: same pid),
    where the networks it starts make their bridges, rules and dnsmasqs."""
    root.parent.mkdir(parents=True, exist_ok=True)
    stale = identity(root_socket_dir(root) / SOCK_RO)
    inside = ["ip", "netns", "exec", netns] if netns else []
    with open(root.with_name(f"{root.name}-qvirtd.log"), "w") as log:
        proc = subprocess.Popen([*inside, QVIRTD, "--root", str(root), *options], stdout=log,
                                stderr=subprocess.STDOUT, text=True)
    daemon = Daemon(proc, root)
    deadline = time.monotonic() + START_WAIT
    # Ready once the read-only socket is the new daemon's: a killed daemon's file may still be
    # there (refusing); the new one binds afresh. Not probed by connecting, which would count
    # as a client against max_clients.
    while identity(daemon.ro) in (None, stale):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"qvirtd did not start:\n{daemon.log.read_text()}")
        time.sleep(0.05)
    return daemon


def stop_qvirtd(daemon: Daemon) -> str:
    """Destroy what runs, stop the daemon with SIGTERM; its output, for failure messages."""
    if daemon.proc.poll() is None:
        subprocess.run([SYSTEM_PYTHON, "-c", DESTROY_ALL, daemon.uri], capture_output=True,
                       timeout=120, check=False)
        daemon.proc.send_signal(signal.SIGTERM)
    try:
        daemon.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        daemon.proc.kill()
        daemon.proc.wait()
    return daemon.log.read_text()


@pytest.fixture
def qvirtd(tmp_path: Path) -> Iterator[Daemon]:
    daemon = start_qvirtd(tmp_path / "r")
    try:
        yield daemon
    finally:
        out = stop_qvirtd(daemon)
        leftover = qemu_pids_under(tmp_path)
        kill_all_under(tmp_path)
        assert leftover == [], out
    assert daemon.proc.returncode == 0, out


@pytest.fixture
def guest_dir() -> Iterator[Path]:
    """A world-readable directory for guests' files: libvirtd's QEMU runs as another user and
    cannot reach pytest's private tmp directories. Unique per test (mkdtemp), removed after."""
    work = Path(tempfile.mkdtemp(prefix="qd5-"))
    try:
        os.chmod(work, 0o755)
        yield work
    finally:
        kill_all_under(work)
        shutil.rmtree(work, ignore_errors=True)


def guest_xml(tiny_image: Path, work: Path, name: str) -> Path:
    """tiny.xml renamed, on its own copy of the image in ``work`` (QEMU locks its disk)."""
    work.mkdir(mode=0o755)
    for file in ("vmlinuz", "initrd.img", "disk.qcow2"):
        shutil.copy(tiny_image / file, work / file)
        os.chmod(work / file, 0o644)
    xml = (tiny_image / "tiny.xml").read_text()
    xml = xml.replace(str(tiny_image), str(work))
    xml = xml.replace("<name>tiny</name>", f"<name>{name}</name>")
    path = work / f"{name}.xml"
    path.write_text(xml)
    return path


def free_port() -> int:
    """A loopback TCP port nobody listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def conf_text(**keys: object) -> str:
    """qvirtd.conf lines for ``keys``: booleans as 0/1, numbers bare, strings quoted."""
    lines = []
    for name, value in keys.items():
        if isinstance(value, bool):
            value = int(value)
        lines.append(f"{name} = {value}" if isinstance(value, int) else f'{name} = "{value}"')
    return "\n".join(lines) + "\n"


@pytest.fixture
def configured_qvirtd(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start qvirtds with a qvirtd.conf of the given keys (each on its own root); all are
    stopped at the end of the test."""
    daemons: list[Daemon] = []

    def start(**keys: object) -> Daemon:
        root = tmp_path / f"r{len(daemons)}"
        root.mkdir()
        conf = root / "qvirtd.conf"
        conf.write_text(conf_text(**keys))
        daemon = start_qvirtd(root, "--config", str(conf))
        daemons.append(daemon)
        return daemon

    try:
        yield start
    finally:
        outs = [stop_qvirtd(daemon) for daemon in daemons]
    for daemon, out in zip(daemons, outs, strict=True):
        assert daemon.proc.returncode == 0, out
