"""The client side of libvirt's RPC (src/rpc/virnetclient.c, virkeepalive.c): calls with serials,
replies matched to their calls, errors as the server sent them, keepalive, and events.

One reader thread owns the channel's input: it answers the server's keepalive PINGs, hands each
REPLY to the thread waiting on its serial, and queues server MESSAGEs (events) for a delivery
thread, so an event callback may call back into the connection; and it hands each STREAM frame
to the stream open on its procedure and serial (client/remote/stream.py). Any number of threads
may call at once; each call sends its frame under the channel's write lock and waits for its
own reply.
Once the stream fails, every waiting call fails with the stream's error and later calls with
libvirt's "client socket is closed".
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qvirt.client.remote.channel import Channel
from qvirt.client.remote.stream import RemoteStream
from qvirt.errors import ErrorDomain, InternalError, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import RPCError
from qvirt.rpc.keepalive import KeepaliveProc
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    FrameParser,
    Header,
    Message,
    MessageType,
    Status,
)
from qvirt.rpc.remote import (
    PROCEDURES,
    Procedure,
    RemoteError,
    call_frame,
    error_from_wire,
)
from qvirt.rpc.xdr import unpack

log = logging.getLogger("qvirt.client.remote")

# An event handler: the procedure of the server's MESSAGE and its decoded body.
EventHandler = Callable[[Procedure, Any], None]

CLOSED = "client socket is closed"
KEEPALIVE_DEAD = "connection closed due to keepalive timeout"


@dataclass
class _Pending:
    """One call in flight: set once, with the reply's payload or the error it failed with."""

    procedure: Procedure
    done: threading.Event = field(default_factory=threading.Event)
    message: Message | None = None
    error: QvirtError | None = None


class RPCClient:
    """One connection's calls over ``channel``; ``on_event`` receives the server's events on
    the delivery thread."""

    def __init__(self, channel: Channel, on_event: EventHandler) -> None:
        self.channel = channel
        self._on_event = on_event
        self._serials = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._streams: dict[tuple[int, int], RemoteStream] = {}
        self._lock = threading.Lock()
        self._closed: QvirtError | None = None
        self._unreported: QvirtError | None = None
        self._events: queue.SimpleQueue[tuple[Procedure, Any] | None] = queue.SimpleQueue()
        self._last_rx = time.monotonic()
        self._keepalive: _KeepaliveTimer | None = None
        self._reader = threading.Thread(target=self._read, name="qvirt-rpc-reader",
                                        daemon=True)
        self._deliverer = threading.Thread(target=self._deliver, name="qvirt-rpc-events",
                                           daemon=True)
        self._deliverer.start()

    @property
    def alive(self) -> bool:
        return self._closed is None

    # Calls -----------------------------------------------------------------------------

    def call(self, procedure: Procedure, args: Any = None) -> Any:
        """Send ``procedure`` with ``args``; its decoded ret, or the server's error raised."""
        return self._call(procedure, args, opens_stream=False, sparse=False)[0]

    def open_stream(self, procedure: Procedure, args: Any = None,
                    sparse: bool = False) -> tuple[Any, RemoteStream]:
        """Call a stream-opening ``procedure``: its reply and the stream, which exists before
        the call is sent, so no frame the server sends right after its reply is missed.
        ``sparse``: the stream carries holes (a volume's, asked with SPARSE_STREAM)."""
        ret, stream = self._call(procedure, args, opens_stream=True, sparse=sparse)
        assert stream is not None
        return ret, stream

    def _call(self, procedure: Procedure, args: Any,
              opens_stream: bool, sparse: bool) -> tuple[Any, RemoteStream | None]:
        pending = _Pending(procedure)
        stream = None
        with self._lock:
            if self._closed is not None:
                # The stream's own error goes to the first caller after it failed (the reader
                # may see it before any call does); later ones are told the socket is closed.
                err, self._unreported = self._unreported, None
                raise err or InternalError(CLOSED, domain=ErrorDomain.RPC)
            serial = next(self._serials)
            self._pending[serial] = pending
            if opens_stream:
                stream = RemoteStream(self, Header(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                                                   procedure.number, MessageType.CALL, serial,
                                                   Status.OK), sparse=sparse)
                self._streams[stream.key] = stream
        try:
            self.channel.send(call_frame(procedure, serial, args))
        except QvirtError as err:
            self._fail(err)
        self._start_reader()
        pending.done.wait()
        if pending.error is not None:
            if stream is not None:
                self.forget_stream(stream)
            raise pending.error
        assert pending.message is not None
        return unpack(procedure.ret, pending.message.payload), stream

    # Streams ---------------------------------------------------------------------------

    def send_frame(self, frame: bytes) -> None:
        """A stream's frame, answered by no reply of its own."""
        with self._lock:
            if self._closed is not None:
                raise self._closed
        try:
            self.channel.send(frame)
        except QvirtError as err:
            self._fail(err)
            raise

    def forget_stream(self, stream: RemoteStream) -> None:
        """The stream is done: later frames on its serial are dropped, as libvirt drops
        packets for no stream it knows."""
        with self._lock:
            if self._streams.get(stream.key) is stream:
                del self._streams[stream.key]

    # Reading ---------------------------------------------------------------------------

    def _start_reader(self) -> None:
        """The reader starts once the first call is written, as libvirt's first read follows
        its first write: a command that dies at once is then read as a reset connection with
        its stderr, whatever the scheduling."""
        with self._lock:
            if self._reader.ident is None:
                self._reader.start()

    def _read(self) -> None:
        parser = FrameParser()
        try:
            while True:
                data = self.channel.recv()
                self._last_rx = time.monotonic()
                for message in parser.feed(data):
                    self._route(message)
        except QvirtError as err:
            self._fail(err)

    def _route(self, message: Message) -> None:
        header = message.header
        if keepalive.is_keepalive(message):
            pong = keepalive.answer(message)
            if pong is not None:
                self.channel.send(pong)
            return
        if header.prog != REMOTE_PROGRAM or header.vers != REMOTE_PROTOCOL_VERSION:
            log.warning("ignoring message of program %#x version %d", header.prog, header.vers)
            return
        if header.type == MessageType.MESSAGE:
            procedure = PROCEDURES.get(header.proc)
            if procedure is None:
                log.warning("ignoring unknown event procedure %d", header.proc)
                return
            try:
                self._events.put((procedure, unpack(procedure.args, message.payload)))
            except RPCError as err:
                log.warning("ignoring undecodable event %s: %s", procedure.name, err)
            return
        if header.type in (MessageType.STREAM, MessageType.STREAM_HOLE):
            with self._lock:
                stream = self._streams.get((header.proc, header.serial))
            if stream is None:
                log.warning("ignoring stream frame for unknown serial %d", header.serial)
            else:
                stream.incoming(message)
            return
        if header.type != MessageType.REPLY:
            log.warning("ignoring message of type %d", header.type)
            return
        with self._lock:
            pending = self._pending.pop(header.serial, None)
        if pending is None:
            log.warning("ignoring reply to unknown serial %d", header.serial)
            return
        if header.status == Status.ERROR:
            pending.error = error_from_wire(unpack(RemoteError, message.payload))
        elif header.status != Status.OK:
            pending.error = RPCError(f"Unexpected message status {header.status}")
        else:
            pending.message = message
        pending.done.set()

    def _deliver(self) -> None:
        while (event := self._events.get()) is not None:
            try:
                self._on_event(*event)
            except Exception:  # a callback's bug must not stop later events
                log.exception("event callback failed")

    # Closing ---------------------------------------------------------------------------

    def _fail(self, err: QvirtError, closing: bool = False) -> None:
        """The stream is gone: fail every call in flight with ``err``, refuse later ones."""
        with self._lock:
            if self._closed is None:
                self._closed = err
                if not self._pending and not closing:
                    self._unreported = err
            pending, self._pending = self._pending, {}
            streams, self._streams = self._streams, {}
        for call in pending.values():
            call.error = err
            call.done.set()
        for stream in streams.values():
            stream.fail(err)
        self.channel.shutdown()

    def close(self) -> None:
        self._fail(InternalError(CLOSED, domain=ErrorDomain.RPC), closing=True)
        if self._keepalive is not None:
            self._keepalive.stop()
        if self._reader.ident is not None and threading.current_thread() is not self._reader:
            self._reader.join()
        self._events.put(None)
        self.channel.close()

    # Keepalive -------------------------------------------------------------------------

    def start_keepalive(self, interval: float, count: int) -> None:
        """virKeepAliveStart: after ``interval`` seconds without a frame from the server send a
        PING, and after ``count`` unanswered PINGs close the connection."""
        self.stop_keepalive()
        self._keepalive = _KeepaliveTimer(self, interval, count)

    def stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.stop()
            self._keepalive = None

    def _keepalive_tick(self, interval: float, count: int, sent: int) -> int | None:
        """One timer wake-up: how many PINGs are now unanswered, None once the peer is dead."""
        if self._closed is not None:
            return None
        if time.monotonic() - self._last_rx < interval:
            return 0
        if sent >= count:
            log.warning("No response from server after %d keepalive messages in %d seconds",
                        count, int(interval * count))
            self._fail(InternalError(KEEPALIVE_DEAD, domain=ErrorDomain.RPC))
            return None
        try:
            self.channel.send(keepalive.keepalive_frame(KeepaliveProc.PING))
        except QvirtError as err:
            self._fail(err)
            return None
        return sent + 1


class _KeepaliveTimer:
    """The thread that wakes every ``interval`` seconds for RPCClient._keepalive_tick."""

    def __init__(self, client: RPCClient, interval: float, count: int) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(client, interval, count),
                                        name="qvirt-rpc-keepalive", daemon=True)
        self._thread.start()

    def _run(self, client: RPCClient, interval: float, count: int) -> None:
        sent: int | None = 0
        while sent is not None and not self._stop.wait(interval):
            sent = client._keepalive_tick(interval, count, sent)

    def stop(self) -> None:
        self._stop.set()
