"""A volume's bytes as a DeviceStream (drivers/base.py), for vol-download and vol-upload.

The daemon relays streams by waiting on a descriptor, which epoll cannot do for a regular
file, and a sparse stream carries holes beside its data. So, as libvirt's fdstream hands a
volume to a thread (iohelper), a thread here does the file's I/O and talks to the stream over
a SOCK_SEQPACKET socket pair: one packet per segment, each a data chunk or a hole, so holes
keep their place between the data, the socket's buffer is the flow control both ways, and
closing the stream's end stops the thread.

Download reads from ``offset`` for ``length`` bytes (0: to the end); sparse, it finds the holes
with SEEK_DATA/SEEK_HOLE (zero runs on a block device, which has no holes to ask about) and
sends them as holes. Upload writes what comes at ``offset``; a hole is punched into a regular
file (skipped past its end, the file extended) and written as zeros on a block device.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# Data per packet: the daemon's relay reads its streams in CHUNK-sized frames
# (daemon/streams.py, libvirt's 256 KiB), so a packet never holds more than one read takes.
CHUNK = 262144
# Each socket's send buffer: room for a few whole packets (the default is less than one).
_SOCKET_BUFFER = 4 * CHUNK
# Packet kinds: the first byte of every packet.
_DATA = b"D"
_HOLE = b"H"
_FAIL = b"F"
_HOLE_LEN = struct.Struct("!q")
_ERRNO = struct.Struct("!i")
# Zero runs shorter than this stay data on a block device (libvirt's detection works in
# whole blocks too).
_ZERO_BLOCK = 4096
_ZEROS = bytes(CHUNK)

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


@runtime_checkable
class VolumeDevice(Protocol):
    """What the daemon's relay and the local fd stream need of a volume's stream: a
    DeviceStream whose I/O runs on a thread of its own, which may carry holes (``sparse``)
    and which reports, at the finish, whether everything sent reached the volume."""

    sparse: bool

    def fileno(self) -> int: ...
    def read(self, size: int) -> bytes: ...
    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...
    def on_revoke(self, handler: Callable[[], None]) -> None: ...
    def read_segment(self, size: int) -> bytes | int: ...   # data, or a hole's length
    def write_hole(self, length: int) -> None: ...
    def finish(self) -> None: ...                          # OSError if the writes failed


def _failure(body: bytes) -> OSError:
    """The thread's error, from its FAIL packet."""
    code = _ERRNO.unpack(body)[0]
    return OSError(code, os.strerror(code))


def _open_error(path: str, err: OSError) -> QvirtError:
    return QvirtError(f"Unable to open stream for '{path}': {err.strerror}",
                      code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS)


def _open(path: str, mode: int, offset: int) -> tuple[int, bool]:
    """The volume opened at ``offset``, and whether it is a block device."""
    try:
        fd = os.open(path, mode | os.O_CLOEXEC)
    except OSError as err:
        raise _open_error(path, err) from err
    try:
        block = stat.S_ISBLK(os.fstat(fd).st_mode)
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
    except OSError as err:
        os.close(fd)
        raise QvirtError(f"Unable to seek {path} to {offset}: {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS) from err
    return fd, block


class VolumeStream:
    """One end of a volume's stream; the other is the I/O thread's. ``read_segment`` and
    ``write_hole`` carry the holes of a sparse stream; ``read`` and ``write`` are the
    DeviceStream's own (a non-sparse stream never yields a hole)."""

    def __init__(self, work: Callable[[socket.socket], None], *, sparse: bool,
                 on_close: Callable[[], None], limit: int = 0) -> None:
        self.sparse = sparse
        self._on_close = on_close
        # An upload's bound (0: none) and what was taken so far, checked as each write comes,
        # as libvirt's virFDStreamWrite checks it: up to the bound, then ENOSPC.
        self._limit = limit
        self._taken = 0
        self._sock, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for end in (self._sock, peer):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCKET_BUFFER)
        self._sock.setblocking(False)
        self._closed = False
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, args=(work, peer),
                                        name="qvirt-volstream", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[socket.socket], None], peer: socket.socket) -> None:
        with peer:
            try:
                work(peer)
            except OSError as err:
                self._error = err
                with contextlib.suppress(OSError):
                    peer.send(_FAIL + _ERRNO.pack(err.errno or errno.EIO))

    def fileno(self) -> int:
        return self._sock.fileno()

    def read_segment(self, size: int) -> bytes | int:
        """The next data chunk (b"" at the end), or the length of a hole. A packet is taken
        whole whatever ``size`` (at most CHUNK of data): a caller asking less keeps the rest
        (client/fdstream.py does; the daemon always asks CHUNK)."""
        packet = self._sock.recv(max(size, CHUNK) + 1)
        if not packet:
            return b""
        kind, body = packet[:1], packet[1:]
        if kind == _HOLE:
            return int(_HOLE_LEN.unpack(body)[0])
        if kind == _FAIL:
            raise _failure(body)
        return body

    def read(self, size: int) -> bytes:
        segment = self.read_segment(size)
        if isinstance(segment, int):
            raise OSError(errno.EINVAL, "a hole in a stream that is not sparse")
        return segment

    def _send(self, packet: bytes) -> None:
        try:
            self._sock.send(packet)
        except (BrokenPipeError, ConnectionResetError):
            self._raise_failure()

    def _raise_failure(self) -> None:
        """The thread has stopped taking data: its reason, if it left one."""
        with contextlib.suppress(BlockingIOError):
            packet = self._sock.recv(CHUNK + 1)
            if packet[:1] == _FAIL:
                raise _failure(packet[1:])
        raise OSError(errno.EPIPE, "the volume's stream ended")

    def _room(self, wanted: int) -> int:
        """How much of ``wanted`` the bound lets through; ENOSPC once it is reached."""
        if not self._limit:
            return wanted
        if self._taken == self._limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return min(wanted, self._limit - self._taken)

    def write(self, data: bytes) -> int:
        size = self._room(min(len(data), CHUNK))
        try:
            self._sock.sendmsg([_DATA, memoryview(data)[:size]])
        except (BrokenPipeError, ConnectionResetError):
            self._raise_failure()
        self._taken += size
        return size

    def write_hole(self, length: int) -> None:
        """A hole of ``length`` bytes after the data written so far; BlockingIOError while the
        thread is behind, as ``write``."""
        if not self.sparse:
            raise OSError(errno.EINVAL, "a hole in a stream that is not sparse")
        length = self._room(length)
        self._send(_HOLE + _HOLE_LEN.pack(length))
        self._taken += length

    def on_revoke(self, handler: Callable[[], None]) -> None:
        """A volume is never taken back from its stream."""

    def close(self) -> None:
        """Ends the stream: an upload's thread writes what it already took, then ends; a
        download's stops at its next packet. Waits for the thread, so the volume is settled
        (and free for its next user) once this returns."""
        if self._closed:
            return
        self._closed = True
        self._sock.close()
        self._thread.join()
        self._on_close()

    def finish(self) -> None:
        """Closes the stream, then raises the OSError that stopped the thread, if one did: an
        upload's last writes land (or fail) only after its data was all handed over."""
        self.close()
        if self._error is not None:
            raise OSError(self._error.errno, self._error.strerror)


# Download -------------------------------------------------------------------------------------

def _send_all(peer: socket.socket, fd: int, count: int) -> None:
    """Copy ``count`` bytes of data from ``fd``'s position (stops early at its end)."""
    while count > 0:
        data = os.read(fd, min(count, CHUNK))
        if not data:
            return
        peer.sendmsg([_DATA, data])
        count -= len(data)


def _in_data(fd: int, pos: int) -> tuple[bool, int]:
    """(whether ``pos`` is in data, how long that data or hole runs): libvirt's virFileInData."""
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError as err:
        if err.errno != errno.ENXIO:
            raise
        return False, os.fstat(fd).st_size - pos    # a hole to the end
    if data > pos:
        return False, data - pos
    return True, os.lseek(fd, pos, os.SEEK_HOLE) - pos


def _download_file(peer: socket.socket, fd: int, offset: int, end: int) -> None:
    pos = offset
    while pos < end:
        in_data, run = _in_data(fd, pos)
        run = min(run, end - pos)
        if run <= 0:
            return
        if in_data:
            os.lseek(fd, pos, os.SEEK_SET)
            _send_all(peer, fd, run)
        else:
            peer.sendall(_HOLE + _HOLE_LEN.pack(run))
        pos += run


def _download_block(peer: socket.socket, fd: int, count: int) -> None:
    """A block device's data with its zero runs sent as holes."""
    hole = 0
    while count > 0:
        data = os.read(fd, min(count, CHUNK))
        if not data:
            break
        count -= len(data)
        for start in range(0, len(data), _ZERO_BLOCK):
            block = data[start:start + _ZERO_BLOCK]
            if block == _ZEROS[:len(block)]:
                hole += len(block)
                continue
            if hole:
                peer.sendall(_HOLE + _HOLE_LEN.pack(hole))
                hole = 0
            peer.sendall(_DATA + block)
    if hole:
        peer.sendall(_HOLE + _HOLE_LEN.pack(hole))


def download(path: str, offset: int, length: int, *, sparse: bool,
             on_close: Callable[[], None]) -> VolumeStream:
    """``length`` bytes of the volume at ``path`` from ``offset`` (0: to its end)."""
    fd, block = _open(path, os.O_RDONLY, offset)

    def work(peer: socket.socket) -> None:
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            os.lseek(fd, offset, os.SEEK_SET)
            end = min(size, offset + length) if length else size
            if not sparse:
                _send_all(peer, fd, end - offset)
            elif block:
                _download_block(peer, fd, end - offset)
            else:
                _download_file(peer, fd, offset, end)
        except ConnectionError:
            pass   # the stream was closed before the end
        finally:
            os.close(fd)

    return VolumeStream(work, sparse=sparse, on_close=on_close)


# Upload ---------------------------------------------------------------------------------------

def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _punch(fd: int, pos: int, length: int, block: bool) -> None:
    """A hole of ``length`` at ``pos``, the position moved past it."""
    if block:
        while length > 0:
            step = min(length, CHUNK)
            _write_all(fd, _ZEROS[:step])
            length -= step
        return
    size = os.fstat(fd).st_size
    inside = min(length, max(size - pos, 0))
    if inside and _libc.fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE,
                                  pos, inside) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    if pos + length > size:
        os.ftruncate(fd, pos + length)
    os.lseek(fd, pos + length, os.SEEK_SET)


def upload(path: str, offset: int, length: int, *, sparse: bool,
           on_close: Callable[[], None]) -> VolumeStream:
    """A stream writing into the volume at ``path`` from ``offset``, at most ``length`` bytes
    (0: no bound; the stream refuses more)."""
    fd, block = _open(path, os.O_WRONLY, offset)

    def work(peer: socket.socket) -> None:
        pos = offset
        buffer = bytearray(CHUNK + 1)
        view = memoryview(buffer)
        try:
            while size := peer.recv_into(buffer):
                kind, body = buffer[:1], view[1:size]
                count = int(_HOLE_LEN.unpack(body)[0]) if kind == _HOLE else len(body)
                if kind == _HOLE:
                    _punch(fd, pos, count, block)
                else:
                    _write_all(fd, body)
                pos += count
        finally:
            os.close(fd)

    return VolumeStream(work, sparse=sparse, on_close=on_close, limit=length)
