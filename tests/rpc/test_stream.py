"""Stream packets, checked against libvirt's own encoded stream packet."""

from __future__ import annotations

from qvirt.errors import OperationFailed
from qvirt.rpc.packet import Header, MessageType, Status, decode_message
from qvirt.rpc.remote import RemoteError, error_from_wire
from qvirt.rpc.stream import StreamHole, data_frame, end_frame, error_frame, hole_frame
from qvirt.rpc.xdr import unpack
from tests.rpc.test_packet import LIBVIRT_STREAM

CALL = Header(0x11223344, 1, 0x666, MessageType.CALL, 0x99, Status.OK)


def test_data_frame_is_libvirts_packet() -> None:
    assert data_frame(CALL, b"The quick brown fox jumps over the lazy dog") == LIBVIRT_STREAM


def test_end_error_and_hole_frames() -> None:
    end = decode_message(end_frame(CALL))
    assert end.header == Header(0x11223344, 1, 0x666, MessageType.STREAM, 0x99, Status.OK)
    assert end.payload == b""
    failed = decode_message(error_frame(CALL, OperationFailed("console closed")))
    assert (failed.header.type, failed.header.status) == (MessageType.STREAM, Status.ERROR)
    assert str(error_from_wire(unpack(RemoteError, failed.payload))) == \
        "operation failed: console closed"
    hole = decode_message(hole_frame(CALL, 1 << 40))
    assert (hole.header.type, hole.header.status) == (MessageType.STREAM_HOLE, Status.CONTINUE)
    assert hole.payload == bytes.fromhex("0000010000000000 00000000")
    assert unpack(StreamHole, hole.payload) == {"length": 1 << 40, "flags": 0}
