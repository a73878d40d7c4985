"""qvirtd's listeners and client connections on asyncio.

Two unix sockets under <root>/run/qvirt/: qvirt-sock (0700, read-write) and qvirt-sock-ro
(0777, read-only). Each accepted client reads frames through a FrameParser: keepalive PINGs are
answered at once from the reader; CALLs go to a per-client queue whose worker runs each one in
the shared thread pool, so a client's calls are answered in order while many clients are
served at once. A frame the parser refuses closes that client only, as libvirt's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qvirt.daemon import dispatch
from qvirt.daemon.dispatch import Session
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import InternalError, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.packet import REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, FrameParser, Message
from qvirt.rpc.remote import error_frame, reply_frame

log = logging.getLogger("qvirt.daemon")

SOCK_RW = "qvirt-sock"
SOCK_RO = "qvirt-sock-ro"
# libvirtd's max_workers default: calls beyond it wait for a free worker.
MAX_WORKERS = 20


def socket_dir(root: Path) -> Path:
    return root / "run" / "qvirt"


class Client:
    """One connection: its session, its writer, and the queue of calls waiting their turn."""

    def __init__(self, server: Server, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, read_only: bool) -> None:
        self.server = server
        self.reader, self.writer = reader, writer
        self.session = Session(server.driver, read_only)
        self.calls: asyncio.Queue[Message | None] = asyncio.Queue()

    async def serve(self) -> None:
        worker = asyncio.create_task(self._work())
        parser = FrameParser()
        try:
            while data := await self.reader.read(65536):
                for message in parser.feed(data):
                    self._route(message)
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

    def _route(self, message: Message) -> None:
        header = message.header
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
        self.calls.put_nowait(message)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while (message := await self.calls.get()) is not None:
            header = message.header
            try:
                procedure, args = dispatch.prepare(self.session, message)
                ret = await loop.run_in_executor(self.server.pool, dispatch.run,
                                                 self.session, procedure, args)
                frame = reply_frame(header, procedure, ret)
            except QvirtError as err:
                frame = error_frame(header, err)
            except Exception as err:  # a bug must cost one reply, not the daemon
                log.exception("procedure %d failed", header.proc)
                frame = error_frame(header, InternalError(f"unexpected failure: {err}"))
            self.writer.write(frame)
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()


class Server:
    """The listeners, the shared driver and thread pool, and the idle timer."""

    def __init__(self, root: Path, driver: HypervisorDriver, timeout: float | None = None,
                 ) -> None:
        self.root = root
        self.driver = driver
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="qvirtd-worker")
        self.clients: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.Server] = []
        self._stop = asyncio.Event()
        self._idle: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        sock_dir = socket_dir(self.root)
        sock_dir.mkdir(parents=True, exist_ok=True)
        for name, mode, read_only in ((SOCK_RW, 0o700, False), (SOCK_RO, 0o777, True)):
            path = sock_dir / name
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

            async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             read_only: bool = read_only) -> None:
                await self._serve(Client(self, reader, writer, read_only))

            self._servers.append(await asyncio.start_unix_server(accept, path=str(path)))
            os.chmod(path, mode)
        self._arm_idle()

    async def _serve(self, client: Client) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.clients.add(task)
        self._disarm_idle()
        try:
            await client.serve()
        finally:
            self.clients.discard(task)
            if not self.clients:
                self._arm_idle()

    def _arm_idle(self) -> None:
        if self.timeout is not None and self._idle is None:
            self._idle = asyncio.get_running_loop().call_later(self.timeout, self.stop)

    def _disarm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Serve until stop(); then close listeners, clients and sockets."""
        await self.start()
        await self._stop.wait()
        for srv in self._servers:
            srv.close()
        for task in list(self.clients):
            task.cancel()
        await asyncio.gather(*self.clients, return_exceptions=True)
        for name in (SOCK_RW, SOCK_RO):
            with contextlib.suppress(FileNotFoundError):
                (socket_dir(self.root) / name).unlink()
        self.pool.shutdown(wait=True)
