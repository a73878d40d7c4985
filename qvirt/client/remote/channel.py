"""A connected byte stream to a daemon, as libvirt's virNetSocket is one: a socket (unix or TCP),
TLS over a TCP socket, or one end of a socketpair whose other end is a command's stdin and stdout
(ssh, ext). One thread may read while others write.

Failures carry virnetsocket.c's texts. When a command is the far end, its stderr (up to 1 KiB,
read when the stream fails) is quoted in the error, as libvirt quotes it: "Cannot recv data: ssh:
connect to host h port 22: Connection refused: Connection reset by peer".
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import socket
import ssl
import subprocess
import threading
from typing import IO

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

READ_SIZE = 65536
ERROUT_MAX = 1024
# How long a command gets to exit after SIGTERM before SIGKILL (virPidAbort's patience).
ABORT_WAIT = 2.0


def system_error(text: str, err: int) -> QvirtError:
    """virReportSystemError: the text, then strerror."""
    return QvirtError(f"{text}: {os.strerror(err)}", code=ErrorNumber.SYSTEM_ERROR,
                      domain=ErrorDomain.RPC)


class Channel:
    """A plain socket. ``secure``: whether libvirt counts the transport as safe from
    eavesdroppers (everything but TCP); ``encrypted``: whether the bytes are."""

    encrypted = False

    def __init__(self, sock: socket.socket, *, secure: bool,
                 command: Command | None = None) -> None:
        self.sock = sock
        self.secure = secure
        self.command = command
        self._send_lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError as err:
                raise self._write_failure(err.errno or errno.EIO) from None

    def _write_failure(self, err: int) -> QvirtError:
        """A command gone before our first write is the command libvirt writes to just before
        it goes, and then reads as a reset connection quoting its stderr: say that, rather
        than which of the two won the race."""
        if self.command is not None and err in (errno.EPIPE, errno.ECONNRESET):
            return self.failure("Cannot recv data", errno.ECONNRESET)
        return system_error("Cannot write data", err)

    def recv(self) -> bytes:
        """Some bytes; an error, never b"", at the end of the stream."""
        try:
            data = self.sock.recv(READ_SIZE)
        except OSError as err:
            raise self.failure("Cannot recv data", err.errno or errno.EIO) from None
        if not data:
            raise self.failure("End of file while reading data", errno.EIO)
        return data

    def failure(self, text: str, err: int) -> QvirtError:
        if self.command is not None:
            text = f"{text}: {self.command.errout()}"
        return system_error(text, err)

    def shutdown(self) -> None:
        """Wake a reader blocked in recv (it then sees the end of the stream)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.shutdown()
        self.sock.close()
        if self.command is not None:
            self.command.abort()


class TLSChannel(Channel):
    """TLS over a connected socket, through memory BIOs: the TLS state is touched only under a
    lock, while the socket's reads and writes run outside it, so a reader blocked in recv never
    holds up a writer (an ssl.SSLSocket promises no such thing across threads)."""

    encrypted = True

    def __init__(self, sock: socket.socket, tls: ssl.SSLObject, incoming: ssl.MemoryBIO,
                 outgoing: ssl.MemoryBIO) -> None:
        super().__init__(sock, secure=True)
        self.tls, self._in, self._out = tls, incoming, outgoing
        self._tls_lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._send_lock:
            with self._tls_lock:
                self.tls.write(data)
                wire = self._out.read()
            try:
                self.sock.sendall(wire)
            except OSError as err:
                raise system_error("Cannot write data", err.errno or errno.EIO) from None

    def recv(self) -> bytes:
        while True:
            with self._tls_lock:
                try:
                    return self.tls.read(READ_SIZE) or self._eof()
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError:
                    raise self.failure("Cannot recv data", errno.EIO) from None
            raw = super().recv()
            with self._tls_lock:
                self._in.write(raw)

    def read_exact(self, size: int) -> bytes:
        """Exactly ``size`` bytes and no more, read before the RPC reader starts (the
        daemon's verdict on our certificate), so nothing after them is consumed."""
        data = b""
        while len(data) < size:
            with self._tls_lock:
                try:
                    chunk = self.tls.read(size - len(data))
                except ssl.SSLWantReadError:
                    chunk = None
                except ssl.SSLError:
                    raise self.failure("Cannot recv data", errno.EIO) from None
            if chunk == b"":
                self._eof()
            if chunk:
                data += chunk
                continue
            raw = Channel.recv(self)
            with self._tls_lock:
                self._in.write(raw)
        return data

    def _eof(self) -> bytes:
        raise self.failure("End of file while reading data", errno.EIO)


class Command:
    """The process at the far end of a command transport, and the pipe of its stderr."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self.proc, self.stderr = proc, stderr
        fcntl.fcntl(stderr.fileno(), fcntl.F_SETFL,
                    fcntl.fcntl(stderr.fileno(), fcntl.F_GETFL) | os.O_NONBLOCK)

    def errout(self) -> str:
        """What the command has written to stderr so far, up to 1 KiB, less its line end
        (ssh ends its messages with CR LF; libvirt shows neither)."""
        try:
            data = os.read(self.stderr.fileno(), ERROUT_MAX) or b""
        except OSError:
            data = b""
        return data.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")

    def abort(self) -> None:
        """virPidAbort: SIGTERM, a moment's grace, then SIGKILL; always reaped."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(ABORT_WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def connect_command(argv: list[str]) -> Channel:
    """virNetSocketNewConnectCommand: run ``argv`` with one end of a socketpair as its stdin and
    stdout and a pipe as its stderr, in a session of its own (so ssh asks no terminal)."""
    ours, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(argv, stdin=theirs.fileno(), stdout=theirs.fileno(),
                                stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as err:
        ours.close()
        # The forked child's own report, which libvirt quotes from the error pipe.
        detail = (f"libvirt:  error : cannot execute binary {argv[0]}: "
                  f"{os.strerror(err.errno or errno.ENOENT)}")
        raise system_error(f"Cannot recv data: {detail}", errno.ECONNRESET) from None
    finally:
        theirs.close()
    assert proc.stderr is not None
    return Channel(ours, secure=True, command=Command(proc, proc.stderr))
