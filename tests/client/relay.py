"""A loopback listener in front of a daemon's unix socket: plain TCP, or TLS terminated here with
a server certificate and client certificates checked against a CA, as libvirtd's TLS listener
checks them (and, as libvirtd does, a byte 1 sent once they pass). Each accepted connection is
piped to a fresh connection to the unix socket."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class Relay:
    """Accepts on 127.0.0.1 (an ephemeral port) until close(); ``refused`` counts the TLS
    handshakes it refused."""

    def __init__(self, target: Path, tls: ssl.SSLContext | None = None) -> None:
        self.target, self.tls = target, tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.refused = 0
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
                # libvirtd's confirmation that the client's certificate passed its checks.
                conn.sendall(b"\1")
            except (ssl.SSLError, OSError):
                self.refused += 1
                conn.close()
                return
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(str(self.target))
        self._conns += [conn, upstream]
        threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
        _pipe(conn, upstream)

    def close(self) -> None:
        self.listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


def server_context(cacert: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """libvirtd's TLS side: its own certificate, and a client certificate required and
    verified against ``cacert``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cacert)
    ctx.verify_mode = ssl.CERT_REQUIRED
    # No TLS 1.3 session tickets: libvirt's client reads the confirmation byte with one
    # non-blocking read once the socket turns readable, and a ticket record there fails it.
    ctx.num_tickets = 0
    return ctx
