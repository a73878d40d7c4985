"""Bad frames for qvirtd, and what the daemon owes for each: the model behind test_fuzz.py.

A fuzz session is one connection's byte stream: usually the handshake (AUTH_LIST,
CONNECT_OPEN), then frames of many kinds, some of them with a length word that lies, so the
daemon's view of where frames start can drift off the sender's. ``expect`` therefore walks the
stream as the daemon's framing does (libvirt's virNetMessageDecodeLength/Header, written again
here, not borrowed from qvirt) and decides from each header as the daemon read it whether a
reply is owed, which, and whether the connection must end there.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qvirt.daemon.dispatch import BEFORE_OPEN, FEATURE_PROGRAM_KEEPALIVE, HANDLERS
from qvirt.errors import ErrorDomain, ErrorNumber
from qvirt.rpc.errors import XDRError
from qvirt.rpc.keepalive import KEEPALIVE_PROGRAM, KeepaliveProc
from qvirt.rpc.packet import (
    MESSAGE_MAX,
    NUM_FDS_MAX,
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    Header,
    MessageType,
    encode_message,
)
from qvirt.rpc.remote import (
    BY_NAME,
    PROCEDURE_LIST,
    PROCEDURES,
    REMOTE_DOMAIN_LIST_MAX,
    REMOTE_STRING_MAX,
)
from qvirt.rpc.xdr import (
    Enum,
    FixedOpaque,
    Int,
    Optional,
    String,
    Struct,
    UHyper,
    UInt,
    VarArray,
    VarOpaque,
    Void,
    XDRType,
    pack,
    unpack,
)

RPC = (int(ErrorNumber.RPC), int(ErrorDomain.RPC))
NOT_OPEN = (int(ErrorNumber.INTERNAL_ERROR), int(ErrorDomain.RPC),
            "internal error: hypervisor connection not open")
DECODE_FAILED = (*RPC, "Unable to decode message payload")

CALLS = (MessageType.CALL, MessageType.CALL_WITH_FDS)
SERVED = [p for p in PROCEDURE_LIST if p.name in HANDLERS]
NOT_SERVED = [p for p in PROCEDURE_LIST if p.name not in HANDLERS]

# Strings for sampled arguments: none of them is a whole domain definition, so no call of the
# fuzz defines or starts anything; some are not UTF-8 (surrogateescape), one is an XXE attempt.
STRINGS = [
    "", "x", "qd5-fuzz-nosuch", "qemu:///system", "test:///default", "<domain/>",
    "<domain type='qemu'><name>", "<domain type='kvm'><name>y</name><memory>-1</memory>",
    "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><d>&x;</d>",
    "\udcff\udcfe\udc80", "<domain>\udcff</domain>", "é☃\u2028", "a" * 3000, "%s%n%x", "\0\0",
]
INTS = [0, 1, -1, 2, 10, 255, 256, 65535, 1 << 30, -(1 << 31), (1 << 31) - 1,
        REMOTE_DOMAIN_LIST_MAX, REMOTE_DOMAIN_LIST_MAX + 1]


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def sample(kind: XDRType, rng: random.Random) -> Any:
    """A value of ``kind``, picked from edges and oddities rather than uniformly."""
    if isinstance(kind, Struct):
        return {name: sample(item, rng) for name, item in kind.fields}
    if isinstance(kind, Optional):
        return None if rng.random() < 0.3 else sample(kind.item, rng)
    if isinstance(kind, String):
        return rng.choice(STRINGS)
    if isinstance(kind, FixedOpaque):
        return rng.randbytes(kind.size)
    if isinstance(kind, VarOpaque):
        return rng.randbytes(rng.randrange(8))
    if isinstance(kind, VarArray):
        return [sample(kind.item, rng) for _ in range(rng.randrange(3))]
    if isinstance(kind, Enum):
        return rng.choice(list(kind.members))
    if kind is Int:
        return rng.choice(INTS) if rng.random() < 0.7 else rng.randint(-(1 << 31), (1 << 31) - 1)
    if kind is UInt:
        return rng.choice([0, 1, 2, 4, 0xFFFFFFFF, rng.getrandbits(32)])
    if kind is UHyper:
        return rng.choice([0, 1, 4096, 1 << 40, (1 << 64) - 1, rng.getrandbits(64)])
    if kind is Void:
        return None
    raise AssertionError(f"no sampler for {kind!r}")


@dataclass
class Owed:
    """One reply the daemon owes: the header fields it must echo, and the error it must carry
    when the model knows it (None: the driver decides, any well-formed reply will do)."""

    prog: int
    vers: int
    proc: int
    serial: int
    error: tuple[int, int, str] | None


@dataclass
class Expectation:
    """What one session's stream is owed: replies in order, PONGs, and how it ends."""

    replies: list[Owed] = field(default_factory=list)
    pongs: int = 0
    fatal: bool = False          # the daemon must drop the connection on its own
    # After a CONNECT_CLOSE the daemon closes once its reply is out; frames it read ahead of
    # that may or may not be answered first (libvirtd's workers race the same way).
    closing: bool = False
    maybe_replies: list[Owed] = field(default_factory=list)
    maybe_pongs: int = 0

    def owe(self, owed: Owed) -> None:
        (self.maybe_replies if self.closing else self.replies).append(owed)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _header(data: bytes, pos: int) -> Header:
    prog, vers, proc, kind, serial, status = struct.unpack_from(">IIiiIi", data, pos)
    return Header(prog, vers, proc, kind, serial, status)


def expect(stream: bytes) -> Expectation:
    """Walk ``stream`` as the daemon reads it and say what it owes (see the module doc)."""
    out = Expectation()
    authed = opened = False
    pos = 0
    while len(stream) - pos >= 4:
        length = struct.unpack_from(">I", stream, pos)[0]
        if length < 4 or length - 4 > MESSAGE_MAX:
            out.fatal = True
            out.count("fatal length")
            break
        if len(stream) - pos < length:
            out.count("incomplete at end")
            break
        frame = stream[pos:pos + length]
        pos += length
        if length < 28:
            out.fatal = True
            out.count("fatal short header")
            break
        header = _header(frame, 4)
        offset = 28
        if header.type in (MessageType.CALL_WITH_FDS, MessageType.REPLY_WITH_FDS):
            if length < 32 or struct.unpack_from(">I", frame, 28)[0] > NUM_FDS_MAX:
                out.fatal = True
                out.count("fatal fd count")
                break
            offset = 32
        payload = frame[offset:]
        owed = Owed(header.prog, header.vers, header.proc, header.serial, None)
        if header.prog == KEEPALIVE_PROGRAM:
            if (header.vers, header.proc, header.type) == (1, KeepaliveProc.PING,
                                                            MessageType.MESSAGE):
                if out.closing:
                    out.maybe_pongs += 1
                else:
                    out.pongs += 1
            out.count("keepalive")
            continue
        if (header.prog, header.vers) != (REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION):
            if header.type in CALLS:
                owed.error = (*RPC, f"Cannot find program {_signed(header.prog)} "
                                    f"version {_signed(header.vers)}")
                out.owe(owed)
            out.count("unknown program")
            continue
        if header.type not in CALLS:
            out.count("not a call")
            continue
        if header.type == MessageType.CALL_WITH_FDS:
            out.count("call with fds")
        out.owe(owed)
        procedure = PROCEDURES.get(header.proc)
        if header.status != 0:
            owed.error = (*RPC, f"Unexpected message status {header.status & 0xFFFFFFFF}")
            out.count("bad status")
        elif procedure is None or procedure.name not in HANDLERS:
            owed.error = (*RPC, f"unknown procedure: {header.proc}")
            out.count("unknown procedure")
        elif not authed and procedure.name != "AUTH_LIST":
            owed.error = (*RPC, "authentication required")
            out.count("unauthenticated")
        else:
            try:
                args = unpack(procedure.args, payload)
            except XDRError:
                owed.error = DECODE_FAILED
                out.count("undecodable args")
                continue
            if not (opened or procedure.name in BEFORE_OPEN
                    or (procedure.name == "CONNECT_SUPPORTS_FEATURE"
                        and args["feature"] == FEATURE_PROGRAM_KEEPALIVE)):
                owed.error = NOT_OPEN
                out.count("not open")
                continue
            authed = authed or procedure.name == "AUTH_LIST"
            opened = opened or procedure.name == "CONNECT_OPEN"
            out.count("reaches the driver")
            if procedure.name == "CONNECT_CLOSE" and not out.closing:
                out.fatal = out.closing = True
                out.count("connect close")
    return out


def _frame(prog: int, vers: int, proc: int, kind: int, serial: int, status: int,
           payload: bytes) -> bytes:
    return struct.pack(">IIIiiIi", 28 + len(payload), prog, vers, proc, kind, serial,
                       status) + payload


class Sessions:
    """Seeded sessions: each call of ``next`` gives one connection's bytes and frame count."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0
        rng = self.rng
        # (weight, maker): each maker returns one frame, or several bytes that lie.
        self._kinds: list[tuple[int, Callable[[], bytes]]] = [
            (30, self.garbage_args), (20, self.sampled_call), (15, self.mutated_call),
            (15, self.bad_header), (5, self.keepalive), (6, self.oversized),
            (3, self.not_a_call),
        ]
        self._weights = [w for w, _ in self._kinds]
        self._makers = [m for _, m in self._kinds]
        self._big = [rng.randbytes(n) for n in (40000, 100000)]

    def _next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFFFFFF
        return self.serial

    def _call(self, number: int, payload: bytes, **header: int) -> bytes:
        fields = {"prog": REMOTE_PROGRAM, "vers": REMOTE_PROTOCOL_VERSION, "proc": number,
                  "kind": int(MessageType.CALL), "serial": self._next_serial(), "status": 0}
        fields.update(header)
        return _frame(fields["prog"], fields["vers"], fields["proc"], fields["kind"],
                      fields["serial"], fields["status"], payload)

    def handshake(self) -> bytes:
        return (self._call(BY_NAME["AUTH_LIST"].number, b"")
                + self._call(BY_NAME["CONNECT_OPEN"].number,
                             pack(BY_NAME["CONNECT_OPEN"].args, {"name": None, "flags": 0})))

    def _procedure(self) -> int:
        roll = self.rng.random()
        if roll < 0.85:
            return self.rng.choice(SERVED).number
        if roll < 0.93:
            return self.rng.choice(NOT_SERVED).number
        return self.rng.randint(-(1 << 31), (1 << 31) - 1)

    def garbage_args(self) -> bytes:
        """A known procedure with random bytes for arguments."""
        size = self.rng.choice([0, 4, 8, 12, 16, 20, 28, 40, self.rng.randrange(80)])
        return self._call(self._procedure(), self.rng.randbytes(size))

    def _sampled(self) -> tuple[int, bytes]:
        procedure = self.rng.choice(SERVED)
        return procedure.number, pack(procedure.args, sample(procedure.args, self.rng))

    def sampled_call(self) -> bytes:
        """A served procedure with arguments that decode (the driver answers)."""
        return self._call(*self._sampled())

    def mutated_call(self) -> bytes:
        """Good arguments spoiled: truncated, a byte changed, a length word made huge, junk
        appended (which libvirt's decoder ignores)."""
        proc, payload = self._sampled()
        data = bytearray(payload)
        how = self.rng.randrange(4)
        if how == 0 and data:
            del data[self.rng.randrange(len(data)):]
        elif how == 1 and data:
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        elif how == 2 and len(data) >= 4:
            at = self.rng.randrange(len(data) // 4) * 4
            word = self.rng.choice([0xFFFFFFFF, REMOTE_STRING_MAX + 1, 0x7FFFFFFF, 1 << 20])
            data[at:at + 4] = word.to_bytes(4, "big")
        else:
            data += self.rng.randbytes(self.rng.randrange(1, 12))
        return self._call(proc, bytes(data))

    def bad_header(self) -> bytes:
        """A sampled call with one header field wrong."""
        proc, payload = self._sampled()
        field_name = self.rng.choice(["prog", "vers", "proc", "kind", "status", "serial"])
        value = self.rng.choice([
            self.rng.getrandbits(32), 0, 1, 2, 3, 5, 6, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
            REMOTE_PROGRAM + 1, 0x20008087, 0x20008085])
        if field_name in ("proc", "kind", "status"):
            value = _signed(value)
        return self._call(proc, payload, **{field_name: value})

    def keepalive(self) -> bytes:
        proc = KeepaliveProc.PING if self.rng.random() < 0.7 else self.rng.choice([2, 3, -1])
        kind = MessageType.MESSAGE if self.rng.random() < 0.8 else MessageType.CALL
        vers = 1 if self.rng.random() < 0.9 else 2
        return encode_message(Header(KEEPALIVE_PROGRAM, vers, proc, kind, 0, 0))

    def oversized(self) -> bytes:
        """Strings and counts beyond remote_protocol.x's limits, and big legal strings."""
        roll = self.rng.random()
        if roll < 0.4:
            word = self.rng.choice([REMOTE_STRING_MAX + 1, 0xFFFFFFFF, 0x80000000])
            return self._call(BY_NAME["DOMAIN_LOOKUP_BY_NAME"].number, word.to_bytes(4, "big"))
        if roll < 0.6:
            maxids = self.rng.choice([REMOTE_DOMAIN_LIST_MAX + 1, 1 << 30, 0x7FFFFFFF])
            name = self.rng.choice(["CONNECT_LIST_DOMAINS", "CONNECT_LIST_DEFINED_DOMAINS"])
            return self._call(BY_NAME[name].number, maxids.to_bytes(4, "big"))
        if roll < 0.97:
            # A string that claims more than the frame holds.
            return self._call(BY_NAME["DOMAIN_DEFINE_XML"].number,
                              (4096).to_bytes(4, "big") + b"<domain")
        text = self.rng.choice(self._big).hex()[:REMOTE_STRING_MAX]
        return self._call(BY_NAME["DOMAIN_DEFINE_XML"].number,
                          pack(BY_NAME["DOMAIN_DEFINE_XML"].args, {"xml": text}))

    def not_a_call(self) -> bytes:
        """REMOTE program messages a client must not send (REPLY, MESSAGE, STREAM, ...) and
        CALL_WITH_FDS, with an fd count but no descriptors."""
        kind = self.rng.choice([1, 2, 3, 4, 5, 6, 7, -1])
        frame = bytearray(self.sampled_call())
        frame[16:20] = struct.pack(">i", kind)
        if kind in (MessageType.CALL_WITH_FDS, MessageType.REPLY_WITH_FDS):
            frame[28:28] = struct.pack(">I", self.rng.randrange(NUM_FDS_MAX + 1))
            frame[0:4] = struct.pack(">I", len(frame))
        return bytes(frame)

    def lying_length(self) -> bytes:
        """A frame whose length word is off: the frames after it are read askew."""
        frame = bytearray(self.sampled_call())
        delta = self.rng.choice([-8, -4, -1, 1, 3, 4, 16])
        frame[0:4] = struct.pack(">I", max(0, len(frame) + delta))
        return bytes(frame)

    def fatal(self) -> bytes:
        """A frame the parser must refuse, ending the connection."""
        roll = self.rng.randrange(5)
        if roll == 0:
            return struct.pack(">I", self.rng.randrange(4))
        if roll == 1:
            return struct.pack(">I", self.rng.choice([MESSAGE_MAX + 5, 0xFFFFFFFF, 0x80000000]))
        if roll == 2:
            size = self.rng.randrange(4, 28)
            return struct.pack(">I", size) + self.rng.randbytes(size - 4)
        kind = self.rng.choice([MessageType.CALL_WITH_FDS, MessageType.REPLY_WITH_FDS])
        if roll == 3:
            return _frame(REMOTE_PROGRAM, 1, 4, kind, self._next_serial(), 0, b"")
        return _frame(REMOTE_PROGRAM, 1, 4, kind, self._next_serial(), 0,
                      struct.pack(">I", self.rng.choice([NUM_FDS_MAX + 1, 0xFFFFFFFF])))

    def next(self, budget: int) -> tuple[bytes, int]:
        """One session's stream (at most ``budget`` fuzz frames) and how many it holds."""
        rng = self.rng
        count = min(budget, rng.randrange(50, 400))
        frames = [self.handshake()] if rng.random() < 0.9 else []
        makers = rng.choices(self._makers, self._weights, k=count)
        frames += [make() for make in makers]
        # The ends that cut a session short come late in it, so most frames are served.
        end = rng.random()
        if end < 0.2:
            frames[-1] = self.fatal()
        elif end < 0.3:
            frames[rng.randrange(len(frames) - count // 4, len(frames))] = self.lying_length()
        elif end < 0.35:
            frames.append(self._call(BY_NAME["CONNECT_GET_URI"].number, b"")[:-3])
        return b"".join(frames), count
