"""A regular file read as a DeviceStream (drivers/base.py), for streams whose source is a file:
a screenshot QEMU wrote, later a volume being downloaded.

The daemon relays devices by waiting for their descriptor to be readable, which epoll cannot
do for regular files. So, as libvirt's virFDStream hands regular files to a helper that pipes
them, a thread copies the file into a pipe and the stream's descriptor is the pipe's reading
end: the pipe's capacity is the flow control, and closing the stream stops the copy.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Callable

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

CHUNK = 65536


class FileStream:
    """Reads ``path`` once from start to end; ``unlink`` removes the file as soon as it is
    open, so a temporary file never outlives the stream (libvirt unlinks the screendump
    the same way)."""

    def __init__(self, path: str, *, unlink: bool = False) -> None:
        try:
            source = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise QvirtError(f"Unable to open stream for '{path}': {err.strerror}",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS) from err
        if unlink:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self._read_fd, False)
        self._closed = False
        self._copier = threading.Thread(target=self._copy, args=(source, write_fd),
                                        name="qvirt-filestream", daemon=True)
        self._copier.start()

    @staticmethod
    def _copy(source: int, sink: int) -> None:
        try:
            while data := os.read(source, CHUNK):
                view = memoryview(data)
                while view:
                    view = view[os.write(sink, view):]
        except BrokenPipeError:
            pass  # the stream was closed before the end: nothing more to copy
        finally:
            os.close(source)
            os.close(sink)

    def fileno(self) -> int:
        return self._read_fd

    def read(self, size: int) -> bytes:
        return os.read(self._read_fd, size)

    def write(self, data: bytes) -> int:
        raise OSError(errno.EBADF, "the stream is read-only")

    def on_revoke(self, handler: Callable[[], None]) -> None:
        """A file is never taken back from its reader."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._read_fd)
