"""A test-only REMOTE program server on a unix socket, built from qvirt.rpc alone.

It answers each CALL from a table of canned ret values (an error reply for anything else) and
records what it decoded, so a test can point a real libvirt client at it and check both that
qvirt decodes the client's calls and that the client accepts qvirt's replies.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from qvirt.rpc import keepalive
from qvirt.rpc.errors import RPCError
from qvirt.rpc.packet import REMOTE_PROGRAM, FrameParser, Message, MessageType
from qvirt.rpc.remote import decode_call, error_frame, reply_frame


class FakeServer:
    """Serves ``replies`` ({procedure number: ret value}) to every client until closed, and
    after the reply to a procedure in ``then`` sends that procedure's frames too (events)."""

    def __init__(self, path: Path, replies: dict[int, Any],
                 then: dict[int, bytes] | None = None) -> None:
        self.replies = replies
        self.then = then or {}
        self.calls: list[tuple[int, Any]] = []
        self.failures: list[BaseException] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        parser = FrameParser()
        with conn:
            while data := conn.recv(65536):
                try:
                    for message in parser.feed(data):
                        reply = self._answer(message)
                        if reply is not None:
                            conn.sendall(reply)
                except Exception as err:  # recorded for the test to fail on, not swallowed
                    self.failures.append(err)
                    return

    def _answer(self, message: Message) -> bytes | None:
        if keepalive.is_keepalive(message):
            return keepalive.answer(message)
        header = message.header
        assert header.prog == REMOTE_PROGRAM and header.type == MessageType.CALL
        try:
            procedure, args = decode_call(message)
        except RPCError as err:
            self.calls.append((header.proc, None))
            return error_frame(header, err)
        self.calls.append((header.proc, args))
        if header.proc not in self.replies:
            return error_frame(header, QvirtError(code=ErrorNumber.NO_SUPPORT,
                                                  domain=ErrorDomain.REMOTE))
        return (reply_frame(header, procedure, self.replies[header.proc])
                + self.then.get(header.proc, b""))
