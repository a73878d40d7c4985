"""``qvirtd --stdio``: the far end of the ssh transport, as libvirt's virt-ssh-helper is.

It serves no client itself: it connects to the running daemon's read-write socket and
relays bytes both ways between it and its own stdin/stdout, so `ssh host qvirtd --stdio`
gives a client the daemon's protocol stream. Half-closes travel: end of stdin shuts the
socket's writing side; the daemon closing ends the relay.
"""

from __future__ import annotations

import os
import selectors
import socket
from pathlib import Path

from qvirt.daemon.conffile import system_error

CHUNK = 65536


def connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError as err:
        sock.close()
        raise system_error(f"Failed to connect socket to '{path}'", err) from err
    return sock


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def relay(sock: socket.socket, stdin: int = 0, stdout: int = 1) -> None:
    """Copy stdin to ``sock`` and ``sock`` to stdout until the daemon's side ends."""
    with selectors.DefaultSelector() as selector:
        selector.register(stdin, selectors.EVENT_READ)
        selector.register(sock, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is sock:
                    data = sock.recv(CHUNK)
                    if not data:
                        return
                    _write_all(stdout, data)
                else:
                    data = os.read(stdin, CHUNK)
                    if data:
                        sock.sendall(data)
                    else:
                        selector.unregister(stdin)
                        sock.shutdown(socket.SHUT_WR)
