"""qemu+ssh:// through Debian's virsh and a real sshd the test starts on a loopback port.

virsh 9.0 runs the system's ssh and, on the far side, either ``nc -U SOCKET`` (when the URI
names socket= or netcat=) or virt-ssh-helper (proxy=native, or auto when the far side has
it). virt-ssh-helper is found by name on the far side's PATH, and netcat= names one
program that is first probed with ``-q`` on the connection's own stdin, so neither can run
``qvirtd --stdio``. What does: the far side's authorized_keys forcing the command, which
is how an account dedicated to qvirt is set up, whatever the client asks to run.

The ssh client runs through command= (a wrapper adding options to ssh) only so that the test
writes no known_hosts entry into root's home.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import QVIRTD, Daemon, free_port, guest_xml, virsh

SSHD = "/usr/sbin/sshd"


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=60)
    return path


@pytest.fixture
def sshd(tmp_path: Path, qvirtd: Daemon) -> Iterator[tuple[int, Path, Path, Path]]:
    """An sshd on a free loopback port: (port, ssh wrapper, key for any command, key whose
    command is forced to ``qvirtd --stdio`` for the qvirtd fixture's root)."""
    work = tmp_path / "ssh"
    work.mkdir()
    host_key, plain_key, stdio_key = (keygen(work / name)
                                      for name in ("host", "plain", "stdio"))
    forced = shlex.join([QVIRTD, "--stdio", "--root", str(qvirtd.root)])
    (work / "authorized_keys").write_text(
        Path(f"{plain_key}.pub").read_text()
        + f'command="{forced}",no-pty ' + Path(f"{stdio_key}.pub").read_text())
    port = free_port()
    config = work / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
AuthorizedKeysFile {work}/authorized_keys
PidFile {work}/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel ERROR
""")
    wrapper = work / "ssh"
    wrapper.write_text("#!/bin/sh\nexec ssh -F /dev/null -o UserKnownHostsFile=/dev/null "
                       "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n")
    wrapper.chmod(0o755)
    # sshd's privilege separation directory, which the package's boot-time setup would make.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = work / "sshd.log"
    with log.open("w") as out:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "sshd did not start"
            time.sleep(0.05)
        yield port, wrapper, plain_key, stdio_key
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.compat
def test_virsh_over_ssh(qvirtd: Daemon, sshd: tuple[int, Path, Path, Path],
                        tiny_image: Path, tmp_path: Path) -> None:
    port, wrapper, plain_key, stdio_key = sshd
    # A domain only this qvirtd has: the far side reached it, not some other daemon.
    xml = guest_xml(tiny_image, tmp_path / "g", "qd5-ssh")
    assert virsh(qvirtd.uri, "define", str(xml)).returncode == 0
    local = virsh(qvirtd.uri, "list", "--all").stdout
    assert "qd5-ssh" in local
    base = f"qemu+ssh://root@127.0.0.1:{port}/system?no_verify=1&command={wrapper}"
    uris = {
        "nc -U on the far side": f"{base}&keyfile={plain_key}&socket={qvirtd.rw}",
        "qvirtd --stdio on the far side": f"{base}&keyfile={stdio_key}",
    }
    for how, uri in uris.items():
        listed = virsh(uri, "list", "--all")
        assert (listed.returncode, listed.stdout, listed.stderr) == (0, local, ""), how
        version = virsh(uri, "version")
        assert version.returncode == 0, (how, version.stderr)
        assert version.stdout.startswith("Compiled against library: libvirt 9.0.0\n"), how
        assert "Running hypervisor: QEMU " in version.stdout, how
    # The same daemon answered both ways, as its own socket does.
    assert virsh(qvirtd.uri, "version").stdout == version.stdout


def test_stdio_without_daemon(tmp_path: Path) -> None:
    proc = subprocess.run([QVIRTD, "--stdio", "--root", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (f"qvirtd: error: Failed to connect socket to "
                           f"'{tmp_path}/r/run/qvirt/qvirt-sock': No such file or directory\n")
