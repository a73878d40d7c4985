"""Stream packets (virnetprotocol.x, virnetclientstream.c): the frames that follow the REPLY of
a stream-opening CALL such as DOMAIN_OPEN_CONSOLE, on the same program, procedure and serial.

Raw data travels unpadded with status CONTINUE, and an empty CONTINUE is the sender's end of
data (EOF); status OK with no payload is the finish handshake (the client's finish, and the
server's confirmation of a finish or an abort); status ERROR carries a remote_error (from the
client, with no payload: an abort); a STREAM_HOLE message carries a virNetStreamHole.
Flow control and chunking belong to the daemon and client, which see the bytes.
"""

from __future__ import annotations

from qvirt.errors import QvirtError
from qvirt.rpc.packet import Header, MessageType, Status, encode_message
from qvirt.rpc.remote import RemoteError, error_to_wire
from qvirt.rpc.xdr import Hyper, Struct, UInt, pack

StreamHole = Struct("virNetStreamHole", [("length", Hyper), ("flags", UInt)])


def _header(call: Header, kind: MessageType, status: Status) -> Header:
    return Header(call.prog, call.vers, call.proc, kind, call.serial, status)


def data_frame(call: Header, data: bytes) -> bytes:
    """A chunk of stream data for the stream ``call`` opened; empty, the end of the data."""
    return encode_message(_header(call, MessageType.STREAM, Status.CONTINUE), data)


def end_frame(call: Header) -> bytes:
    """The finish handshake: a finish, or the confirmation that a finish or abort is done."""
    return encode_message(_header(call, MessageType.STREAM, Status.OK))


def error_frame(call: Header, err: QvirtError) -> bytes:
    """The stream's failure; the peer raises ``err`` on its next read or write."""
    return encode_message(_header(call, MessageType.STREAM, Status.ERROR),
                          pack(RemoteError, error_to_wire(err)))


def hole_frame(call: Header, length: int, flags: int = 0) -> bytes:
    """A hole of ``length`` bytes in a sparse stream (volume upload and download)."""
    return encode_message(_header(call, MessageType.STREAM_HOLE, Status.CONTINUE),
                          pack(StreamHole, {"length": length, "flags": flags}))
