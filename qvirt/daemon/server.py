"""qvirtd's listeners on asyncio, as libvirtd's daemonSetupNetworking sets them up.

Two unix sockets in the layout's run directory, qvirt-sock (read-write, unix_sock_rw_perms,
0700) and qvirt-sock-ro (read-only, unix_sock_ro_perms, 0777), both owned by unix_sock_group
when set; with listen_tcp a TCP listener on tcp_port (16509), with listen_tls a TLS one on
tls_port (16514), both on listen_addr or every address. Each accepted stream is served by a
connection.Client, with the server's keepalive timer watching it. Limits: max_clients
connections at once (more are closed at accept, with libvirt's log line), max_workers
threads shared by every client, max_client_requests calls read ahead per client. The idle
timer of session mode stops the daemon once no client has been connected for ``timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from qvirt.daemon.conffile import system_error
from qvirt.daemon.config import DaemonConfig
from qvirt.daemon.connection import READ_SIZE, Client
from qvirt.daemon.keepalive import KeepAlive
from qvirt.daemon.layout import Layout
from qvirt.drivers.base import HypervisorDriver

if TYPE_CHECKING:
    import ssl
from qvirt.errors import InternalError

log = logging.getLogger("qvirt.daemon.server")

Accept = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def parse_mode(text: str) -> int:
    try:
        return int(text, 8)
    except ValueError:
        raise InternalError(f"Failed to parse mode '{text}'") from None


def group_id(name: str) -> int:
    """virGetGroupID: a group name, or a number."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    if name.isdigit():
        return int(name)
    raise InternalError(f"Failed to parse group '{name}'")


class Server:
    """The listeners, the shared driver and thread pool, and the idle timer."""

    def __init__(self, layout: Layout, driver: HypervisorDriver, config: DaemonConfig,
                 timeout: float | None = None) -> None:
        self.layout = layout
        self.driver = driver
        self.config = config
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(config.max_workers, thread_name_prefix="qvirtd-worker")
        self.clients: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.Server] = []
        self._stop = asyncio.Event()
        self._idle: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Bind every listener; an error leaves none bound."""
        try:
            await self._start_unix()
            if self.config.listen_tcp:
                await self._start_ip(self.config.tcp_port, None)
            if self.config.listen_tls:
                # ssl (and OpenSSL's libraries, 5 MB) only for a TLS listener: see launch.py.
                from qvirt.daemon import tls
                context = tls.server_context(self.config, self.layout.pki)
                await self._start_ip(self.config.tls_port, context)
        except BaseException:
            self._close_listeners()
            raise
        self._arm_idle()

    async def _start_unix(self) -> None:
        rw_mode = parse_mode(self.config.unix_sock_rw_perms)
        ro_mode = parse_mode(self.config.unix_sock_ro_perms)
        gid = group_id(self.config.unix_sock_group) if self.config.unix_sock_group else -1
        self.layout.run.mkdir(parents=True, exist_ok=True)
        for path, mode, read_only in ((self.layout.sock_rw, rw_mode, False),
                                      (self.layout.sock_ro, ro_mode, True)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            server = await asyncio.start_unix_server(self._acceptor(read_only), path=str(path),
                                                     limit=READ_SIZE)
            self._servers.append(server)
            os.chmod(path, mode)
            if gid != -1:
                os.chown(path, -1, gid)
            log.info("listening on %s", path)

    async def _start_ip(self, port: str, context: ssl.SSLContext | None) -> None:
        try:
            server = await asyncio.start_server(self._acceptor(False, context),
                                                host=self.config.listen_addr, port=port,
                                                limit=READ_SIZE)
        except OSError as err:
            raise system_error("Unable to bind to port", err) from err
        self._servers.append(server)
        for sock in server.sockets:
            log.info("listening on %s%s", _address(sock.getsockname()),
                     " (TLS)" if context else "")

    def _acceptor(self, read_only: bool, context: ssl.SSLContext | None = None) -> Accept:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if len(self.clients) >= self.config.max_clients:
                log.error("Too many active clients (%d), dropping connection from %s",
                          self.config.max_clients, _peer(writer))
                writer.close()
                return
            log.debug("new client from %s", _peer(writer))
            if context is None:
                await self._serve(reader, writer, read_only)
                return

            async def serve(plain_reader: asyncio.StreamReader,
                            plain_writer: asyncio.StreamWriter) -> None:
                await self._serve(plain_reader, plain_writer, read_only)

            from qvirt.daemon import tls
            await tls.serve_tls(reader, writer, context, serve)
        return accept

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     read_only: bool) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.clients.add(task)
        self._disarm_idle()
        keepalive = None
        if self.config.keepalive_interval > 0:
            keepalive = KeepAlive(self.config.keepalive_interval, self.config.keepalive_count,
                                  writer.write, writer.transport.abort)
        client = Client(self.driver, self.pool, reader, writer, read_only,
                        watch=keepalive.watch if keepalive else None,
                        max_requests=max(1, self.config.max_client_requests))
        try:
            await client.serve()
        finally:
            if keepalive is not None:
                keepalive.stop()
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

    def _close_listeners(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()
        for path in (self.layout.sock_rw, self.layout.sock_ro):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    async def serve_until_stopped(self) -> None:
        """After start(): serve until stop(); then close listeners, clients and sockets."""
        await self._stop.wait()
        self._close_listeners()
        for task in list(self.clients):
            task.cancel()
        await asyncio.gather(*self.clients, return_exceptions=True)
        self.pool.shutdown(wait=True)


def _address(name: object) -> str:
    """libvirt's "address;port" for IP ends; a unix client has no address worth naming."""
    if isinstance(name, tuple) and len(name) >= 2:
        return f"{name[0]};{name[1]}"
    return "unix socket"


def _peer(writer: asyncio.StreamWriter) -> str:
    return _address(writer.get_extra_info("peername"))
