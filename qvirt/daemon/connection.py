"""One client connection of qvirtd: frames in, calls answered in order, frames out.

Each accepted client reads frames through a FrameParser: keepalive PINGs are answered at once
from the reader; CALLs go to a per-client queue whose worker runs each one in the shared thread
pool, so a client's calls are answered in order while many clients are served at once. A frame
the parser refuses closes that client only, as libvirt's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor

from qvirt.daemon import dispatch
from qvirt.daemon.dispatch import Session
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import InternalError, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.packet import REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, FrameParser, Message
from qvirt.rpc.remote import error_frame, reply_frame

log = logging.getLogger("qvirt.daemon")


class Client:
    """One connection: its session, its writer, and the queue of calls waiting their turn."""

    def __init__(self, driver: HypervisorDriver, pool: Executor, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, read_only: bool,
                 watch: Callable[[Message], None] | None = None, max_requests: int = 5) -> None:
        self.pool = pool
        self.reader, self.writer = reader, writer
        self.session = Session(driver, read_only)
        self.calls: asyncio.Queue[Message | None] = asyncio.Queue()
        # The listener's hooks (server.py): watch sees every message (the keepalive timer);
        # reading stops while max_requests calls await their replies (max_client_requests).
        self.watch = watch
        self.slots = asyncio.Semaphore(max_requests)

    async def serve(self) -> None:
        worker = asyncio.create_task(self._work())
        parser = FrameParser()
        try:
            while data := await self.reader.read(65536):
                for message in parser.feed(data):
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
        if self.watch is not None:
            self.watch(message)
        if keepalive.is_keepalive(message):
            pong = keepalive.answer(message)
            if pong is not None:
                self.writer.write(pong)
            return
        if header.prog != REMOTE_PROGRAM or header.vers != REMOTE_PROTOCOL_VERSION:
            # virNetServerDispatchNewMessage: an unknown program is answered, not fatal.
            if dispatch.is_call(header):
                self.writer.write(error_frame(header, RPCError(
                    f"Cannot find program {header.prog} version {header.vers}")))
            return
        if not dispatch.is_call(header):
            log.warning("ignoring message of type %d from client", header.type)
            return
        await self.slots.acquire()
        self.calls.put_nowait(message)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while (message := await self.calls.get()) is not None:
            header = message.header
            try:
                procedure, args = dispatch.prepare(self.session, message)
                ret = await loop.run_in_executor(self.pool, dispatch.run,
                                                 self.session, procedure, args)
                frame = reply_frame(header, procedure, ret)
            except QvirtError as err:
                frame = error_frame(header, err)
            except Exception as err:  # a bug must cost one reply, not the daemon
                log.exception("procedure %d failed", header.proc)
                frame = error_frame(header, InternalError(f"unexpected failure: {err}"))
            self.writer.write(frame)
            self.slots.release()
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()
