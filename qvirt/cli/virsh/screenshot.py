"""virsh's screenshot (cmdScreenshot): the domain's screen as its driver encodes it, received on
a stream into a file named by --file or made of the domain's name, the time and the type."""

from __future__ import annotations

import os
import time
from contextlib import suppress

import qvirt
from qvirt.cli.virsh.control import UINT_MAX, Abort, Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, Opt, OptType
from qvirt.errors import QvirtError

# virshGenFileName: the extension for each MIME type virsh knows.
EXTENSIONS = {"image/x-portable-pixmap": ".ppm", "image/png": ".png"}


def cmd_screenshot(ctl: Control, args: Args) -> bool:
    path = ctl.opt_str(args, "file")
    screen = ctl.opt_int(args, "screen", 0, UINT_MAX) or 0
    dom = ctl.lookup_domain(args)
    name = ctl.opt_req(args, "domain")
    stream = ctl.connection().newStream(0)
    with ctl.failing(f"could not take a screenshot of {name}"):
        mime = dom.screenshot(stream, screen, 0)
    if path is None:
        stamp = time.strftime("%Y-%m-%d-%H:%M:%S", time.localtime())
        path = f"{dom.name()}-{stamp}{EXTENSIONS.get(mime, '')}"
    created = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        created = True
    except FileExistsError:
        fd = _open_existing(ctl, path)
    except OSError as err:
        raise ctl.fail(f"cannot create file {path}") from err
    try:
        _receive(ctl, stream, fd, name)
        os.close(fd)
        fd = -1
        with ctl.failing(f"cannot close stream on domain {name}"):
            stream.finish()
    except Abort:
        if fd >= 0:
            os.close(fd)
        if created:
            with suppress(OSError):
                os.unlink(path)
        raise
    ctl.print_extra(f"Screenshot saved to {path}, with type of {mime}")
    return True


def _open_existing(ctl: Control, path: str) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_TRUNC)
    except OSError as err:
        raise ctl.fail(f"cannot create file {path}") from err


def _receive(ctl: Control, stream: qvirt.virStream, fd: int, name: str) -> None:
    """virStreamRecvAll into the file (virshStreamSink)."""
    try:
        while data := stream.recv(262144):
            assert isinstance(data, bytes)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
    except (QvirtError, OSError) as err:
        if isinstance(err, QvirtError):
            ctl.last_error = err
        with suppress(QvirtError):
            stream.abort()
        raise ctl.fail(f"could not receive data from domain {name}") from err


COMMAND = Command("screenshot", cmd_screenshot,
                  "take a screenshot of a current domain console and store it into a file",
                  "screenshot of a current domain console", (
                      DOMAIN_OPT,
                      Opt("file", OptType.STRING, "where to store the screenshot"),
                      Opt("screen", OptType.INT, "ID of a screen to take screenshot of")))
