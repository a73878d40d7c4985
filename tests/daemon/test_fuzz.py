"""qvirtd under 100,000 bad frames (issue #5): the daemon stays up, answers every frame that
can be answered with the reply the header it read asks for, drops only the connection whose
framing it must refuse, keeps serving a python3-libvirt client throughout, and its memory does
not grow.

Several connections run at once from one thread (a selector), each pipelining a whole session
(fuzz_frames.Sessions) while reading the replies as they come, then checking them one by one
against fuzz_frames.expect's walk of the bytes it sent. A session whose stream ends mid-frame
half-closes its side so the daemon sees EOF; one that ends on a fatal frame does not, so only
the daemon itself can end it.
"""

from __future__ import annotations

import collections
import contextlib
import selectors
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from qvirt.errors import ErrorNumber
from qvirt.rpc.errors import FrameError
from qvirt.rpc.keepalive import KEEPALIVE_PROGRAM, KeepaliveProc
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    FrameParser,
    Header,
    Message,
    MessageType,
    encode_message,
)
from qvirt.rpc.remote import BY_NAME, PROCEDURES, RemoteError, call_frame
from qvirt.rpc.xdr import unpack
from tests.daemon.conftest import Daemon
from tests.daemon.fuzz_frames import Expectation, Owed, Sessions, expect
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

SEED = 5
FRAMES = 100_000
WARMUP = 20_000
CONNECTIONS = 4
CHECKPOINT = 10_000       # frames between two proofs that the real client still works
STALL = 120.0             # seconds without any traffic: the daemon hangs, fail

# python3-libvirt doing real calls until its stdin closes; "ok N" after each round.
CHECKER = """
import select, sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open(sys.argv[1])
dom = conn.defineXML("<domain type='qemu'><name>qd5-fuzz-probe</name><memory>65536</memory>"
                     "<os><type>hvm</type></os></domain>")
rounds = 0
try:
    while not select.select([sys.stdin], [], [], 0.005)[0]:
        conn.getVersion()
        assert [d.name() for d in conn.listAllDomains()] == ["qd5-fuzz-probe"]
        found = conn.lookupByName("qd5-fuzz-probe")
        assert found.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert "<name>qd5-fuzz-probe</name>" in found.XMLDesc(0)
        rounds += 1
        print("ok", rounds, flush=True)
finally:
    dom.undefine()
"""


class Checker:
    """The python3-libvirt client beside the fuzz, and a thread counting its rounds."""

    def __init__(self, uri: str) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, "-c", CHECKER, uri], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.rounds = 0
        self.done = False
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for _line in self.proc.stdout:
            with self.changed:
                self.rounds += 1
                self.changed.notify_all()
        with self.changed:
            self.done = True
            self.changed.notify_all()

    def progressed_since(self, mark: int) -> int:
        """Wait until a whole round ran after ``mark`` was taken; the count now."""
        with self.changed:
            self.changed.wait_for(lambda: self.rounds >= mark + 2 or self.done, timeout=STALL)
            assert self.rounds >= mark + 2, "the real client stalled or failed"
            return self.rounds

    def stop(self) -> str:
        """End the client (it undefines its domain); its stderr."""
        assert self.proc.stdin is not None and self.proc.stderr is not None
        if not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("stop\n")
                self.proc.stdin.close()
        self.proc.wait(timeout=120)
        self.reader.join()
        return self.proc.stderr.read()


@dataclass
class Conn:
    """One session in flight: its socket, the bytes left to send, the replies still owed."""

    slot: int
    sock: socket.socket
    stream: memoryview
    want: Expectation
    owed: dict[int, list[Owed]]
    maybe: dict[int, list[Owed]]
    sent: int = 0
    pongs: int = 0
    parser: FrameParser = field(default_factory=FrameParser)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def by_serial(replies: list[Owed]) -> dict[int, list[Owed]]:
    table: dict[int, list[Owed]] = {}
    for reply in replies:
        table.setdefault(reply.serial, []).append(reply)
    return table


def take(tables: tuple[dict[int, list[Owed]], ...], message: Message) -> Owed:
    """The owed (or, after a CONNECT_CLOSE, allowed) reply ``message`` answers: by serial,
    since a daemon may answer a client's calls in any order (libvirtd's workers do), and by
    procedure where serials repeat."""
    header = message.header
    for owed in tables:
        waiting = owed.get(header.serial, [])
        match = next((o for o in waiting if (o.prog, o.vers, o.proc) == (
            header.prog, header.vers, header.proc)), None)
        if match is not None:
            waiting.remove(match)
            if not waiting:
                del owed[header.serial]
            return match
    raise AssertionError(f"a reply nothing asked for: {header}")


def check_reply(message: Message, owed: Owed) -> None:
    """``message`` answers the frame ``owed`` stands for, with the error owed if known."""
    header = message.header
    assert (header.prog, header.vers, header.proc, header.type, header.serial) == (
        owed.prog, owed.vers, owed.proc, MessageType.REPLY, owed.serial), (header, owed)
    if header.status == 0:
        assert owed.error is None, (header, owed)
        unpack(PROCEDURES[header.proc].ret, message.payload)
        return
    assert header.status == 1, header
    err = unpack(RemoteError, message.payload)
    got = (err["code"], err["domain"], err["message"])
    if owed.error is not None:
        assert got == owed.error, (header, got, owed)
    else:
        # A driver's error, never the dispatcher's safety net for an unexpected exception.
        assert err["code"] != ErrorNumber.INTERNAL_ERROR or "unexpected failure" not in str(
            err["message"]), (header, got)


class Fuzzer:
    """Runs sessions over CONNECTIONS concurrent connections until a frame budget is spent."""

    def __init__(self, daemon: Daemon, checker: Checker) -> None:
        self.daemon, self.checker = daemon, checker
        self.sessions = Sessions(SEED)
        self.sent = 0
        self.totals: collections.Counter[str] = collections.Counter()
        self.mark = 0
        self.next_check = CHECKPOINT

    def _open(self, sel: selectors.BaseSelector, slot: int, budget: int) -> int:
        stream, count = self.sessions.next(budget)
        want = expect(stream)
        self.totals.update(want.counts)
        self.totals["sessions"] += 1
        sock = socket.socket(socket.AF_UNIX)
        # The last connection uses the read-only socket: its refusals are part of the mix.
        sock.connect(str(self.daemon.ro if slot == CONNECTIONS - 1 else self.daemon.rw))
        sock.setblocking(False)
        conn = Conn(slot, sock, memoryview(stream), want, by_serial(want.replies),
                    by_serial(want.maybe_replies))
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        return count

    def _write(self, sel: selectors.BaseSelector, conn: Conn) -> None:
        try:
            conn.sent += conn.sock.send(conn.stream[conn.sent:conn.sent + 262144])
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError):
            assert conn.want.fatal, "the daemon dropped a connection it had no reason to drop"
            conn.sent = len(conn.stream)
        if conn.sent == len(conn.stream):
            sel.modify(conn.sock, selectors.EVENT_READ, conn)
            if not conn.want.fatal:
                conn.sock.shutdown(socket.SHUT_WR)

    def _read(self, conn: Conn) -> bool:
        """Take what arrived and check it; False at the end of the connection."""
        try:
            data = conn.sock.recv(262144)
        except BlockingIOError:
            return True
        except ConnectionResetError:
            data = b""
        if not data:
            assert conn.sent == len(conn.stream) or conn.want.fatal, "dropped early"
            assert not conn.owed, f"replies never came: {list(conn.owed.values())[:3]}"
            assert conn.want.pongs <= conn.pongs <= conn.want.pongs + conn.want.maybe_pongs
            assert conn.parser.pending == 0
            return False
        try:
            messages = conn.parser.feed(data)
        except FrameError as err:
            raise AssertionError(f"the daemon sent a bad frame: {err}") from err
        for message in messages:
            header = message.header
            if header.prog == KEEPALIVE_PROGRAM:
                assert (header.proc, header.type) == (KeepaliveProc.PONG, MessageType.MESSAGE)
                conn.pongs += 1
                continue
            if header.type == MessageType.MESSAGE:
                # An event for a registration the fuzz happened to make: owed to nobody.
                continue
            check_reply(message, take((conn.owed, conn.maybe), message))
        return True

    def run(self, frames: int) -> None:
        """Send ``frames`` fuzz frames, then wait for every session to end."""
        target = self.sent + frames
        sel = selectors.DefaultSelector()
        for slot in range(CONNECTIONS):
            self.sent += self._open(sel, slot, target - self.sent)
        while sel.get_map():
            events = sel.select(timeout=STALL)
            assert events, "no traffic: the daemon stopped answering"
            for key, mask in events:
                conn = key.data
                if mask & selectors.EVENT_WRITE:
                    self._write(sel, conn)
                if mask & selectors.EVENT_READ and not self._read(conn):
                    sel.unregister(conn.sock)
                    conn.sock.close()
                    if self.sent >= self.next_check:
                        self.mark = self.checker.progressed_since(self.mark)
                        self.next_check += CHECKPOINT
                    if self.sent < target:
                        self.sent += self._open(sel, conn.slot, target - self.sent)
        sel.close()


def test_fuzz_frames(qvirtd: Daemon) -> None:
    checker = Checker(qvirtd.uri)
    try:
        mark = checker.progressed_since(0)
        fuzzer = Fuzzer(qvirtd, checker)
        fuzzer.mark = mark
        fuzzer.run(WARMUP)
        before = rss_kib(qvirtd.proc.pid)
        fuzzer.run(FRAMES - WARMUP)
        after = rss_kib(qvirtd.proc.pid)
        checker.progressed_since(fuzzer.mark)
    finally:
        err = checker.stop()
    assert checker.proc.returncode == 0, err
    assert qvirtd.proc.poll() is None
    assert fuzzer.sent == FRAMES
    print(f"\nfuzz: {dict(fuzzer.totals)}; checker rounds {checker.rounds}; "
          f"RSS {before} -> {after} KiB")
    assert after < before * 1.1, f"RSS grew from {before} to {after} KiB"
    # The mix reached every part of the daemon's refusals.
    for what in ("fatal length", "fatal short header", "fatal fd count", "incomplete at end",
                 "unknown program", "not a call", "bad status", "unknown procedure",
                 "unauthenticated", "undecodable args", "not open", "reaches the driver"):
        assert fuzzer.totals[what] > 0, what


# Bugs the fuzz found, each pinned on its own.

def _replies(path: Path, data: bytes) -> list[Message]:
    """Everything the daemon sends for ``data`` until it ends the connection (``data`` must
    end it, or be followed by the half-close here)."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(str(path))
    sock.sendall(data)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    parser = FrameParser()
    out: list[Message] = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        out += parser.feed(chunk)
    sock.close()
    return out


def _error(message: Message) -> tuple[int, int, str]:
    err = unpack(RemoteError, message.payload)
    return err["code"], err["domain"], err["message"]


def test_calls_before_a_bad_length_are_answered(qvirtd: Daemon) -> None:
    """The calls that arrive in the same read as a bad length word are served before the
    connection is dropped (they used to be discarded with the parser's whole batch)."""
    sessions = Sessions(SEED)
    uri = BY_NAME["CONNECT_GET_URI"]
    data = sessions.handshake() + b"".join(call_frame(uri, serial, None)
                                           for serial in (3, 4, 5))
    got = _replies(qvirtd.rw, data + b"\xff\xff\xff\xff")
    assert [(m.header.serial, m.header.status) for m in got] == [(n, 0) for n in range(1, 6)]
    assert unpack(uri.ret, got[-1].payload) == {"uri": "qemu:///system"}


# One at a time, each answered before the next is sent (libvirtd serves a client's calls in
# parallel): an unknown program with the high bits set, and CALL_WITH_FDS with no descriptors,
# before and after authentication.
HEADER_CASES = [
    encode_message(Header(0xF0000000, 0x80000001, 1, MessageType.CALL, 9, 0)),
    encode_message(Header(0xF0000000, 1, 1, MessageType.CALL_WITH_FDS, 10, 0), nfds=0),
    encode_message(Header(REMOTE_PROGRAM, 1, 66, MessageType.CALL_WITH_FDS, 11, 0), nfds=0),
    encode_message(Header(REMOTE_PROGRAM, 1, 110, MessageType.CALL_WITH_FDS, 12, 0), nfds=0),
]


def header_cases(path: Path) -> list[tuple[Header, object]]:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(str(path))
    parser = FrameParser()
    out: list[tuple[Header, object]] = []
    for frame in HEADER_CASES:
        sock.sendall(frame)
        while not (messages := parser.feed(sock.recv(65536))):
            pass
        reply = messages[0]
        out.append((reply.header, _error(reply) if reply.header.status else reply.payload))
    sock.close()
    return out


@pytest.mark.compat
def test_header_cases_match_libvirtd(qvirtd: Daemon) -> None:
    """virNetServerProgramUnknownError formats prog and vers with %d; CALL_WITH_FDS is a call
    (both were answered otherwise: unsigned, and not at all)."""
    ensure_libvirtd()
    have = header_cases(qvirtd.ro)
    assert have == header_cases(Path("/var/run/libvirt/libvirt-sock-ro"))
    assert have[0][1] == (39, 7, "Cannot find program -268435456 version -2147483647")
    assert [h.type for h, _ in have] == [MessageType.REPLY] * 4


def test_xml_that_is_not_utf8_is_an_xml_error(qvirtd: Daemon) -> None:
    """Bytes that are not UTF-8 reach libxml2 and get its refusal, not an internal error."""
    define = BY_NAME["DOMAIN_DEFINE_XML"]
    payload = (8).to_bytes(4, "big") + b"<d>\xff</d>"
    frame = encode_message(Header(REMOTE_PROGRAM, 1, define.number, 0, 3, 0), payload)
    got = _replies(qvirtd.rw, Sessions(SEED).handshake() + frame)
    code, _, text = _error(got[-1])
    assert (got[-1].header.serial, code) == (3, ErrorNumber.XML_DETAIL), text
    assert text.startswith("(domain_definition):1: "), text
