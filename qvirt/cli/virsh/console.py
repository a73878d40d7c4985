"""virsh's console (virsh-console.c, cmdConsole): the guest's character device as a stream,
the terminal raw in between, the escape character (virsh -e, ^] by default) to leave.

virsh runs the session on libvirt's event loop; here one thread waits on the stream and the
command's own thread on the terminal, which keeps the blocking stream calls simple. As in
virsh, the escape character counts only as the first byte of what one read of the terminal
gives (a key typed alone)."""

from __future__ import annotations

import os
import select
import termios
import threading
import tty
from contextlib import suppress

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh.control import Abort, Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, Opt, OptType
from qvirt.errors import QvirtError

STDIN = 0
# How often the terminal's wait looks whether the guest's side has ended (seconds).
POLL = 0.2


def escape_byte(escape: str) -> int:
    """vshGetEscapeChar: '^x' is Ctrl+x, anything else its own first character."""
    if escape[0] == "^" and len(escape) == 2:
        return ord(escape[1].upper()) ^ 0x40
    return ord(escape[0])


def cmd_console(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    devname = ctl.opt_str(args, "devname")
    flags = (C.VIR_DOMAIN_CONSOLE_FORCE if args.get("force") else 0) | \
        (C.VIR_DOMAIN_CONSOLE_SAFE if args.get("safe") else 0)
    return run_console(ctl, dom, devname, flags)


def run_console(ctl: Control, dom: qvirt.virDomain, devname: str | None, flags: int) -> bool:
    """cmdRunConsole, also what start and create --console run."""
    try:
        state = dom.state()[0]
    except QvirtError as err:
        ctl.last_error = err
        raise ctl.fail("Unable to get domain status") from err
    if state == C.VIR_DOMAIN_SHUTOFF:
        raise ctl.fail("The domain is not running")
    if not os.isatty(STDIN):
        raise ctl.fail("Cannot run interactive console without a controlling TTY")
    ctl.print_extra(f"Connected to domain '{dom.name()}'\n")
    ctl.print_extra(f"Escape character is {ctl.escape}")
    if ctl.escape[0] == "^":
        ctl.print_extra(f" (Ctrl + {ctl.escape[1]})")
    ctl.print_extra("\n")
    ctl.out.flush()
    return _session(ctl, dom, devname, flags)


def _session(ctl: Control, dom: qvirt.virDomain, devname: str | None, flags: int) -> bool:
    """virshRunConsole: raw terminal, stream open, copy both ways until the escape character,
    the stream's end or its error; the terminal restored whatever happened."""
    saved = termios.tcgetattr(STDIN)
    tty.setraw(STDIN, termios.TCSAFLUSH)
    try:
        stream = ctl.connection().newStream(0)
        with ctl.failing(None):
            dom.openConsole(devname, stream, flags)
        return _copy(ctl, stream)
    finally:
        termios.tcsetattr(STDIN, termios.TCSAFLUSH, saved)


def _copy(ctl: Control, stream: qvirt.virStream) -> bool:
    out = ctl.out.fileno()
    ended = threading.Event()
    failure: list[QvirtError] = []

    def from_guest() -> None:
        try:
            while data := stream.recv(65536):
                assert isinstance(data, bytes)
                _write_all(out, data)
        except QvirtError as err:
            failure.append(err)
        except OSError:
            pass
        ended.set()

    threading.Thread(target=from_guest, name="console", daemon=True).start()
    escape = escape_byte(ctl.escape)
    try:
        while not ended.is_set():
            if not select.select([STDIN], [], [], POLL)[0]:
                continue
            data = os.read(STDIN, 1024)
            if not data:
                break
            if data[0] == escape:
                with suppress(QvirtError):
                    stream.finish()
                return True
            stream.send(data)
    except QvirtError as err:
        failure.append(err)
    if failure:
        ctl.last_error = failure[0]
        with suppress(QvirtError):
            stream.abort()
        raise Abort
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


COMMAND = Command("console", cmd_console, "connect to the guest console",
                  "Connect the virtual serial console for the guest", (
                      DOMAIN_OPT,
                      Opt("devname", OptType.STRING, "character device name"),
                      Opt("force", OptType.BOOL,
                          "force console connection (disconnect already connected sessions)"),
                      Opt("safe", OptType.BOOL,
                          "only connect if safe console handling is supported")))
