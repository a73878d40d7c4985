"""qvirtd's listeners on asyncio: two unix sockets under <root>/run/qvirt/, qvirt-sock
(0700, read-write) and qvirt-sock-ro (0777, read-only), each accepted client served by a
connection.Client; the shared driver and thread pool; the idle timer of session mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qvirt.daemon.connection import Client
from qvirt.drivers.base import HypervisorDriver
from qvirt.util.sockets import SOCK_RO, SOCK_RW, root_socket_dir

# libvirtd's max_workers default: calls beyond it wait for a free worker.
MAX_WORKERS = 20


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
        sock_dir = root_socket_dir(self.root)
        sock_dir.mkdir(parents=True, exist_ok=True)
        for name, mode, read_only in ((SOCK_RW, 0o700, False), (SOCK_RO, 0o777, True)):
            path = sock_dir / name
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

            async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             read_only: bool = read_only) -> None:
                await self._serve(Client(self.driver, self.pool, reader, writer, read_only))

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
                (root_socket_dir(self.root) / name).unlink()
        self.pool.shutdown(wait=True)
