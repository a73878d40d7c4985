"""Streams of the in-process drivers (libvirt's virfdstream.c): the device a driver opened
(a domain's console pty, non-blocking) read and written directly by the calling thread.

A blocking stream waits for the device with select(), beside a pipe that wakes it when the
stream is closed under it (a console forced open elsewhere takes the device back, as libvirt's
virChrdevs aborts the first holder's stream). Once closed, every call but finish and abort says
"stream is not open", as an fd stream whose descriptor is gone does.

A volume's stream (vol-upload, vol-download) may be sparse: its holes are read as zeros, or
stop a read that asks to stop at holes, and holes sent are punched into the volume. Its
finish waits for the volume's writes and reports their failure.

Callbacks (``eventAddCallback``) are fed by a thread that waits on the device, as libvirt's
event loop polls an fd stream's descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
from collections.abc import Callable

from qvirt import constants as C
from qvirt.client.stream import AT_HOLE, StreamBackend
from qvirt.drivers.base import DeviceStream
from qvirt.drivers.storage.volstream import VolumeDevice
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, OperationInvalid, QvirtError


def _not_open() -> QvirtError:
    return InternalError("stream is not open", domain=ErrorDomain.STREAMS)


def _system(text: str, err: OSError) -> QvirtError:
    return QvirtError(f"{text}: {os.strerror(err.errno or errno.EIO)}",
                      code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS)


class FDStream(StreamBackend):
    HAS_CALLBACK = "stream already has a callback registered"
    NO_CALLBACK = "stream does not have a callback registered"
    ERROR_DOMAIN = ErrorDomain.STREAMS

    def __init__(self, device: DeviceStream) -> None:
        super().__init__()
        self._device = device
        self._volume = device if isinstance(device, VolumeDevice) else None
        self._sparse = self._volume is not None and self._volume.sparse
        # What a read took from the device beyond what its caller asked for: data, or the
        # rest of a hole (its length).
        self._rest: bytes | int = b""
        self._fd = device.fileno()
        self._open = True
        self._lock = threading.Lock()
        # Written once, at the close, and never drained: whoever waits wakes for good.
        self._closed_r, self._closed_w = os.pipe2(os.O_CLOEXEC)
        # Written whenever the callback's events change: the watcher drains it.
        self._kick_r, self._kick_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._watcher: threading.Thread | None = None
        device.on_revoke(self._close)

    def _wait(self, readable: bool) -> None:
        """Until the device is ready (or the stream closed under us)."""
        watched = [self._fd, self._closed_r]
        # An error: the descriptor went with a close, which the check below says.
        with contextlib.suppress(OSError, ValueError):
            select.select(watched if readable else [self._closed_r],
                          [] if readable else [self._fd], [])
        if not self._open:
            raise _not_open()

    def recv(self, size: int, nonblock: bool) -> bytes | None:
        got = self.recv_flags(size, nonblock, stop_at_hole=False)
        assert not isinstance(got, int)     # holes read as zeros here
        return got

    def recv_flags(self, size: int, nonblock: bool, stop_at_hole: bool) -> bytes | int | None:
        while True:
            if not self._open:
                raise _not_open()
            if self._rest:
                return self._take(size, stop_at_hole)
            try:
                if self._volume is None:
                    return self._device.read(size)
                self._rest = self._volume.read_segment(size)
                if not self._rest:
                    return b""
                continue
            except BlockingIOError:
                if nonblock:
                    return None
            except OSError as err:
                if not self._open:
                    raise _not_open() from None
                raise _system("cannot read from stream", err) from None
            self._wait(readable=True)

    def _take(self, size: int, stop_at_hole: bool) -> bytes | int:
        """Up to ``size`` bytes of what the last read left; a hole as zeros, or AT_HOLE."""
        rest = self._rest
        if isinstance(rest, int):
            if stop_at_hole:
                return AT_HOLE
            take = min(size, rest)
            self._rest = rest - take
            return bytes(take)
        self._rest = rest[size:]
        return rest[:size]

    def recv_hole(self) -> int:
        if not self._sparse:
            raise OperationInvalid("Holes are not supported with this stream",
                                   domain=ErrorDomain.STREAMS)
        if isinstance(self._rest, int):
            length, self._rest = self._rest, b""
            return length
        return 0

    def send_hole(self, length: int) -> None:
        if not self._sparse or self._volume is None:
            raise OperationInvalid("Skipping is not supported with this stream",
                                   domain=ErrorDomain.STREAMS)
        while True:
            if not self._open:
                raise _not_open()
            try:
                self._volume.write_hole(length)
                return
            except BlockingIOError:
                pass
            except OSError as err:
                raise _system("cannot write to stream", err) from None
            self._wait(readable=False)

    def send(self, data: bytes, nonblock: bool) -> int | None:
        sent = 0
        while sent < len(data):
            if not self._open:
                raise _not_open()
            try:
                sent += self._device.write(data[sent:])
                continue
            except BlockingIOError:
                if nonblock:
                    return sent or None
            except OSError as err:
                if not self._open:
                    raise _not_open() from None
                raise _system("cannot write to stream", err) from None
            self._wait(readable=False)
        return sent

    def finish(self) -> None:
        if self._volume is not None and self._open:
            try:
                self._volume.finish()
            except OSError as err:
                raise _system("cannot write to stream", err) from None
            finally:
                self._close()
        self._close()

    def abort(self) -> None:
        # virFDStreamCloseInt: an abort tells a callback waiting for data of the error.
        notify = self._notify
        if self._open and notify is not None and self._mask & (C.VIR_STREAM_EVENT_READABLE
                                                                | C.VIR_STREAM_EVENT_WRITABLE):
            notify(C.VIR_STREAM_EVENT_ERROR)
        self._close()

    def _close(self) -> None:
        """Release the device and wake whatever waits on it; a second close does nothing."""
        with self._lock:
            if not self._open:
                return
            self._open = False
        os.write(self._closed_w, b"x")
        self._idle.set()
        self._device.close()

    def __del__(self) -> None:
        """The pipes outlive the close: a thread may still be waiting on them then."""
        for name in ("_closed_r", "_closed_w", "_kick_r", "_kick_w"):
            with contextlib.suppress(AttributeError, OSError):
                os.close(getattr(self, name))

    def ready(self) -> int:
        if not self._open:
            return 0
        if self._rest:
            return C.VIR_STREAM_EVENT_READABLE | C.VIR_STREAM_EVENT_WRITABLE
        try:
            r, w, _ = select.select([self._fd], [self._fd], [], 0)
        except (OSError, ValueError):
            return 0
        return ((C.VIR_STREAM_EVENT_READABLE if r else 0)
                | (C.VIR_STREAM_EVENT_WRITABLE if w else 0))

    # Callbacks -------------------------------------------------------------------------

    def add_callback(self, mask: int, notify: Callable[[int], None]) -> None:
        if not self._open:
            raise _not_open()
        super().add_callback(mask, notify)

    def update_callback(self, mask: int) -> None:
        if not self._open:
            raise _not_open()
        super().update_callback(mask)

    def remove_callback(self) -> None:
        if not self._open:
            raise _not_open()
        super().remove_callback()

    def watch(self, mask: int) -> None:
        with self._lock:
            if self._open and mask and self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="qvirt-fdstream",
                                                 daemon=True)
                self._watcher.start()
        with contextlib.suppress(BlockingIOError):
            os.write(self._kick_w, b"x")  # a watcher re-reads the mask

    def _watch(self) -> None:
        """Wait for what the callback asks for, schedule it, wait until it ran; again."""
        while True:
            self._idle.wait()
            mask = self._mask
            if not self._open or not mask:
                break
            reads = [self._closed_r, self._kick_r]
            if mask & C.VIR_STREAM_EVENT_READABLE:
                reads.append(self._fd)
            writes = [self._fd] if mask & C.VIR_STREAM_EVENT_WRITABLE else []
            try:
                ready, _, _ = select.select(reads, writes, [])
                if self._kick_r in ready:
                    os.read(self._kick_r, 4096)
            except (OSError, ValueError):
                break
            self._wake()
        with self._lock:
            self._watcher = None
