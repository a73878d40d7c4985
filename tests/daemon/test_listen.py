"""qvirtd's listeners and process: qemu+tcp:// through Debian's virsh, the unix sockets'
group and modes, the keepalive timer, max_clients, max_client_requests, --daemon and its pid
file."""

from __future__ import annotations

import grp
import os
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qvirt.daemon.layout import Layout
from qvirt.rpc.keepalive import KEEPALIVE_PROGRAM, KeepaliveProc, keepalive_frame
from qvirt.rpc.packet import FrameParser, Message
from qvirt.rpc.remote import BY_NAME, call_frame
from qvirt.rpc.xdr import unpack
from tests.daemon.conftest import (
    QVIRTD,
    Daemon,
    conf_text,
    free_port,
    start_qvirtd,
    stop_qvirtd,
)
from tests.daemon.conftest import virsh as run_virsh

HEADER = " Id   Name   State\n--------------------\n\n"
WAIT = 60.0


def _group() -> grp.struct_group:
    """A group other than root's, so that the socket's group visibly changes."""
    return next(g for g in grp.getgrall() if g.gr_gid != 0)


@pytest.mark.compat
def test_virsh_over_tcp_and_socket_modes(tmp_path: Path) -> None:
    """The mode's default qvirtd.conf (no --config) turns on TCP and sets the sockets."""
    root = tmp_path / "r"
    layout = Layout.under(root)
    layout.etc.mkdir(parents=True)
    port, group = free_port(), _group()
    layout.config_file.write_text(conf_text(
        listen_tcp=1, tcp_port=str(port), listen_addr="127.0.0.1", unix_sock_group=group.gr_name,
        unix_sock_rw_perms="0770", unix_sock_ro_perms="0775"))
    daemon = start_qvirtd(root)
    try:
        uri = f"qemu+tcp://127.0.0.1:{port}/system"
        listed = run_virsh(uri, "list", "--all")
        assert (listed.returncode, listed.stdout) == (0, HEADER), listed.stderr
        assert run_virsh(uri, "uri").stdout == f"{uri}\n\n"
        for path, mode in ((daemon.rw, 0o770), (daemon.ro, 0o775)):
            info = path.stat()
            assert (stat.S_IMODE(info.st_mode), info.st_gid) == (mode, group.gr_gid)
        assert run_virsh(daemon.uri, "list", "--all").stdout == HEADER
    finally:
        out = stop_qvirtd(daemon)
    assert daemon.proc.returncode == 0, out


class RawClient:
    """A libvirt client written out by hand: calls, and every frame the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(WAIT)
        self.sock.connect(str(path))
        self.parser = FrameParser()
        self.pending: list[Message] = []
        self.serial = 0

    def next(self) -> Message | None:
        """The next message from the daemon, None when it closed the connection."""
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.pending.extend(self.parser.feed(data))
        return self.pending.pop(0)

    def call(self, name: str, args: object = None) -> object:
        self.serial += 1
        self.sock.sendall(call_frame(BY_NAME[name], self.serial, args))
        while (message := self.next()) is not None:
            if message.header.prog != KEEPALIVE_PROGRAM:
                assert (message.header.serial, message.header.status) == (self.serial, 0)
                return unpack(BY_NAME[name].ret, message.payload)
        raise AssertionError("the daemon closed the connection")

    def open(self, keepalive: bool) -> None:
        self.call("AUTH_LIST")
        self.call("CONNECT_OPEN", {"name": "qemu:///system", "flags": 0})
        if keepalive:
            assert self.call("CONNECT_SUPPORTS_FEATURE", {"feature": 10}) == {"supported": 1}

    def close(self) -> None:
        self.sock.close()


def is_ping(message: Message | None) -> bool:
    return (message is not None and message.header.prog == KEEPALIVE_PROGRAM
            and message.header.proc == KeepaliveProc.PING)


def test_keepalive(configured_qvirtd: Callable[..., Daemon]) -> None:
    """A client that advertised keepalive and answers no PING is closed after
    keepalive_count of them; one that answers stays; one that never advertised gets none."""
    daemon = configured_qvirtd(keepalive_interval=1, keepalive_count=2)
    quiet = RawClient(daemon.rw)
    quiet.open(keepalive=False)
    deaf, alive = RawClient(daemon.rw), RawClient(daemon.rw)
    deaf.open(keepalive=True)
    alive.open(keepalive=True)

    answered: list[bool] = []

    def answer() -> None:
        # Five answered PINGs: longer than the silence that closes the deaf client.
        for _ in range(5):
            answered.append(is_ping(alive.next()))
            alive.sock.sendall(keepalive_frame(KeepaliveProc.PONG))

    answering = threading.Thread(target=answer)
    answering.start()
    pings = 0
    while is_ping(message := deaf.next()):
        pings += 1
    assert (pings, message) == (2, None)
    answering.join()
    assert answered == [True] * 5
    assert alive.call("CONNECT_GET_URI") == {"uri": "qemu:///system"}

    quiet.sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        quiet.sock.recv(65536)
    quiet.sock.setblocking(True)
    assert quiet.call("CONNECT_GET_URI") == {"uri": "qemu:///system"}
    for client in (quiet, deaf, alive):
        client.close()


def test_max_clients(configured_qvirtd: Callable[..., Daemon]) -> None:
    daemon = configured_qvirtd(max_clients=2)
    first, second = RawClient(daemon.rw), RawClient(daemon.ro)
    first.open(keepalive=False)
    second.open(keepalive=False)
    extra = RawClient(daemon.rw)
    assert extra.next() is None  # closed at accept
    extra.close()
    assert second.call("CONNECT_GET_URI") == {"uri": "qemu:///system"}
    first.close()
    # Once the daemon has seen the first one go, a new client is served again.
    deadline = time.monotonic() + WAIT
    while True:
        late = RawClient(daemon.rw)
        try:
            late.open(keepalive=False)
            break
        except (AssertionError, ConnectionError):
            late.close()
            assert time.monotonic() < deadline
    late.close()
    second.close()


def test_max_client_requests(configured_qvirtd: Callable[..., Daemon]) -> None:
    """Calls sent ahead of their replies are all answered, in order, however few the
    daemon reads ahead."""
    daemon = configured_qvirtd(max_client_requests=1, max_workers=1)
    client = RawClient(daemon.rw)
    client.open(keepalive=False)
    frames = b"".join(call_frame(BY_NAME["CONNECT_GET_URI"], serial, None)
                      for serial in range(100, 400))
    client.sock.sendall(frames)
    for serial in range(100, 400):
        message = client.next()
        assert message is not None
        assert (message.header.serial, message.header.status) == (serial, 0)
    client.close()


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, f"qvirtd {pid} still runs"
        time.sleep(0.05)


def test_daemon_mode_and_pid_file(tmp_path: Path) -> None:
    root = tmp_path / "r"
    layout = Layout.under(root)
    started = subprocess.run([QVIRTD, "--root", str(root), "--daemon"], capture_output=True,
                             text=True, timeout=120, check=False)
    assert (started.returncode, started.stdout, started.stderr) == (0, "", "")
    # Returned once ready: the sockets answer, the pid file names the daemon.
    pid = int(layout.pid_file.read_text())
    try:
        assert run_virsh(f"qemu+unix:///system?socket={layout.sock_rw}", "uri").returncode == 0
        assert os.getsid(pid) != os.getsid(0)  # a session of its own, not ours

        second = subprocess.run([QVIRTD, "--root", str(root), "--daemon"],
                                capture_output=True, text=True, timeout=120, check=False)
        assert (second.returncode, second.stderr) == (
            1, "qvirtd: error: Unable to obtain pidfile. Check /var/log/messages or run "
               "without --daemon for more info.\n")
        foreground = subprocess.run([QVIRTD, "--root", str(root)], capture_output=True,
                                    text=True, timeout=120, check=False)
        assert foreground.returncode == 1
        assert foreground.stderr.endswith(
            f" : Failed to acquire pid file '{layout.pid_file}': "
            "Resource temporarily unavailable\n"), foreground.stderr
        assert int(layout.pid_file.read_text()) == pid
    finally:
        os.kill(pid, signal.SIGTERM)
    _wait_gone(pid)
    assert not layout.pid_file.exists() and not layout.sock_rw.exists()
    # The daemon logged to its own file, not to the terminal it left.
    assert layout.log_file.exists()


def test_system_layout_is_libvirts_with_qvirt_names() -> None:
    layout = Layout.system()
    assert (layout.uri, layout.config_file, layout.sock_rw, layout.sock_ro, layout.pid_file,
            layout.log_file) == (
        "qemu:///system", Path("/etc/qvirt/qvirtd.conf"), Path("/run/qvirt/qvirt-sock"),
        Path("/run/qvirt/qvirt-sock-ro"), Path("/run/qvirt/qvirtd.pid"),
        Path("/var/log/qvirt/qvirtd.log"))
    driver = layout.driver
    assert (driver.config_dir, driver.state_dir, driver.log_dir, driver.cache_dir) == (
        Path("/etc/qvirt/qemu"), Path("/run/qvirt/qemu"), Path("/var/log/qvirt/qemu"),
        Path("/var/cache/qvirt/qemu"))
    assert (layout.pki.ca_file, layout.pki.cert_file, layout.pki.key_file) == (
        Path("/etc/pki/CA/cacert.pem"), Path("/etc/pki/libvirt/servercert.pem"),
        Path("/etc/pki/libvirt/private/serverkey.pem"))


@pytest.mark.parametrize("relay_args", [["--session"], ["qemu:///session"]],
                         ids=["option", "uri"])
def test_session_mode(tmp_path: Path, relay_args: list[str]) -> None:
    """--session lives in the user's XDG directories; --stdio --session (or --stdio with the
    session URI, as the ssh transport passes it) starts that daemon when none runs, and relays
    a whole client conversation to it, as ssh would carry it."""
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(tmp_path / "xdg-run"),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}
    calls = [call_frame(BY_NAME["AUTH_LIST"], 1, None),
             call_frame(BY_NAME["CONNECT_OPEN"], 2, {"name": "qemu:///session", "flags": 0}),
             call_frame(BY_NAME["CONNECT_GET_URI"], 3, None)]
    relay = subprocess.run([QVIRTD, "--stdio", *relay_args], env=env, input=b"".join(calls),
                           capture_output=True, timeout=WAIT, check=False)
    run = tmp_path / "xdg-run" / "qvirt"
    pid = int((run / "qvirtd.pid").read_text())
    try:
        assert (relay.returncode, relay.stderr) == (0, b"")
        messages = FrameParser().feed(relay.stdout)
        assert [(m.header.serial, m.header.status) for m in messages] == [(1, 0), (2, 0), (3, 0)]
        assert unpack(BY_NAME["CONNECT_GET_URI"].ret, messages[2].payload) == {
            "uri": "qemu:///session"}
        listed = run_virsh(f"qemu+unix:///session?socket={run / 'qvirt-sock'}", "list", "--all")
        assert (listed.returncode, listed.stdout) == (0, HEADER), listed.stderr
        assert (home / "config" / "qvirt" / "qemu").is_dir()
        assert (run / "qemu" / "run" / "driver.pid").exists()
        assert (home / "cache" / "qvirt" / "qemu" / "cache").is_dir()
        assert (home / "cache" / "qvirt" / "qvirtd.log").exists()
    finally:
        os.kill(pid, signal.SIGTERM)
    _wait_gone(pid)
    assert not (run / "qvirt-sock").exists()
