"""Consoles: a running domain's pty handed to one client at a time.

libvirt's qemuDomainOpenConsole picks the character device, virChrdevOpen keeps one stream
per device (a second open fails unless forced, and a forced one takes the device from the
first holder), and virFDStreamOpenPTY opens the pty's client side in raw mode. The same here:
``pick_console`` chooses, ``Consoles`` holds, ``PtyStream`` is the open pty.
"""

from __future__ import annotations

import errno
import os
import termios
import threading
from collections.abc import Callable

from qvirt.conf.devices.chardev import CharDevice
from qvirt.conf.domain import Domain
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, OperationFailed, QvirtError


def pick_console(live: Domain, dev_name: str | None) -> str:
    """The pty path of the device ``dev_name`` names by alias (consoles first, then serial and
    parallel ports), or of the first console, else the first serial port."""
    devices = live.devices
    candidates: list[CharDevice] = []
    if devices is not None:
        if dev_name is not None:
            candidates = [d for d in (*devices.consoles, *devices.serials, *devices.parallels)
                          if d.alias == dev_name]
        else:
            candidates = list(devices.consoles or devices.serials)
    if not candidates:
        raise InternalError(f"cannot find character device {dev_name or '<null>'}",
                            domain=ErrorDomain.QEMU)
    chosen = candidates[0]
    path = chosen.sources[0].path if chosen.sources else None
    if chosen.type != "pty" or not path:
        raise InternalError(f"character device {dev_name or chosen.alias or '<null>'} is not "
                            "using a PTY", domain=ErrorDomain.QEMU)
    return str(path)


def _make_raw(fd: int) -> None:
    """cfmakeraw(3), as virFDStreamOpenPTY sets the pty: bytes pass untouched both ways."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
    iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
               | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag = (cflag & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, ispeed, ospeed, cc])


class PtyStream:
    """The client side of a domain's pty, non-blocking (a DeviceStream)."""

    def __init__(self, path: str, release: Callable[[PtyStream], None]) -> None:
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as err:
            raise QvirtError(f"Unable to open stream for '{path}': {err.strerror}",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS) from err
        try:
            _make_raw(self._fd)
        except termios.error as err:
            os.close(self._fd)
            raise QvirtError(f"unable to set tty attributes: {err.args[-1]}",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS) from err
        self.path = path
        self._release = release
        self._revoke: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def fileno(self) -> int:
        return self._fd

    def read(self, size: int) -> bytes:
        try:
            return os.read(self._fd, size)
        except OSError as err:
            # The pty's other side closed: QEMU is gone, the console is at its end.
            if err.errno == errno.EIO:
                return b""
            raise

    def write(self, data: bytes) -> int:
        return os.write(self._fd, data)

    def on_revoke(self, handler: Callable[[], None]) -> None:
        self._revoke = handler

    def revoke(self) -> None:
        """Another client forced the console open: tell the holder to close."""
        if self._revoke is not None:
            self._revoke()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        os.close(self._fd)
        self._release(self)


class Consoles:
    """Which pty is held by which stream (virChrdevs), across all domains of a driver: a pty
    path names one device."""

    def __init__(self) -> None:
        self._held: dict[str, PtyStream] = {}
        self._lock = threading.Lock()

    def open(self, path: str, force: bool) -> PtyStream:
        with self._lock:
            holder = self._held.get(path)
            if holder is not None and not force:
                raise OperationFailed("Active console session exists for this domain",
                                      domain=ErrorDomain.QEMU)
            stream = PtyStream(path, self._release)
            self._held[path] = stream
        if holder is not None:
            holder.revoke()
        return stream

    def _release(self, stream: PtyStream) -> None:
        with self._lock:
            if self._held.get(stream.path) is stream:
                del self._held[stream.path]
