"""One client connection of qvirtd: frames in, calls answered in order, frames out.

Each accepted client reads frames through a FrameParser: keepalive PINGs are answered at once
from the reader; CALLs go to a per-client queue whose worker runs each one in the shared thread
pool, so a client's calls are answered in order while many clients are served at once; STREAM
messages go to the stream their call opened. A frame the parser refuses closes that client
only, as libvirt's does, once the calls read before it are answered.

Three things write to the client: the worker's replies, the streams' frames (both on the
loop), and events, which drivers report from their own threads and which reach the loop
through ``push``. Replies and keepalive answers wait until the client takes them, so a client
that sends without reading stops being read instead of growing the daemon's memory; reading
also stops while max_client_requests of its calls await replies. When the client goes, its
streams close and its event registrations are dropped; CONNECT_CLOSE drops them too, and the
daemon then closes the connection once the reply is out (virNetServerClientDelayedClose).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor

from qvirt.daemon import dispatch, heap
from qvirt.daemon.dispatch import Session
from qvirt.daemon.streams import StreamRelay
from qvirt.drivers.base import DeviceStream, HypervisorDriver
from qvirt.errors import InternalError, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    FrameParser,
    Header,
    Message,
    MessageType,
    signed,
)
from qvirt.rpc.remote import Kind, error_frame, reply_frame

log = logging.getLogger("qvirt.daemon")

_STREAM_TYPES = (MessageType.STREAM, MessageType.STREAM_HOLE)
# The most one read from a client takes, and what the socket's reader buffers before it stops
# reading: a few of a stream's 256 KiB frames whole.
READ_SIZE = 1 << 20


class Client:
    """One connection: its session, its writer, the queue of calls waiting their turn, and
    the streams its calls opened."""

    def __init__(self, driver: HypervisorDriver, pool: Executor, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, read_only: bool,
                 watch: Callable[[Message], None] | None = None, max_requests: int = 5) -> None:
        self.pool = pool
        self.reader, self.writer = reader, writer
        self.loop = asyncio.get_running_loop()
        self.session = Session(driver, read_only, self.push)
        self.calls: asyncio.Queue[Message | None] = asyncio.Queue()
        # The listener's hooks (server.py): watch sees every message (the keepalive timer);
        # reading stops while max_requests calls await their replies (max_client_requests).
        self.watch = watch
        self.slots = asyncio.Semaphore(max_requests)
        self.streams: dict[tuple[int, int], StreamRelay] = {}
        self.gone = False

    def push(self, frame: bytes) -> None:
        """Send ``frame`` from any thread (drivers report events from their own)."""
        if not self.gone:
            with contextlib.suppress(RuntimeError):  # the loop has already stopped
                self.loop.call_soon_threadsafe(self._send, frame)

    def _send(self, frame: bytes) -> None:
        if not self.gone and not self.writer.is_closing():
            self.writer.write(frame)

    async def serve(self) -> None:
        worker = asyncio.create_task(self._work())
        parser = FrameParser()
        try:
            while data := await self.reader.read(READ_SIZE):
                for message in parser.messages(data):
                    await self._route(message)
                for relay in list(self.streams.values()):
                    await relay.room()
        except FrameError as err:
            log.warning("dropping client: %s", err)
        except ConnectionError:
            pass
        except asyncio.CancelledError:
            # The daemon is stopping: calls still queued are not run, and a worker waiting on a
            # client that reads nothing must not hold the shutdown.
            worker.cancel()
            self.writer.transport.abort()
            raise
        finally:
            self.gone = True
            self.calls.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            for relay in list(self.streams.values()):
                relay.close()
            await self.loop.run_in_executor(self.pool, self.session.clear_events)
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def _route(self, message: Message) -> None:
        header = message.header
        if self.watch is not None:
            self.watch(message)
        if keepalive.is_keepalive(message):
            pong = keepalive.answer(message)
            if pong is not None:
                await self._write(pong)
            return
        if header.prog != REMOTE_PROGRAM or header.vers != REMOTE_PROTOCOL_VERSION:
            # virNetServerDispatchNewMessage: an unknown program is answered, not fatal.
            if dispatch.is_call(header):
                await self._write(error_frame(header, RPCError(
                    f"Cannot find program {signed(header.prog)} version {signed(header.vers)}")))
            return
        if header.type in _STREAM_TYPES:
            # Data for a stream already closed is dropped, as libvirtd drops it.
            relay = self.streams.get((header.proc, header.serial))
            if relay is not None:
                relay.incoming(message)
            return
        if not dispatch.is_call(header):
            log.warning("ignoring message of type %d from client", header.type)
            return
        await self.slots.acquire()
        self.calls.put_nowait(message)

    async def _work(self) -> None:
        while (message := await self.calls.get()) is not None:
            header = message.header
            device: DeviceStream | None = None
            try:
                procedure, args = dispatch.prepare(self.session, message)
                if procedure.name in dispatch.INLINE:
                    ret = dispatch.run(self.session, procedure, args)
                else:
                    ret = await self.loop.run_in_executor(self.pool, dispatch.run,
                                                          self.session, procedure, args)
                if procedure.kind is Kind.STREAM:
                    device, ret = ret
                frame = reply_frame(header, procedure, ret)
            except QvirtError as err:
                frame = error_frame(header, err)
            except Exception as err:  # a bug must cost one reply, not the daemon
                log.exception("procedure %d failed", header.proc)
                frame = error_frame(header, InternalError(f"unexpected failure: {err}"))
            self.writer.write(frame)
            self.slots.release()
            if device is not None:
                self._open_stream(header, device)
            if self.session.closed:
                self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()

    async def _write(self, frame: bytes) -> None:
        """Write from the reader and wait for the client to take it."""
        self.writer.write(frame)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    def _open_stream(self, call: Header, device: DeviceStream) -> None:
        """Relay ``device`` on the stream ``call`` opened, its REPLY already written."""
        if self.gone or self.writer.is_closing():
            device.close()
            return
        relay = StreamRelay(call, device, self.writer, self._forget)
        self.streams[relay.key] = relay
        heap.stream_opened()
        relay.start()

    def _forget(self, relay: StreamRelay) -> None:
        if self.streams.pop(relay.key, None) is not None:
            heap.stream_closed()
