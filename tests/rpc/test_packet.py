"""Framing: libvirt's own encoded packets (tests/virnetmessagetest.c), and a parser fed in
every split, truncated, oversized and garbage."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvirt.errors import ErrorDomain, ErrorNumber
from qvirt.rpc import keepalive
from qvirt.rpc.errors import FrameError, RPCError
from qvirt.rpc.keepalive import KEEPALIVE_PROGRAM, KeepaliveProc
from qvirt.rpc.packet import (
    MESSAGE_MAX,
    FrameParser,
    Header,
    Message,
    MessageType,
    Status,
    decode_message,
    encode_message,
)
from qvirt.rpc.remote import RemoteError, error_from_wire, error_to_wire
from qvirt.rpc.xdr import pack, unpack

# virnetmessagetest.c testMessageHeaderEncode
LIBVIRT_CALL_HEADER = bytes([
    0x00, 0x00, 0x00, 0x1c, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x06, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x99,
    0x00, 0x00, 0x00, 0x00,
])
# testMessagePayloadEncode: a MESSAGE with status ERROR carrying a remote_error.
LIBVIRT_ERROR_PAYLOAD = bytes([
    0x00, 0x00, 0x00, 0x74, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x06, 0x66, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x99,
    0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x0b, *b"Hello World\0",
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, *b"One\0",
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, *b"Two\0",
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, *b"Three\0\0\0",
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
])
# testMessagePayloadStreamEncode: raw stream data, unpadded.
LIBVIRT_STREAM = bytes([
    0x00, 0x00, 0x00, 0x47, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x06, 0x66, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x99,
    0x00, 0x00, 0x00, 0x02,
]) + b"The quick brown fox jumps over the lazy dog"

HELLO_ERROR = {
    "code": 1, "domain": 7, "message": "Hello World", "level": 2, "dom": None,
    "str1": "One", "str2": "Two", "str3": "Three", "int1": 1, "int2": 2, "net": None,
}

# No timing assertions: the suite shares loaded hosts under pytest-xdist.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_libvirt_header_vector() -> None:
    header = Header(0x11223344, 1, 0x666, MessageType.CALL, 0x99, Status.OK)
    assert encode_message(header) == LIBVIRT_CALL_HEADER
    assert decode_message(LIBVIRT_CALL_HEADER) == Message(header, b"")


def test_libvirt_error_payload_vector() -> None:
    header = Header(0x11223344, 1, 0x666, MessageType.MESSAGE, 0x99, Status.ERROR)
    assert encode_message(header, pack(RemoteError, HELLO_ERROR)) == LIBVIRT_ERROR_PAYLOAD
    message = decode_message(LIBVIRT_ERROR_PAYLOAD)
    assert message.header == header
    assert unpack(RemoteError, message.payload) == HELLO_ERROR


def test_libvirt_stream_vector() -> None:
    header = Header(0x11223344, 1, 0x666, MessageType.STREAM, 0x99, Status.CONTINUE)
    data = b"The quick brown fox jumps over the lazy dog"
    assert encode_message(header, data) == LIBVIRT_STREAM
    assert decode_message(LIBVIRT_STREAM).payload == data


def test_remote_error_to_and_from_qvirt_error() -> None:
    err = error_from_wire(HELLO_ERROR)
    assert (err.code, err.domain, err.message, err.level) == (1, 7, "Hello World", 2)
    assert (err.str1, err.str2, err.str3, err.int1, err.int2) == ("One", "Two", "Three", 1, 2)
    assert str(err) == "Hello World"
    assert type(err).__name__ == "InternalError"
    assert error_to_wire(err) == HELLO_ERROR


def test_remote_error_without_message() -> None:
    err = error_from_wire({**HELLO_ERROR, "code": 3, "message": None})
    assert err.message == "No error message provided"
    assert type(err).__name__ == "NoSupport"


def test_fds_count_follows_the_header() -> None:
    header = Header(1, 1, 2, MessageType.CALL_WITH_FDS, 3, Status.OK)
    frame = encode_message(header, b"\0\0\0\x07", nfds=2)
    assert frame[28:32] == b"\0\0\0\x02"
    assert decode_message(frame) == Message(header, b"\0\0\0\x07", 2)


def test_fds_refused_where_libvirt_refuses_them() -> None:
    call = Header(1, 1, 2, MessageType.CALL, 3, Status.OK)
    with pytest.raises(FrameError):
        encode_message(call, nfds=1)
    with_fds = Header(1, 1, 2, MessageType.CALL_WITH_FDS, 3, Status.OK)
    with pytest.raises(FrameError, match="Too many FDs to send 33, expected 32 maximum"):
        encode_message(with_fds, nfds=33)
    frame = encode_message(with_fds, nfds=32)
    too_many = frame[:28] + b"\0\0\0\x21"
    with pytest.raises(FrameError, match="Received too many FDs 33, expected 32 maximum"):
        decode_message(too_many)
    with pytest.raises(FrameError, match="Unable to decode number of FDs"):
        decode_message(b"\0\0\0\x1c" + frame[4:28])


def test_encode_refuses_bad_headers_and_oversized_frames() -> None:
    with pytest.raises(FrameError, match="Unable to encode message header"):
        encode_message(Header(-1, 1, 1, 0, 1, 0))
    with pytest.raises(FrameError, match="Unable to encode message payload"):
        encode_message(Header(1, 1, 1, 0, 1, 0), bytes(MESSAGE_MAX - 24 + 1))
    largest = encode_message(Header(1, 1, 1, 0, 1, 0), bytes(MESSAGE_MAX - 24))
    assert len(largest) == MESSAGE_MAX + 4
    # What the encoder allows, the parser takes.
    assert FrameParser().feed(largest)[0].payload == bytes(MESSAGE_MAX - 24)


def test_decode_message_refuses_inconsistent_frames() -> None:
    with pytest.raises(FrameError, match="Unable to decode message length"):
        decode_message(LIBVIRT_CALL_HEADER[:-1])
    with pytest.raises(FrameError, match="Unable to decode message header"):
        decode_message(b"\0\0\0\x08\0\0\0\0")


FRAMES = [LIBVIRT_CALL_HEADER, LIBVIRT_ERROR_PAYLOAD, LIBVIRT_STREAM,
          keepalive.keepalive_frame(KeepaliveProc.PING)]
STREAM_BYTES = b"".join(FRAMES)
EXPECTED = [decode_message(frame) for frame in FRAMES]


def test_parser_byte_by_byte() -> None:
    parser = FrameParser()
    got: list[Message] = []
    for i in range(len(STREAM_BYTES)):
        got += parser.feed(STREAM_BYTES[i:i + 1])
    assert got == EXPECTED
    assert parser.pending == 0


@RELAXED
@given(st.lists(st.integers(0, len(STREAM_BYTES)), max_size=12))
def test_parser_random_splits(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM_BYTES)]
    parser = FrameParser()
    got: list[Message] = []
    for start, end in itertools.pairwise(bounds):
        got += parser.feed(STREAM_BYTES[start:end])
    assert got == EXPECTED


def test_parser_holds_a_truncated_frame() -> None:
    parser = FrameParser()
    assert parser.feed(LIBVIRT_ERROR_PAYLOAD[:-1]) == []
    assert parser.pending == len(LIBVIRT_ERROR_PAYLOAD) - 1
    assert parser.feed(LIBVIRT_ERROR_PAYLOAD[-1:]) == EXPECTED[1:2]


@pytest.mark.parametrize(("word", "text"), [
    (b"\0\0\0\0", "packet 0 bytes received from server too small, want 4"),
    (b"\0\0\0\x03", "packet 3 bytes received from server too small, want 4"),
    (b"\x02\0\0\x05", "packet 33554433 bytes received from server too large, want 33554432"),
    (b"\xff\xff\xff\xff", "packet -5 bytes received from server too large, want 33554432"),
])
def test_parser_refuses_bad_lengths_with_libvirts_text(word: bytes, text: str) -> None:
    parser = FrameParser()
    with pytest.raises(FrameError) as info:
        parser.feed(LIBVIRT_CALL_HEADER + word)
    assert str(info.value) == text
    assert (info.value.code, info.value.domain) == (ErrorNumber.RPC, ErrorDomain.RPC)
    # The connection is dead: nothing more is parsed.
    with pytest.raises(FrameError):
        parser.feed(LIBVIRT_CALL_HEADER)


def test_parser_accepts_the_largest_frame_and_no_larger() -> None:
    header = encode_message(Header(1, 1, 1, 0, 1, 0))[4:]
    parser = FrameParser()
    word = (MESSAGE_MAX + 4).to_bytes(4, "big")
    assert parser.feed(word + header) == []
    with pytest.raises(FrameError):
        FrameParser().feed((MESSAGE_MAX + 5).to_bytes(4, "big"))


def test_parser_refuses_a_frame_too_short_for_a_header() -> None:
    with pytest.raises(FrameError, match="Unable to decode message header"):
        FrameParser().feed(b"\0\0\0\x08abcd")


@RELAXED
@given(st.binary(max_size=300), st.integers(1, 64))
def test_parser_garbage_raises_only_frame_errors(data: bytes, chunk: int) -> None:
    parser = FrameParser()
    try:
        for i in range(0, len(data), chunk):
            for message in parser.feed(data[i:i + chunk]):
                assert isinstance(message, Message)
    except FrameError:
        pass


@RELAXED
@given(st.binary(min_size=1, max_size=40), st.integers(0, len(STREAM_BYTES) - 1))
def test_parser_mutated_frames_raise_only_rpc_errors(junk: bytes, at: int) -> None:
    mutated = STREAM_BYTES[:at] + junk + STREAM_BYTES[at + len(junk):]
    parser = FrameParser()
    try:
        for message in parser.feed(mutated):
            if message.header.status == Status.ERROR:
                unpack(RemoteError, message.payload)
    except RPCError:
        pass


def test_keepalive_ping_gets_a_pong() -> None:
    ping = decode_message(keepalive.keepalive_frame(KeepaliveProc.PING))
    assert ping.header == Header(KEEPALIVE_PROGRAM, 1, 1, MessageType.MESSAGE, 0, Status.OK)
    assert ping.payload == b""
    pong = keepalive.answer(ping)
    assert pong == b"\0\0\0\x1c" + bytes.fromhex("6b656570 00000001 00000002 00000002"
                                                 " 00000000 00000000")
    assert keepalive.answer(decode_message(pong)) is None
    assert keepalive.answer(EXPECTED[0]) is None
    assert not keepalive.is_keepalive(EXPECTED[0])
