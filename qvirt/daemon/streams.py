"""Streams between a client and a device a driver opened for it (libvirtd's daemonClientStream,
remote_daemon_stream.c): the device's bytes go out as STREAM frames on the procedure and serial
of the call that opened the stream, and the client's come in the same way.

Flow control holds memory to a fixed bound whatever either side does:
- device -> client: one chunk is read and framed; the device is read again only once the
  client's socket has taken it (the writer drained), so a slow client leaves the data in the
  device (a pty holds it, and the guest waits), never in the daemon;
- client -> device: data waits in a bounded backlog while the device is full; while any stream's
  backlog is over its bound the connection stops reading the client's socket (``room``).

A sparse volume stream (vol-upload and vol-download with the SPARSE_STREAM flag) carries holes
too, as STREAM_HOLE messages in both directions, in their place between the data; a hole from
the client on any other stream drops the client, as under libvirtd.

A client ends a stream with a finish (status OK, once its data is written) or an abort (status
ERROR, its unwritten data dropped); either is confirmed with an empty OK. The device's end of
data goes out as an empty CONTINUE and the stream waits for the client's finish. A driver that
takes the device back (a console forced open elsewhere) ends the stream with an error frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections import deque
from collections.abc import Callable

from qvirt.drivers.base import DeviceStream
from qvirt.drivers.storage.volstream import VolumeDevice
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.packet import Header, Message, MessageType, Status
from qvirt.rpc.remote import error_frame as reply_error_frame
from qvirt.rpc.stream import StreamHole, data_frame, end_frame, error_frame, hole_frame
from qvirt.rpc.xdr import unpack

log = logging.getLogger("qvirt.daemon")

# VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: the most libvirtd reads from a device for one frame.
CHUNK = 262144
# Client data held for a full device before the connection stops reading the client.
BACKLOG = 4 * CHUNK


def io_failure() -> QvirtError:
    """What libvirtd tells the client when the device fails under the stream."""
    return RPCError("stream had I/O failure", domain=ErrorDomain.STREAMS)


def volume_failure(action: str, err: OSError) -> QvirtError:
    """A volume's stream failing: virFDStreamRead's and virFDStreamWrite's words."""
    return QvirtError(f"cannot {action} stream: {os.strerror(err.errno or errno.EIO)}",
                      code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STREAMS)


class StreamRelay:
    """One open stream of one client. Everything runs on the connection's loop; only the
    driver's revocation arrives from another thread, through call_soon_threadsafe."""

    def __init__(self, call: Header, device: DeviceStream, writer: asyncio.StreamWriter,
                 on_close: Callable[[StreamRelay], None]) -> None:
        self.call = call
        self._on_close = on_close
        self._device = device
        self._fd = device.fileno()
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._volume = device if isinstance(device, VolumeDevice) else None
        self._sparse = self._volume is not None and self._volume.sparse
        self._backlog: deque[bytes | int] = deque()    # data, and holes' lengths
        self._backlog_size = 0
        self._room = asyncio.Event()
        self._room.set()
        self._reading = self._writing = False
        self._finishing = False        # the client's finish waits for the backlog to go out
        self._sender: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def key(self) -> tuple[int, int]:
        return self.call.proc, self.call.serial

    def start(self) -> None:
        self._device.on_revoke(self._revoke_soon)
        self._read_when_ready()

    def _revoke_soon(self) -> None:
        """The driver's revocation, from its thread; a loop already gone has nothing to end."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._revoked)

    async def room(self) -> None:
        """Returns once the client may send more data for this stream."""
        await self._room.wait()

    # device -> client -------------------------------------------------------------------

    def _read_when_ready(self) -> None:
        if not self.closed and not self._reading:
            self._reading = True
            self._loop.add_reader(self._fd, self._readable)

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._fd)

    def _readable(self) -> None:
        try:
            if self._sparse and self._volume is not None:
                segment = self._volume.read_segment(CHUNK)
            else:
                segment = self._device.read(CHUNK)
        except BlockingIOError:
            return
        except OSError as err:
            log.warning("stream device failed: %s", err)
            self._fail(volume_failure("read from", err))
            return
        self._stop_reading()
        if isinstance(segment, int):
            self._writer.write(hole_frame(self.call, segment))
        else:
            self._writer.write(data_frame(self.call, segment))
        if segment:
            self._sender = asyncio.create_task(self._resume_reading())

    async def _resume_reading(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()
            self._read_when_ready()

    # client -> device -------------------------------------------------------------------

    def incoming(self, message: Message) -> None:
        """A STREAM or STREAM_HOLE message the client sent on this stream."""
        header = message.header
        if self.closed:
            return
        if header.type == MessageType.STREAM_HOLE:
            # Only sparse volume streams take holes; libvirtd drops the client for one.
            if not self._sparse:
                raise FrameError("Unexpected stream hole")
            length = unpack(StreamHole, message.payload)["length"]
            if length < 0:
                self._fail()
                return
            self._queue(length)
        elif header.status == Status.CONTINUE:
            self._queue(message.payload)
        elif header.status == Status.OK:
            self._finishing = True
            self._flush()
        elif header.status == Status.ERROR:
            self._end(end_frame(self.call))
        else:
            self._end(reply_error_frame(header, RPCError(
                f"stream aborted with unexpected status {header.status}",
                domain=ErrorDomain.STREAMS)))

    def _queue(self, item: bytes | int) -> None:
        if item:
            self._backlog.append(item)
            if isinstance(item, bytes):
                self._backlog_size += len(item)
        self._flush()

    def _flush(self) -> None:
        while self._backlog:
            head = self._backlog[0]
            try:
                if isinstance(head, int):
                    assert self._volume is not None    # holes are queued on sparse streams only
                    self._volume.write_hole(head)
                    self._backlog.popleft()
                    continue
                # Frames are at most CHUNK: slicing (a copy) is for the rest of a partial write.
                written = self._device.write(head if len(head) <= CHUNK else head[:CHUNK])
            except BlockingIOError:
                break
            except OSError as err:
                log.warning("stream device failed: %s", err)
                self._fail(volume_failure("write to", err))
                return
            self._backlog_size -= written
            if written == len(head):
                self._backlog.popleft()
            else:
                self._backlog[0] = head[written:]
        if self._backlog:
            if not self._writing:
                self._writing = True
                self._loop.add_writer(self._fd, self._flush)
        elif self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        if self._backlog_size < BACKLOG:
            self._room.set()
        else:
            self._room.clear()
        if self._finishing and not self._backlog:
            self._finish()

    def _finish(self) -> None:
        """The client's finish, its data all handed over: a volume's writes must have landed
        before the finish is confirmed (libvirt's virFDStreamClose waits for its thread)."""
        if self._volume is not None:
            try:
                self._volume.finish()
            except OSError as err:
                log.warning("stream device failed: %s", err)
                self._fail(volume_failure("write to", err))
                return
        self._end(end_frame(self.call))

    # ends -------------------------------------------------------------------------------

    def _revoked(self) -> None:
        if not self.closed:
            self._fail()

    def _fail(self, volume_error: QvirtError | None = None) -> None:
        """The stream's failure: a volume's in its own words, any other device's as
        libvirtd words it."""
        error = volume_error if self._volume is not None and volume_error else io_failure()
        self._end(error_frame(self.call, error))

    def _end(self, last: bytes) -> None:
        """Send the stream's last frame and let the device go."""
        if self.closed:
            return
        self.close()
        self._writer.write(last)

    def close(self) -> None:
        """Stop relaying and release the device; the client is gone or the stream is done."""
        if self.closed:
            return
        self.closed = True
        self._stop_reading()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        if self._sender is not None:
            self._sender.cancel()
        self._backlog.clear()
        self._backlog_size = 0
        self._room.set()
        self._device.close()
        self._on_close(self)
