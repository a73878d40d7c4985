"""The ssh transport through the system's ssh client and a real sshd this test starts on
loopback (its own host key, a client key it authorizes): nc -U on the far side, to qvirtd and
to the real libvirtd; and, with no socket named, the far side running ``qvirtd --stdio URI``
as the client's auto mode asks (the far side's PATH leads to a qvirtd for the test's root)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import qvirt
from tests.daemon.conftest import QVIRTD, Daemon
from tests.support.oracle import ensure_libvirtd

SSHD = "/usr/sbin/sshd"
START_WAIT = 30.0
LIBVIRTD_SOCKET = "/var/run/libvirt/libvirt-sock"


@dataclass(frozen=True)
class Sshd:
    port: int
    key: Path       # the authorized client key
    command: Path   # the system's ssh, kept to this test's known_hosts file

    def uri(self, socket_path: str, extra: str = "") -> str:
        return (f"qemu+ssh://root@127.0.0.1:{self.port}/system?command={self.command}"
                f"&keyfile={self.key}&no_tty=1&no_verify=1&socket={socket_path}{extra}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    work = tmp_path / "ssh"
    work.mkdir()
    for name in ("host", "id"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)],
                       check=True)
    (work / "authorized_keys").write_bytes((work / "id.pub").read_bytes())
    port = _free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work}/host\n"
        f"AuthorizedKeysFile {work}/authorized_keys\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"StrictModes no\nPidFile {work}/sshd.pid\n"
        # Where the far side finds the commands the client names (qvirtd, nc).
        f"SetEnv PATH={work}/bin:/usr/local/bin:/usr/bin:/bin\n")
    # Kept out of root's own known_hosts: the test's host key is new every run.
    command = work / "ssh"
    command.write_text(f"#!/bin/sh\nexec ssh -o UserKnownHostsFile={work}/known_hosts "
                       "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n")
    command.chmod(0o755)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(work / "sshd_config")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + START_WAIT
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"sshd did not start: {proc.communicate()[0]}")
            time.sleep(0.05)
        yield Sshd(port, work / "id", command)
    finally:
        proc.terminate()
        proc.wait(30)


def test_ssh_to_qvirtd(sshd: Sshd, qvirtd: Daemon) -> None:
    conn = qvirt.open(sshd.uri(str(qvirtd.rw)))
    assert conn.getType() == "QEMU"
    assert conn.listAllDomains() == []
    assert (conn.isSecure(), conn.isEncrypted()) == (1, 0)
    with pytest.raises(qvirt.libvirtError) as caught:
        conn.lookupByName("qd5-nothing")
    assert caught.value.get_error_message() == \
        "Domain not found: no domain with matching name 'qd5-nothing'"
    conn.close()
    ro = qvirt.openReadOnly(sshd.uri(str(qvirtd.ro), "&proxy=netcat"))
    assert ro.getHostname() == socket.gethostname()
    ro.close()


@pytest.mark.compat
def test_ssh_to_libvirtd(sshd: Sshd) -> None:
    ensure_libvirtd()
    conn = qvirt.open(sshd.uri(LIBVIRTD_SOCKET))
    assert conn.getType() == "QEMU"
    assert conn.getLibVersion() > 0
    assert isinstance(conn.listAllDomains(), list)
    conn.close()


def test_ssh_to_qvirtd_stdio(sshd: Sshd, qvirtd: Daemon, tmp_path: Path) -> None:
    """No socket=: the far side runs the auto mode's shell snippet, which finds qvirtd with
    --stdio and runs ``qvirtd --stdio qemu:///system``; the qvirtd on the far side's PATH
    serves the test's root (an installed qvirtd would serve the system's)."""
    bin_dir = tmp_path / "ssh" / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "qvirtd"
    ran = tmp_path / "ran"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {ran}\n'
                       f'exec {QVIRTD} --root {qvirtd.root} "$@"\n')
    wrapper.chmod(0o755)
    uri = (f"qemu+ssh://root@127.0.0.1:{sshd.port}/system?command={sshd.command}"
           f"&keyfile={sshd.key}&no_tty=1&no_verify=1")
    conn = qvirt.open(uri)
    try:
        assert conn.getType() == "QEMU"
        assert conn.getURI() == uri
        with pytest.raises(qvirt.libvirtError) as caught:
            conn.lookupByName("qd5-nothing")
        assert caught.value.get_error_message() == \
            "Domain not found: no domain with matching name 'qd5-nothing'"
    finally:
        conn.close()
    # The auto mode asked for --help first, then ran the relay with the URI.
    assert ran.read_text() == "--help\n--stdio qemu:///system\n"


def test_ssh_without_a_key_fails_fast(sshd: Sshd, qvirtd: Daemon) -> None:
    """no_tty=1 makes ssh give up rather than ask for a password; ssh's own words come
    back in the error."""
    uri = sshd.uri(str(qvirtd.rw)).replace(f"&keyfile={sshd.key}", "&keyfile=/dev/null")
    with pytest.raises(qvirt.libvirtError) as caught:
        qvirt.open(uri)
    assert "Permission denied" in caught.value.get_error_message()
