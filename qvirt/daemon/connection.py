"""One client connection of qvirtd: frames in, calls answered in order, frames out.

Each accepted client reads frames through a FrameParser: keepalive PINGs are answered at once
from the reader; CALLs go to a per-client queue whose worker runs each one in the shared thread
pool, so a client's calls are answered in order while many clients are served at once. A frame
the parser refuses closes that client only, as libvirt's does, once the calls read before it
are answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import Executor

from qvirt.daemon import dispatch
from qvirt.daemon.dispatch import Session
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import InternalError, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    FrameParser,
    Message,
    signed,
)
from qvirt.rpc.remote import error_frame, reply_frame

log = logging.getLogger("qvirt.daemon")

# libvirtd.conf's max_client_requests default: calls of one client read ahead of its replies.
MAX_CLIENT_REQUESTS = 5


class Client:
    """One connection: its session, its writer, and the queue of calls waiting their turn."""

    def __init__(self, driver: HypervisorDriver, pool: Executor, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, read_only: bool) -> None:
        self.pool = pool
        self.reader, self.writer = reader, writer
        self.session = Session(driver, read_only)
        # Bounded, as libvirtd's max_client_requests: a client that pipelines more stops
        # being read until its calls are answered, so it cannot queue unbounded memory.
        self.calls: asyncio.Queue[Message | None] = asyncio.Queue(MAX_CLIENT_REQUESTS)

    async def serve(self) -> None:
        worker = asyncio.create_task(self._work())
        parser = FrameParser()
        try:
            while data := await self.reader.read(65536):
                for message in parser.messages(data):
                    await self._route(message)
        except FrameError as err:
            log.warning("dropping client: %s", err)
        except ConnectionError:
            pass
        finally:
            await self.calls.put(None)
            await worker
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def _route(self, message: Message) -> None:
        header = message.header
        if keepalive.is_keepalive(message):
            pong = keepalive.answer(message)
            if pong is not None:
                await self._send(pong)
            return
        if header.prog != REMOTE_PROGRAM or header.vers != REMOTE_PROTOCOL_VERSION:
            # virNetServerDispatchNewMessage: an unknown program is answered, not fatal.
            if dispatch.is_call(header):
                await self._send(error_frame(header, RPCError(
                    f"Cannot find program {signed(header.prog)} version {signed(header.vers)}")))
            return
        if not dispatch.is_call(header):
            log.warning("ignoring message of type %d from client", header.type)
            return
        await self.calls.put(message)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while (message := await self.calls.get()) is not None:
            header = message.header
            try:
                procedure, args = dispatch.prepare(self.session, message)
                if procedure.name in dispatch.INLINE:
                    ret = dispatch.run(self.session, procedure, args)
                else:
                    ret = await loop.run_in_executor(self.pool, dispatch.run,
                                                     self.session, procedure, args)
                frame = reply_frame(header, procedure, ret)
            except QvirtError as err:
                frame = error_frame(header, err)
            except Exception as err:  # a bug must cost one reply, not the daemon
                log.exception("procedure %d failed", header.proc)
                frame = error_frame(header, InternalError(f"unexpected failure: {err}"))
            await self._send(frame)

    async def _send(self, frame: bytes) -> None:
        """Write and wait for the client to take it: answers it does not read stop its
        reader too, instead of piling up in the daemon's memory."""
        self.writer.write(frame)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
