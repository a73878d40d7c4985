"""libvirt's keepalive program (src/rpc/virkeepaliveprotocol.x, virkeepalive.c).

Either side may send PING; the other answers PONG. Both are MESSAGE-type frames with serial 0,
status OK and no payload. Only the frames live here; the timers belong to the daemon and client.
"""

from __future__ import annotations

from enum import IntEnum

from qvirt.rpc.packet import Header, Message, MessageType, Status, encode_message

KEEPALIVE_PROGRAM = 0x6B656570
KEEPALIVE_PROTOCOL_VERSION = 1


class KeepaliveProc(IntEnum):
    PING = 1
    PONG = 2


def keepalive_frame(proc: KeepaliveProc) -> bytes:
    """The whole PING or PONG frame."""
    return encode_message(Header(KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, proc,
                                 MessageType.MESSAGE, 0, Status.OK))


def is_keepalive(message: Message) -> bool:
    """Whether ``message`` belongs to the keepalive program (and so to no dispatcher)."""
    return message.header.prog == KEEPALIVE_PROGRAM


def answer(message: Message) -> bytes | None:
    """The PONG owed for a PING, None for anything else (a PONG only proves the peer alive)."""
    header = message.header
    if (is_keepalive(message) and header.vers == KEEPALIVE_PROTOCOL_VERSION
            and header.proc == KeepaliveProc.PING and header.type == MessageType.MESSAGE):
        return keepalive_frame(KeepaliveProc.PONG)
    return None
