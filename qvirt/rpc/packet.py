"""Framing of libvirt's RPC messages (src/rpc/virnetprotocol.x, virnetmessage.c).

On the wire a message is a 4-byte big-endian length that counts itself, a 24-byte header
(prog, vers, proc, type, serial, status) and the payload. For *_WITH_FDS types a count of
passed file descriptors follows the header. FrameParser takes bytes as they arrive and yields
whole messages; it refuses lengths libvirt refuses, with libvirt's texts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

from qvirt.rpc.errors import FrameError

# virnetprotocol.x
MESSAGE_INITIAL = 65536
MESSAGE_MAX = 33554432
LEN_MAX = 4
HEADER_MAX = 24
NUM_FDS_MAX = 32

REMOTE_PROGRAM = 0x20008086
REMOTE_PROTOCOL_VERSION = 1
QEMU_PROGRAM = 0x20008087
QEMU_PROTOCOL_VERSION = 1


class MessageType(IntEnum):
    CALL = 0
    REPLY = 1
    MESSAGE = 2
    STREAM = 3
    CALL_WITH_FDS = 4
    REPLY_WITH_FDS = 5
    STREAM_HOLE = 6


class Status(IntEnum):
    OK = 0
    ERROR = 1
    CONTINUE = 2


_WITH_FDS = (MessageType.CALL_WITH_FDS, MessageType.REPLY_WITH_FDS)
_LENGTH = struct.Struct(">I")
_HEADER = struct.Struct(">IIiiIi")
_NFDS = struct.Struct(">I")


@dataclass(frozen=True)
class Header:
    """virNetMessageHeader. type and status stay plain ints: libvirt decodes them without
    checking, and it is the dispatcher's job to refuse an unknown one."""

    prog: int
    vers: int
    proc: int
    type: int
    serial: int
    status: int


@dataclass(frozen=True)
class Message:
    """One whole message: its header, its payload bytes and, for *_WITH_FDS, the count of
    file descriptors announced to travel alongside it."""

    header: Header
    payload: bytes
    nfds: int = 0


def signed(value: int) -> int:
    """An unsigned header word as libvirt's %d prints it (the length word, prog and vers)."""
    return value - (1 << 32) if value >= 1 << 31 else value


def encode_message(header: Header, payload: bytes = b"", nfds: int = 0) -> bytes:
    """The frame for ``header`` and ``payload``: length word, header, fd count if any, payload.

    Refuses a frame larger than libvirt's decoder accepts, as virNetMessageEncodePayload does.
    """
    with_fds = header.type in _WITH_FDS
    if nfds and not with_fds:
        raise FrameError("Unable to encode message header")
    if nfds > NUM_FDS_MAX:
        raise FrameError(f"Too many FDs to send {nfds}, expected {NUM_FDS_MAX} maximum")
    try:
        head = _HEADER.pack(header.prog, header.vers, header.proc, header.type, header.serial,
                            header.status)
    except struct.error as err:
        raise FrameError("Unable to encode message header") from err
    if with_fds:
        head += _NFDS.pack(nfds)
    length = LEN_MAX + len(head) + len(payload)
    # libvirt grows its buffer up to MESSAGE_MAX plus the length word: the decoder's limit.
    if length - LEN_MAX > MESSAGE_MAX:
        raise FrameError("Unable to encode message payload")
    return _LENGTH.pack(length) + head + payload


def decode_message(frame: bytes) -> Message:
    """The message in one whole frame, length word included."""
    if len(frame) < LEN_MAX or _LENGTH.unpack_from(frame)[0] != len(frame):
        raise FrameError("Unable to decode message length")
    return _decode_at(frame, 0, len(frame))


def _decode_at(buf: bytes | bytearray, pos: int, length: int) -> Message:
    """The message of the ``length``-byte frame at ``pos`` in ``buf``, its length word
    already checked: the header, the fd count for *_WITH_FDS, and a copy of the payload."""
    if length < LEN_MAX + HEADER_MAX:
        raise FrameError("Unable to decode message header")
    header = Header(*_HEADER.unpack_from(buf, pos + LEN_MAX))
    offset = pos + LEN_MAX + HEADER_MAX
    nfds = 0
    if header.type in _WITH_FDS:
        if length < LEN_MAX + HEADER_MAX + 4:
            raise FrameError("Unable to decode number of FDs")
        nfds = _NFDS.unpack_from(buf, offset)[0]
        if nfds > NUM_FDS_MAX:
            raise FrameError(f"Received too many FDs {nfds}, expected {NUM_FDS_MAX} maximum")
        offset += 4
    # Through a view: slicing a bytearray would copy the payload twice.
    with memoryview(buf) as view:
        return Message(header, bytes(view[offset:pos + length]), nfds)


class FrameParser:
    """Bytes in, whole messages out, however the stream splits them.

    A bad length word is fatal to the connection, as in libvirt: the parser raises FrameError
    and raises it again on any later feed, so a caller cannot resynchronise on garbage.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._failed: FrameError | None = None

    def feed(self, data: bytes) -> list[Message]:
        """Add ``data``; return every message it completes, in order."""
        return list(self.messages(data))

    def messages(self, data: bytes) -> Iterator[Message]:
        """Add ``data`` (when iteration starts) and yield each message it completes as soon
        as it is whole, then raise FrameError at a bad frame: a server serves the messages
        before it, as libvirt's, which reads and dispatches one message at a time."""
        if self._failed is not None:
            raise self._failed
        # Between messages the data is parsed where it lies, and only a partial message's
        # bytes are kept: a stream's frames are then copied once, not three times.
        buf: bytes | bytearray = self._buffer
        if self._buffer:
            self._buffer += data
        else:
            buf = data
        pos = 0
        try:
            while len(buf) - pos >= LEN_MAX:
                length = _LENGTH.unpack_from(buf, pos)[0]
                self._check(length)
                if len(buf) - pos < length:
                    break
                message = _decode_at(buf, pos, length)
                pos += length
                yield message
        except FrameError as err:
            self._failed = err
            raise
        finally:
            if buf is self._buffer:
                del self._buffer[:pos]
            else:
                self._buffer += memoryview(data)[pos:]

    @staticmethod
    def _check(length: int) -> None:
        # virNetMessageDecodeLength: too small is judged on the whole length, too large on the
        # length less its own word.
        if length < LEN_MAX:
            raise FrameError(f"packet {signed(length)} bytes received from server too small, "
                             f"want {LEN_MAX}")
        if length - LEN_MAX > MESSAGE_MAX:
            raise FrameError(f"packet {signed(length - LEN_MAX)} bytes received from server "
                             f"too large, want {MESSAGE_MAX}")

    @property
    def pending(self) -> int:
        """Bytes held towards a message not yet complete (0 between messages)."""
        return len(self._buffer)
