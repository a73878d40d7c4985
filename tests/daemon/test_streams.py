"""The daemon's stream relay between a real pty (the QEMU side is the pty's master, held by the
test) and a real socket (the client side, read by the test): bytes both ways, the finish and
abort handshakes, the pty's end, a forced open taking the pty away, and the flow control that
leaves a slow client's data in the pty and stops a fast client at a full pty."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from qvirt.daemon.streams import BACKLOG, CHUNK, StreamRelay
from qvirt.drivers.qemu.console import Consoles
from qvirt.errors import OperationFailed
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    FrameParser,
    Header,
    Message,
    MessageType,
    Status,
    decode_message,
    encode_message,
)
from qvirt.rpc.remote import RemoteError, error_from_wire
from qvirt.rpc.stream import data_frame, end_frame
from qvirt.rpc.xdr import unpack

# The DOMAIN_OPEN_CONSOLE call whose serial the stream's frames carry.
CALL = Header(REMOTE_PROGRAM, 1, 201, MessageType.CALL, 7, Status.OK)


@dataclass
class Rig:
    """One relayed stream: the pty's master (the guest's side), the client's socket, and the
    relay between them."""

    master: int
    path: str
    client: socket.socket
    relay: StreamRelay
    writer: asyncio.StreamWriter
    consoles: Consoles
    released: list[StreamRelay]
    parser: FrameParser
    pending: list[Message] = field(default_factory=list)

    async def frames(self, count: int) -> list[Message]:
        """The next ``count`` frames the client receives."""
        loop = asyncio.get_running_loop()
        while len(self.pending) < count:
            self.pending += self.parser.feed(await loop.sock_recv(self.client, 65536))
        got, self.pending = self.pending[:count], self.pending[count:]
        return got

    def send(self, frame: bytes) -> None:
        """A frame from the client, as the connection routes it to the relay."""
        self.relay.incoming(decode_message(frame))

    async def guest_reads(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        data = b""
        while len(data) < size:
            ready = loop.create_future()
            loop.add_reader(self.master, ready.set_result, None)
            try:
                await ready
            finally:
                loop.remove_reader(self.master)
            data += os.read(self.master, size - len(data))
        return data


@asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(slave)
    os.set_blocking(master, False)
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    _, writer = await asyncio.open_unix_connection(sock=ours)
    consoles = Consoles()
    released: list[StreamRelay] = []
    relay = StreamRelay(CALL, consoles.open(path, force=False), writer, released.append)
    relay.start()
    try:
        yield Rig(master, path, theirs, relay, writer, consoles, released, FrameParser())
    finally:
        relay.close()
        writer.close()
        theirs.close()
        os.close(master)


def run(test: Callable[[Rig], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with rig() as r:
            await asyncio.wait_for(test(r), 60)
    asyncio.run(main())


def stream_header(status: Status) -> Header:
    return Header(REMOTE_PROGRAM, 1, 201, MessageType.STREAM, 7, status)


def test_bytes_both_ways_then_finish() -> None:
    async def test(r: Rig) -> None:
        os.write(r.master, b"TINY-GUEST-TICK 1\r\n")
        [frame] = await r.frames(1)
        assert frame.header == stream_header(Status.CONTINUE)
        assert frame.payload == b"TINY-GUEST-TICK 1\r\n"
        r.send(data_frame(CALL, b"echo hi\r"))
        assert await r.guest_reads(8) == b"echo hi\r"
        r.send(end_frame(CALL))
        [confirm] = await r.frames(1)
        assert (confirm.header, confirm.payload) == (stream_header(Status.OK), b"")
        assert r.released == [r.relay]
        r.consoles.open(r.path, force=False).close()  # the pty is free again
    run(test)


def test_abort_is_confirmed() -> None:
    async def test(r: Rig) -> None:
        r.send(encode_message(stream_header(Status.ERROR)))
        [confirm] = await r.frames(1)
        assert (confirm.header, confirm.payload) == (stream_header(Status.OK), b"")
        assert r.released == [r.relay]
    run(test)


def test_pty_end_is_an_empty_continue() -> None:
    async def test(r: Rig) -> None:
        os.close(r.master)  # QEMU went away
        r.master = os.open("/dev/null", os.O_RDWR)  # for the rig's own close
        [eof] = await r.frames(1)
        assert (eof.header, eof.payload) == (stream_header(Status.CONTINUE), b"")
        r.send(end_frame(CALL))  # the client's finish still gets its confirmation
        [confirm] = await r.frames(1)
        assert confirm.header == stream_header(Status.OK)
    run(test)


def test_forced_open_takes_the_pty_away() -> None:
    async def test(r: Rig) -> None:
        with pytest.raises(OperationFailed, match="Active console session exists"):
            r.consoles.open(r.path, force=False)
        second = await asyncio.to_thread(r.consoles.open, r.path, True)
        [failed] = await r.frames(1)
        assert failed.header == stream_header(Status.ERROR)
        err = error_from_wire(unpack(RemoteError, failed.payload))
        assert (err.code, err.domain, err.message) == (39, 38, "stream had I/O failure")
        assert r.relay.closed
        second.close()
    run(test)


def test_slow_client_leaves_the_data_in_the_pty() -> None:
    async def test(r: Rig) -> None:
        flood = bytes(range(256)) * 256
        sent = bytearray()
        idle = 0
        # Write until the pty stays full: the client reads nothing, so the relay must stop
        # reading the pty once the socket has all it takes.
        while idle < 50:
            try:
                sent += flood[:os.write(r.master, flood)]
                idle = 0
            except BlockingIOError:
                idle += 1
            await asyncio.sleep(0.01)
        assert r.writer.transport.get_write_buffer_size() <= CHUNK + 65536
        assert len(sent) < 64 * CHUNK  # the flood did stop
        got = bytearray()
        while len(got) < len(sent):
            for frame in await r.frames(1):
                got += frame.payload
        assert got == sent
    run(test)


def test_full_pty_stops_the_client() -> None:
    async def test(r: Rig) -> None:
        chunk = b"k" * 65536
        sent = 0
        while sent < 64 * BACKLOG:
            r.send(data_frame(CALL, chunk))
            sent += len(chunk)
            waiting = asyncio.ensure_future(r.relay.room())
            await asyncio.sleep(0)
            if not waiting.done():
                break
        assert sent < 64 * BACKLOG  # the relay said stop
        await asyncio.sleep(0.05)
        assert not waiting.done()  # and keeps saying it while the guest reads nothing
        assert await r.guest_reads(sent) == b"k" * sent
        await waiting
    run(test)
