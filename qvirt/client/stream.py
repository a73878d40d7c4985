"""Streams in the public API (libvirt's virStream, libvirt-stream.c): ``conn.newStream()`` makes
an unattached stream, a stream-opening call (``dom.openConsole``) attaches a driver's stream
to it, and ``recv``/``send``/``finish``/``abort`` go to that.

Each driver brings its own stream, as each libvirt driver brings a virStreamDriver: the remote
driver's speaks stream frames to the daemon (client/remote/stream.py), the in-process QEMU
driver's reads and writes the device it opened (client/fdstream.py). Their errors differ as
libvirt's do: a remote stream once finished says "stream is closed", a local one "stream is
not open". A stream nothing is attached to refuses every call but abort as unsupported.

Stream event callbacks (``eventAddCallback``) run on the application's event loop
(client/events.py), level-triggered as libvirt's are: while the stream stays readable (or
writable, if asked), the callback is called again after each return.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qvirt import constants as C
from qvirt.client import entry, events
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InternalError,
    InvalidArg,
    NoSupport,
    QvirtError,
)

if TYPE_CHECKING:
    from qvirt.client.api import virConnect

# virStorageVol.streamBufSize in libvirt-python: the chunk recvAll and sendAll move.
BUF_SIZE = 262120

# virStreamRecvFlags' answer where the stream stopped at a hole.
AT_HOLE = -3

# libvirt-python's stream callback: (stream, events, opaque).
StreamHandler = Callable[["virStream", int, Any], Any]


class StreamBackend(ABC):
    """One driver's side of an open stream (libvirt's virStreamDriver). ``recv`` and ``send``
    answer None where a non-blocking stream would block. Subclasses call ``_wake`` when what
    ``ready`` answers may have changed. The texts of callback misuse are the driver's."""

    HAS_CALLBACK = "multiple stream callbacks not supported"
    NO_CALLBACK = "no stream callback registered"
    ERROR_DOMAIN: int = ErrorDomain.RPC

    def __init__(self) -> None:
        self._notify: Callable[[int], None] | None = None
        self._mask = 0
        self._scheduled = False
        self._cb_lock = threading.Lock()
        # Set while no callback waits to run: a backend that polls waits for it.
        self._idle = threading.Event()
        self._idle.set()

    @abstractmethod
    def recv(self, size: int, nonblock: bool) -> bytes | None: ...

    @abstractmethod
    def send(self, data: bytes, nonblock: bool) -> int | None: ...

    def recv_flags(self, size: int, nonblock: bool, stop_at_hole: bool) -> bytes | int | None:
        """``recv``, which for a sparse stream may stop at a hole (answering AT_HOLE)."""
        return self.recv(size, nonblock)

    def recv_hole(self) -> int:
        raise NoSupport("virStreamRecvHole", domain=ErrorDomain.STREAMS)

    def send_hole(self, length: int) -> None:
        raise NoSupport("virStreamSendHole", domain=ErrorDomain.STREAMS)

    @abstractmethod
    def finish(self) -> None: ...

    @abstractmethod
    def abort(self) -> None: ...

    @abstractmethod
    def ready(self) -> int:
        """The VIR_STREAM_EVENT_* bits that hold now."""

    @abstractmethod
    def watch(self, mask: int) -> None:
        """The events a callback now waits for (0: none): a backend that must poll for them
        starts or stops polling here."""

    # Callbacks -------------------------------------------------------------------------

    def add_callback(self, mask: int, notify: Callable[[int], None]) -> None:
        if self._notify is not None:
            raise InternalError(self.HAS_CALLBACK, domain=self.ERROR_DOMAIN)
        if not events.registered():
            # virEventAddTimeout without an event implementation fails with no error set,
            # which libvirt-python reports in virErrorMsg's words for "no error".
            err = QvirtError(code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.NONE)
            err.message = "An error occurred, but the cause is unknown"
            err.args = (err.message,)
            raise err
        self._notify, self._mask = notify, mask
        self.watch(mask)
        self._wake()

    def update_callback(self, mask: int) -> None:
        if self._notify is None:
            raise InternalError(self.NO_CALLBACK, domain=self.ERROR_DOMAIN)
        self._mask = mask
        self.watch(mask)
        self._wake()

    def remove_callback(self) -> None:
        if self._notify is None:
            raise InternalError(self.NO_CALLBACK, domain=self.ERROR_DOMAIN)
        self._notify, self._mask = None, 0
        self.watch(0)

    def _wake(self) -> None:
        """Schedule the callback on the event loop if it has something to say and is not
        already scheduled."""
        with self._cb_lock:
            if self._notify is None or self._scheduled or not self.ready() & self._mask:
                return
            self._scheduled = True
            self._idle.clear()
        events.dispatch(self._deliver)

    def _deliver(self) -> None:
        with self._cb_lock:
            self._scheduled = False
            notify, due = self._notify, self.ready() & self._mask
        if notify is not None and due:
            notify(due)
            self._wake()
        with self._cb_lock:
            if not self._scheduled:
                self._idle.set()


class virStream:
    """libvirt-python's virStream."""

    def __init__(self, conn: virConnect, flags: int = 0) -> None:
        self._conn = conn
        self._flags = flags
        self._backend: StreamBackend | None = None
        self.cb: StreamHandler | None = None

    def connect(self) -> virConnect:
        return self._conn

    def _attach(self, backend: StreamBackend | None) -> None:
        """What a stream-opening call does to its stream: the driver's stream replaces any
        before it (None once such a call failed, as libvirt's remote driver leaves it)."""
        self._backend = backend

    def _run(self, api: str, action: Callable[[StreamBackend], Any]) -> Any:
        try:
            if self._backend is None:
                raise NoSupport(api, domain=ErrorDomain.STREAMS)
            return action(self._backend)
        except QvirtError as err:
            entry.report(err)
            raise

    @property
    def _nonblock(self) -> bool:
        return bool(self._flags & C.VIR_STREAM_NONBLOCK)

    def recv(self, nbytes: int) -> bytes | int:
        """The next bytes, at most ``nbytes``; b"" at the end of the stream; -2 where a
        non-blocking stream has nothing yet."""
        got = self._run("virStreamRecv", lambda b: b.recv(nbytes, self._nonblock))
        return -2 if got is None else bytes(got)

    def recvFlags(self, nbytes: int, flags: int = 0) -> bytes | int:
        """virStreamRecvFlags: with VIR_STREAM_RECV_STOP_AT_HOLE, -3 where a hole comes
        next (its length from ``recvHole``); else as ``recv``, holes read as zeros."""
        stop = bool(flags & C.VIR_STREAM_RECV_STOP_AT_HOLE)
        got = self._run("virStreamRecvFlags",
                        lambda b: b.recv_flags(nbytes, self._nonblock, stop))
        if got is None:
            return -2
        return got if isinstance(got, int) else bytes(got)

    def recvHole(self, flags: int = 0) -> int:
        return int(self._run("virStreamRecvHole", lambda b: b.recv_hole()))

    def sendHole(self, length: int, flags: int = 0) -> int:
        if length < 0:
            err = InvalidArg(f"length in virStreamSendHole must be greater than or equal "
                             f"to 0, but is {length}", domain=ErrorDomain.STREAMS)
            entry.report(err)
            raise err
        self._run("virStreamSendHole", lambda b: b.send_hole(length))
        return 0

    def send(self, data: bytes) -> int:
        sent = self._run("virStreamSend", lambda b: b.send(bytes(data), self._nonblock))
        return -2 if sent is None else int(sent)

    def finish(self) -> int:
        self._run("virStreamFinish", lambda b: b.finish())
        return 0

    def abort(self) -> int:
        if self._backend is None:
            return 0  # virStreamAbort: an unused stream has nothing to abort
        self._run("virStreamAbort", lambda b: b.abort())
        return 0

    def recvAll(self, handler: Callable[[virStream, bytes, Any], Any], opaque: Any) -> None:
        while True:
            got = self.recv(BUF_SIZE)
            if isinstance(got, int):
                raise QvirtError("cannot use recvAll with nonblocking stream")
            if not got:
                return
            try:
                ret = handler(self, got, opaque)
                if isinstance(ret, int) and ret < 0:
                    raise RuntimeError(f"recvAll handler returned {ret}")
            except BaseException:
                self._abort_quietly()
                raise

    def sendAll(self, handler: Callable[[virStream, int, Any], bytes], opaque: Any) -> None:
        while True:
            try:
                got = handler(self, BUF_SIZE, opaque)
            except BaseException:
                self._abort_quietly()
                raise
            if not got:
                return
            if self.send(got) == -2:
                raise QvirtError("cannot use sendAll with nonblocking stream")

    def sparseRecvAll(self, handler: Callable[[virStream, bytes, Any], Any],
                      holeHandler: Callable[[virStream, int, Any], Any], opaque: Any) -> None:
        """libvirt-python's: data to ``handler``, each hole's length to ``holeHandler``."""
        while True:
            got = self.recvFlags(BUF_SIZE, C.VIR_STREAM_RECV_STOP_AT_HOLE)
            if got == -2:
                raise QvirtError("cannot use sparseRecvAll with nonblocking stream")
            try:
                if got == AT_HOLE:
                    ret = holeHandler(self, self.recvHole(), opaque)
                    if isinstance(ret, int) and ret < 0:
                        raise RuntimeError(f"holeHandler handler returned {ret}")
                    continue
                assert isinstance(got, bytes)
                if not got:
                    return
                ret = handler(self, got, opaque)
                if isinstance(ret, int) and ret < 0:
                    raise RuntimeError(f"sparseRecvAll handler returned {ret}")
            except BaseException:
                self._abort_quietly()
                raise

    def sparseSendAll(self, handler: Callable[[virStream, int, Any], bytes],
                      holeHandler: Callable[[virStream, Any], Any],
                      skipHandler: Callable[[virStream, int, Any], Any], opaque: Any) -> None:
        """libvirt-python's: ``holeHandler`` says where the source is ([in data, section
        length]); a hole is sent and skipped, data read by ``handler`` and sent; data of
        length 0 is the end."""
        while True:
            try:
                section = holeHandler(self, opaque)
                if len(section) != 2:
                    raise ValueError("holeHandler must return list of 2 elements")
                in_data, length = section
                if not in_data and length > 0:
                    self.sendHole(length)
                    if skipHandler(self, length, opaque) < 0:
                        raise RuntimeError("skipHandler failed")
                    continue
                got = handler(self, min(BUF_SIZE, length), opaque)
            except BaseException:
                self._abort_quietly()
                raise
            if not got:
                return
            if self.send(got) == -2:
                raise QvirtError("cannot use sparseSendAll with nonblocking stream")

    def _abort_quietly(self) -> None:
        with contextlib.suppress(QvirtError):
            self.abort()

    # Events --------------------------------------------------------------------------

    def eventAddCallback(self, events: int, cb: StreamHandler, opaque: Any) -> None:
        self.cb = cb
        self._run("virStreamEventAddCallback",
                  lambda b: b.add_callback(events, lambda due: cb(self, due, opaque)))

    def eventUpdateCallback(self, events: int) -> int:
        self._run("virStreamEventUpdateCallback", lambda b: b.update_callback(events))
        return 0

    def eventRemoveCallback(self) -> int:
        self._run("virStreamEventRemoveCallback", lambda b: b.remove_callback())
        return 0
