"""The remote driver's streams (libvirt's virnetclientstream.c and remoteStream* in
remote_driver.c): the frames a daemon sends on a stream's procedure and serial, queued for
``recv``; data sent as frames of its own; the finish and abort handshakes.

Flow control is libvirt's client's: data goes out as fast as the socket takes it, and
whatever the daemon sends is read and queued until the application asks for it (the
daemon holds its side to a bound; see daemon/streams.py).

A sparse stream (a volume's, opened with SPARSE_STREAM) carries holes both ways, as
STREAM_HOLE frames: a received hole waits in the queue in its place, read as zeros by a plain
``recv`` and as a hole by one that stops at holes (virNetClientStreamRecvPacket).

A stream's state is libvirt's: once the daemon sent an error, every call raises it; once
finished or aborted, every call says "stream is closed".
"""

from __future__ import annotations

import threading
from collections import deque
from enum import IntEnum
from typing import Protocol

from qvirt import constants as C
from qvirt.client.stream import AT_HOLE, StreamBackend
from qvirt.errors import ErrorDomain, ErrorNumber, OperationFailed, OperationInvalid, QvirtError
from qvirt.rpc.errors import RPCError
from qvirt.rpc.packet import Header, Message, MessageType, Status, encode_message
from qvirt.rpc.remote import RemoteError, error_from_wire
from qvirt.rpc.stream import StreamHole, data_frame, end_frame, hole_frame
from qvirt.rpc.xdr import unpack

# The most data one frame carries (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, what libvirtd reads).
CHUNK = 262144


class Sender(Protocol):
    """What a stream needs of its connection: to send a frame, and to forget the stream."""

    def send_frame(self, frame: bytes) -> None: ...
    def forget_stream(self, stream: RemoteStream) -> None: ...


class Closed(IntEnum):
    """virNetClientStreamClosed."""

    NOT = 0
    FINISHED = 1
    ABORTED = 2


def _stream_error(message: Message) -> QvirtError:
    """virNetClientStreamSetError: the daemon's error, "unknown procedure" as unsupported."""
    try:
        err = error_from_wire(unpack(RemoteError, message.payload))
    except RPCError as bad:
        return bad
    if (err.domain == ErrorDomain.REMOTE and err.code == ErrorNumber.RPC
            and err.message.startswith("unknown procedure")):
        err.code = ErrorNumber.NO_SUPPORT
    return err


class RemoteStream(StreamBackend):
    """One stream a call opened: frames in from the RPC client's reader thread, calls from
    any application thread."""

    def __init__(self, sender: Sender, call: Header, sparse: bool = False) -> None:
        super().__init__()
        self._sender = sender
        self.call = call
        self.sparse = sparse
        self._cond = threading.Condition()
        self._rx: deque[bytes | int] = deque()     # data, and holes' lengths
        self._eof = False
        self._error: QvirtError | None = None
        self._closed = Closed.NOT
        self._confirmed = False

    @property
    def key(self) -> tuple[int, int]:
        return self.call.proc, self.call.serial

    # From the connection -----------------------------------------------------------------

    def incoming(self, message: Message) -> None:
        """A STREAM or STREAM_HOLE frame the daemon sent on this stream."""
        header = message.header
        with self._cond:
            if header.type == MessageType.STREAM_HOLE:
                # Only sparse volume streams carry holes; a console never asks for them.
                if not self.sparse:
                    self._error = RPCError("Unexpected stream hole")
                else:
                    try:
                        length = unpack(StreamHole, message.payload)["length"]
                    except RPCError as bad:
                        self._error = bad
                    else:
                        if length > 0:
                            self._rx.append(length)
            elif header.status == Status.CONTINUE:
                if message.payload:
                    self._rx.append(message.payload)
                else:
                    self._eof = True
            elif header.status == Status.OK:
                self._confirmed = True
            else:
                self._error = _stream_error(message)
            self._cond.notify_all()
        self._wake()

    def fail(self, err: QvirtError) -> None:
        """The connection is gone: calls waiting on the stream, and later ones, fail."""
        with self._cond:
            if self._error is None:
                self._error = err
            self._cond.notify_all()
        self._wake()

    # The API -------------------------------------------------------------------------

    def _check_state(self) -> None:
        """virNetClientStreamCheckState; under the condition's lock."""
        if self._error is not None:
            raise self._error
        if self._closed:
            raise OperationFailed("stream is closed", domain=ErrorDomain.RPC)

    def recv(self, size: int, nonblock: bool) -> bytes | None:
        got = self.recv_flags(size, nonblock, stop_at_hole=False)
        assert not isinstance(got, int)     # holes read as zeros here
        return got

    def recv_flags(self, size: int, nonblock: bool, stop_at_hole: bool) -> bytes | int | None:
        with self._cond:
            self._check_state()
            if not self._rx and not self._eof:
                if nonblock:
                    return None
                # A finish or abort from another thread ends the wait too.
                self._cond.wait_for(lambda: bool(self._rx) or self._eof
                                    or self._error is not None or bool(self._closed))
                self._check_state()
            if stop_at_hole and self._rx and isinstance(self._rx[0], int):
                return AT_HOLE
            out = bytearray()
            while self._rx and len(out) < size:
                chunk = self._rx.popleft()
                take = size - len(out)
                if isinstance(chunk, int):
                    if stop_at_hole:
                        self._rx.appendleft(chunk)
                        break
                    if chunk > take:
                        self._rx.appendleft(chunk - take)
                    out += bytes(min(chunk, take))
                    continue
                if len(chunk) > take:
                    self._rx.appendleft(chunk[take:])
                    chunk = chunk[:take]
                out += chunk
            return bytes(out)

    def recv_hole(self) -> int:
        """virNetClientStreamRecvHole: the hole the stream stopped at (0 if at data)."""
        with self._cond:
            self._check_state()
            if not self.sparse:
                raise OperationInvalid("Holes are not supported with this stream",
                                      domain=ErrorDomain.RPC)
            if self._rx and isinstance(self._rx[0], int):
                return int(self._rx.popleft())
            return 0

    def send_hole(self, length: int) -> None:
        with self._cond:
            self._check_state()
            if not self.sparse:
                raise OperationInvalid("Skipping is not supported with this stream",
                                      domain=ErrorDomain.RPC)
        self._sender.send_frame(hole_frame(self.call, length))

    def send(self, data: bytes, nonblock: bool) -> int | None:
        with self._cond:
            self._check_state()
        # An empty CONTINUE is the end of our data to the daemon: nothing to send is no frame.
        for start in range(0, len(data), CHUNK):
            self._sender.send_frame(data_frame(self.call, data[start:start + CHUNK]))
        return len(data)

    def finish(self) -> None:
        self._close(Closed.FINISHED, end_frame(self.call))

    def abort(self) -> None:
        # The client's abort: status ERROR with no error in it (remoteStreamAbort).
        header = Header(self.call.prog, self.call.vers, self.call.proc, MessageType.STREAM,
                        self.call.serial, Status.ERROR)
        self._close(Closed.ABORTED, encode_message(header))

    def _close(self, how: Closed, frame: bytes) -> None:
        """Send the finish or abort and wait for the daemon's confirmation (or its error)."""
        with self._cond:
            self._check_state()
            self._closed = how
        try:
            self._sender.send_frame(frame)
            with self._cond:
                self._cond.wait_for(lambda: self._confirmed or self._error is not None)
                if self._error is not None:
                    raise self._error
        finally:
            self._sender.forget_stream(self)

    def watch(self, mask: int) -> None:
        """Nothing to poll: every frame that arrives wakes the callback (``_wake``)."""

    def ready(self) -> int:
        with self._cond:
            readable = bool(self._rx) or self._eof or self._error is not None \
                or self._closed != Closed.NOT
        return (C.VIR_STREAM_EVENT_READABLE if readable else 0) | C.VIR_STREAM_EVENT_WRITABLE
