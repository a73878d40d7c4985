"""`virsh console` against qvirtd, run as a user at a terminal runs it (on a pty of its own):
the guest's serial console, its shell, Ctrl-] to leave; one session at a time unless forced;
libvirt's errors for devices that are not there. The framing virsh prints is compared with
what it prints against libvirtd."""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, guest_xml, virsh
from tests.daemon.test_virsh import LIBVIRTD_URI
from tests.support.oracle import ensure_libvirtd

WAIT = 120.0  # ceiling for a guest's answer under TCG on a loaded host; no assertion on time
CTRL_RIGHT_BRACKET = b"\x1d"


class Terminal:
    """A command on a pty of its own that is its controlling terminal, as in a login."""

    def __init__(self, *argv: str) -> None:
        self.master, slave = os.openpty()

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                     preexec_fn=controlling_tty, close_fds=True)
        os.close(slave)
        self.output = b""

    def _pump(self, timeout: float) -> bool:
        """Read what is there; False once the terminal has nothing more to give."""
        if not select.select([self.master], [], [], timeout)[0]:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every process on the pty has gone
            return False
        self.output += data
        return bool(data)

    def wait_for(self, text: bytes, timeout: float = WAIT, since: int = 0) -> None:
        """Until ``text`` shows on the terminal (after its first ``since`` bytes)."""
        deadline = time.monotonic() + timeout
        while text not in self.output[since:]:
            if time.monotonic() > deadline or not self._pump(0.2):
                raise AssertionError(f"no {text!r} on the terminal: {self.output[-600:]!r}")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def prompt(self) -> None:
        """Enter until the guest's shell answers with its prompt (getty may still start)."""
        for _ in range(int(WAIT / 5)):
            mark = len(self.output)
            self.type(b"\r")
            try:
                self.wait_for(b"# ", timeout=5, since=mark)
                return
            except AssertionError:
                continue
        raise AssertionError(f"no shell prompt: {self.output[-600:]!r}")

    def exit_code(self) -> int:
        code = self.proc.wait(timeout=WAIT)
        while self._pump(0.1) and select.select([self.master], [], [], 0)[0]:
            pass
        os.close(self.master)
        return code

    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")


def framing(text: str, name: str) -> list[str]:
    """virsh's own lines around the session, the domain's name made neutral."""
    return [line.replace(name, "NAME") for line in text.splitlines()
            if line.startswith(("Connected to domain", "Escape character", "error:"))]


def shell_session(uri: str, name: str) -> tuple[int, str]:
    """Attach, see the guest's ticks, run a command at its shell, leave with Ctrl-]."""
    term = Terminal("virsh", "-c", uri, "console", name)
    term.wait_for(b"TINY-GUEST-TICK")
    term.prompt()
    mark = len(term.output)
    term.type(b"echo hi-$((6*7))\r")
    term.wait_for(b"hi-42", since=mark)  # the answer, not the echo of the command
    term.type(CTRL_RIGHT_BRACKET)
    return term.exit_code(), term.text()


def start(uri: str, xml: Path, name: str) -> None:
    assert virsh(uri, "define", str(xml)).returncode == 0
    assert virsh(uri, "start", name).returncode == 0


@pytest.mark.integration
@pytest.mark.compat
def test_console_reaches_the_guest_shell(qvirtd: Daemon, tiny_image: Path,
                                         guest_dir: Path) -> None:
    name = f"qd5-{os.getpid()}-con"
    start(qvirtd.uri, guest_xml(tiny_image, guest_dir / "q", name), name)
    code, text = shell_session(qvirtd.uri, name)
    assert code == 0, text
    assert framing(text, name) == ["Connected to domain 'NAME'",
                                   "Escape character is ^] (Ctrl + ])"]
    assert re.search(r"TINY-GUEST-TICK \d+\n", text)
    ensure_libvirtd()
    try:
        start(LIBVIRTD_URI, guest_xml(tiny_image, guest_dir / "l", name), name)
        want_code, want_text = shell_session(LIBVIRTD_URI, name)
    finally:
        virsh(LIBVIRTD_URI, "destroy", name)
        virsh(LIBVIRTD_URI, "undefine", name)
    assert (code, framing(text, name)) == (want_code, framing(want_text, name))


def sessions(uri: str, name: str) -> list[tuple[int, list[str]]]:
    """A first session; a second refused; a third forced in, which ends the first; then the
    serial port by its alias, and a device that does not exist."""
    first = Terminal("virsh", "-c", uri, "console", name)
    first.wait_for(b"TINY-GUEST-TICK")
    second = Terminal("virsh", "-c", uri, "console", name)
    out = [(second.exit_code(), framing(second.text(), name))]
    forced = Terminal("virsh", "-c", uri, "console", "--force", name)
    forced.wait_for(b"TINY-GUEST-TICK")
    out.append((first.exit_code(), framing(first.text(), name)))
    forced.type(CTRL_RIGHT_BRACKET)
    out.append((forced.exit_code(), framing(forced.text(), name)))
    serial = Terminal("virsh", "-c", uri, "console", name, "--devname", "serial0")
    serial.wait_for(b"TINY-GUEST-TICK")
    serial.type(CTRL_RIGHT_BRACKET)
    out.append((serial.exit_code(), framing(serial.text(), name)))
    missing = Terminal("virsh", "-c", uri, "console", name, "--devname", "nosuch0")
    out.append((missing.exit_code(), framing(missing.text(), name)))
    return out


@pytest.mark.integration
@pytest.mark.compat
def test_one_session_unless_forced(qvirtd: Daemon, tiny_image: Path, guest_dir: Path) -> None:
    name = f"qd5-{os.getpid()}-force"
    start(qvirtd.uri, guest_xml(tiny_image, guest_dir / "q", name), name)
    have = sessions(qvirtd.uri, name)
    banner = ["Connected to domain 'NAME'", "Escape character is ^] (Ctrl + ])"]
    assert have == [
        (1, [*banner, "error: operation failed: Active console session exists for this domain"]),
        (1, [*banner, "error: stream had I/O failure"]),
        (0, banner),
        (0, banner),
        (1, [*banner, "error: internal error: cannot find character device nosuch0"]),
    ]
    ensure_libvirtd()
    try:
        start(LIBVIRTD_URI, guest_xml(tiny_image, guest_dir / "l", name), name)
        want = sessions(LIBVIRTD_URI, name)
    finally:
        virsh(LIBVIRTD_URI, "destroy", name)
        virsh(LIBVIRTD_URI, "undefine", name)
    assert have == want
