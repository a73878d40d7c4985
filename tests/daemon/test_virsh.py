"""qvirtd against Debian's real libvirt clients: virsh prints the same for qvirtd as for the
real libvirtd doing the same steps; the read-only socket refuses writes with libvirt's text; a
client sending garbage is dropped while another keeps working; python3-libvirt lists domains."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from qvirt.rpc.keepalive import KEEPALIVE_PROGRAM, KeepaliveProc, keepalive_frame
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    FrameParser,
    Header,
    encode_message,
)
from qvirt.rpc.remote import BY_NAME, AuthType, RemoteError, call_frame
from qvirt.rpc.xdr import Struct, unpack
from tests.daemon.conftest import QVIRTD, Daemon, guest_xml, virsh
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"


# Between these two steps the guest is given time to power off: its shutdown is pressed again
# (a press during boot, before acpid listens, is lost) until it is shut off. Not compared.
UNTIL_SHUT_OFF = ("(wait until shut off)",)


def steps(name: str, xml: Path) -> list[tuple[str, ...]]:
    return [("version",), ("uri",), ("hostname",), ("nodeinfo",), ("capabilities",),
            ("define", str(xml)), ("list", "--all"), ("dumpxml", "--inactive", name),
            ("start", name), ("dominfo", name), ("domstate", "--reason", name),
            ("dumpxml", name), ("suspend", name), ("domstate", "--reason", name),
            ("resume", name), ("list", "--all"), ("destroy", name),
            ("domstate", "--reason", name), ("start", name), ("shutdown", name),
            UNTIL_SHUT_OFF, ("domstate", "--reason", name), ("undefine", name),
            ("dominfo", name)]


# What legitimately differs between the two daemons' documents: the user QEMU runs as
# (libvirt-qemu under libvirtd, root under this qvirtd), generated MAC addresses, the domain
# id, the ptys QEMU allocated, the agent socket's directory (each daemon's state directory)
# and whether the guest's agent has opened its port yet.
DOCUMENT_NOISE = [
    (r"\+\d+:\+\d+", "+UID:+GID"), (r"52:54:00(:[0-9a-f]{2}){3}", "52:54:00:XX:XX:XX"),
    (r"(<domain type='\w+') id='\d+'", r"\1 id='ID'"), (r"/dev/pts/\d+", "/dev/pts/N"),
    (r"path='[^']*/(org\.qemu\.guest_agent\.0)'", r"path='STATE/\1'"),
    (r"state='(dis)?connected'", "state='STATE'"),
]
DOCUMENTS = frozenset({"capabilities", "dumpxml"})


def normalize(text: str, name: str, xml: Path, socket_path: str, command: str = "") -> str:
    """What legitimately differs between two daemons: ids, uuids, CPU time, the socket path,
    the XML file's directory, the CPU's current clock, other users' domains in lists, and
    in documents DOCUMENT_NOISE."""
    if command in DOCUMENTS:
        for pattern, replacement in DOCUMENT_NOISE:
            text = re.sub(pattern, replacement, text)
    text = text.replace(socket_path, "SOCKET").replace(str(xml.parent), "DIR")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"(?m)^(Id:\s+)\d+$", r"\1ID", text)
    text = re.sub(r"(?m)^ \d+\s+(" + re.escape(name) + ")", r" ID   \1", text)
    text = re.sub(r"(?m)^(CPU time:\s+)\S+$", r"\1TIME", text)
    text = re.sub(r"(?m)^(CPU frequency:\s+)\d+", r"\1MHZ", text)
    lines = [line for line in text.splitlines()
             if not re.match(r"^ (\d+|-)\s+\S", line) or f" {name} " in f"{line} "]
    if command == "list":
        # Columns are as wide as the longest name, other users' domains included.
        lines = [re.sub(r" {2,}", "  ", re.sub(r"^-+$", "-", line)) for line in lines]
    return "\n".join(lines)


def wait_shut_off(uri: str, name: str) -> None:
    for attempt in range(180):
        if virsh(uri, "domstate", name).stdout.startswith("shut off"):
            return
        if attempt % 5 == 4:
            virsh(uri, "shutdown", name)
        time.sleep(1)
    raise AssertionError(f"{name} did not power off")


def run_steps(uri: str, socket_path: str, name: str, xml: Path) -> list[tuple[int, str, str]]:
    out = []
    for step in steps(name, xml):
        if step == UNTIL_SHUT_OFF:
            wait_shut_off(uri, name)
            continue
        result = virsh(uri, *step)
        out.append((result.returncode,
                    normalize(result.stdout, name, xml, socket_path, step[0]),
                    normalize(result.stderr, name, xml, socket_path, step[0])))
    return out


@pytest.mark.integration
@pytest.mark.compat
def test_virsh_matches_libvirtd(qvirtd: Daemon, tiny_image: Path, guest_dir: Path) -> None:
    ensure_libvirtd()
    name = f"qd5-{os.getpid()}-virsh"
    try:
        want = run_steps(LIBVIRTD_URI, "/var/run/libvirt/libvirt-sock", name,
                         guest_xml(tiny_image, guest_dir / "l", name))
    finally:
        virsh(LIBVIRTD_URI, "destroy", name)
        virsh(LIBVIRTD_URI, "undefine", name)
    have = run_steps(qvirtd.uri, str(qvirtd.rw), name, guest_xml(tiny_image, guest_dir / "q",
                                                                   name))
    compared = [step for step in steps(name, Path()) if step != UNTIL_SHUT_OFF]
    for step, expected, got in zip(compared, want, have, strict=True):
        assert got == expected, f"{step}: {got} != {expected}"
    # Both starts succeeded on libvirtd: the comparison covers a running guest, and the
    # guest powered off by itself.
    codes = {step: code for step, (code, _, _) in zip(compared, want, strict=True)}
    assert codes[("start", name)] == codes[("shutdown", name)] == 0
    assert want[compared.index(("shutdown", name)) + 1][1].startswith("shut off (shutdown)")


@pytest.mark.compat
def test_read_only_socket_refuses_writes(qvirtd: Daemon, tiny_image: Path,
                                         tmp_path: Path) -> None:
    name = "qd5-ro"
    xml = guest_xml(tiny_image, tmp_path / "g", name)
    refused = virsh(qvirtd.ro_uri, "define", str(xml))
    assert refused.returncode == 1
    assert refused.stderr == (f"error: Failed to define domain from {xml}\n"
                              "error: operation forbidden: read only access prevents "
                              "virDomainDefineXML\n")
    assert virsh(qvirtd.uri, "define", str(xml)).returncode == 0
    refused = virsh(qvirtd.ro_uri, "start", name)
    assert refused.stderr == (f"error: Failed to start domain '{name}'\n"
                              "error: operation forbidden: read only access prevents "
                              "virDomainCreate\n")
    listed = virsh(qvirtd.ro_uri, "list", "--all", "--name")
    assert listed.stdout == f"{name}\n\n"
    assert virsh(qvirtd.uri, "undefine", name).returncode == 0


def _connect(path: Path) -> socket.socket:
    """A raw client; the timeout turns a daemon that never answers into a failure, not a hang."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(str(path))
    return sock


def _call(sock: socket.socket, parser: FrameParser, name: str, serial: int,
          args: object) -> tuple[Header, bytes]:
    sock.sendall(call_frame(BY_NAME[name], serial, args))
    while not (messages := parser.feed(sock.recv(65536))):
        pass
    return messages[0].header, messages[0].payload


def _open(sock: socket.socket, parser: FrameParser) -> None:
    """What every libvirt client sends first: AUTH_LIST (completing auth "none"), then
    CONNECT_OPEN; both must succeed."""
    for serial, (name, args) in enumerate(
            [("AUTH_LIST", None), ("CONNECT_OPEN", {"name": "qemu:///system", "flags": 0})]):
        header, _ = _call(sock, parser, name, 100 + serial, args)
        assert header.status == 0, name


# Raw calls in an order no libvirt client uses: before auth, before open, then open.
HANDSHAKE: list[tuple[str, object]] = [
    ("CONNECT_SUPPORTS_FEATURE", {"feature": 10}), ("CONNECT_GET_URI", None),
    ("CONNECT_OPEN", {"name": "qemu:///system", "flags": 0}), ("AUTH_LIST", None),
    ("CONNECT_GET_URI", None), ("CONNECT_SUPPORTS_FEATURE", {"feature": 10}),
    ("DOMAIN_LOOKUP_BY_NAME", {"name": "qd5-nosuch"}),
    ("CONNECT_OPEN", {"name": "qemu:///system", "flags": 0}), ("CONNECT_GET_URI", None),
    ("CONNECT_SUPPORTS_FEATURE", {"feature": 10}),
]


def handshake(path: Path) -> list[tuple[int, object]]:
    """HANDSHAKE's replies: status and decoded ret, or code, domain and message of the error."""
    sock = _connect(path)
    parser = FrameParser()
    out: list[tuple[int, object]] = []
    for serial, (name, args) in enumerate(HANDSHAKE, start=1):
        header, payload = _call(sock, parser, name, serial, args)
        if header.status:
            err = unpack(RemoteError, payload)
            out.append((header.status, (err["code"], err["domain"], err["message"])))
        else:
            out.append((header.status, unpack(BY_NAME[name].ret, payload)))
    sock.close()
    return out


@pytest.mark.compat
def test_auth_and_open_order_match_libvirtd(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    have = handshake(qvirtd.ro)
    assert have == handshake(Path("/var/run/libvirt/libvirt-sock-ro"))
    assert have[-2] == (0, {"uri": "qemu:///system"})


@pytest.mark.compat
def test_garbage_drops_only_that_client(qvirtd: Daemon) -> None:
    good = _connect(qvirtd.rw)
    parser = FrameParser()
    _open(good, parser)

    bad = _connect(qvirtd.rw)
    bad.sendall(b"\xff\xff\xff\xff garbage")
    assert bad.recv(65536) == b""  # closed by the daemon, no reply
    bad.close()

    header, payload = _call(good, parser, "CONNECT_GET_URI", 2, None)
    assert (header.serial, header.status) == (2, 0)
    assert unpack(BY_NAME["CONNECT_GET_URI"].ret, payload) == {"uri": "qemu:///system"}
    good.close()
    assert virsh(qvirtd.uri, "list", "--all").returncode == 0


def unknown_procedure(path: Path) -> tuple[object, ...]:
    """The reply to a CALL of procedure 9999 (none has that number): header and error."""
    sock = _connect(path)
    parser = FrameParser()
    frame = bytearray(call_frame(BY_NAME["CONNECT_GET_URI"], 5, None))
    frame[12:16] = (9999).to_bytes(4, "big")  # the header's proc word
    sock.sendall(bytes(frame))
    while not (messages := parser.feed(sock.recv(65536))):
        pass
    sock.close()
    header = messages[0].header
    err = unpack(RemoteError, messages[0].payload)
    return (header.prog, header.vers, header.proc, header.serial, header.status, err["code"],
            err["domain"], err["message"])


@pytest.mark.compat
def test_unknown_procedure_gets_libvirts_error(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    have = unknown_procedure(qvirtd.rw)
    assert have == unknown_procedure(Path("/var/run/libvirt/libvirt-sock-ro"))
    assert have == (REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, 9999, 5, 1, 39, 7,
                    "unknown procedure: 9999")


# Well-framed but wrong messages, each owed an error reply but a REPLY sent by the client
# (dropped), and none fatal: the AUTH_LIST among them is answered.
BAD_MESSAGES = [
    encode_message(Header(0x1234, 1, 1, 0, 7, 0)),                        # unknown program
    encode_message(Header(REMOTE_PROGRAM, 1, 110, 1, 8, 0)),              # a REPLY, dropped
    call_frame(BY_NAME["AUTH_LIST"], 9, None),
    encode_message(Header(REMOTE_PROGRAM, 1, 110, 0, 10, 1)),             # status ERROR
    encode_message(Header(REMOTE_PROGRAM, 1, 23, 0, 11, 0), b"\0\0"),     # truncated args
]


def bad_messages(path: Path) -> list[tuple[Header, tuple[object, ...]]]:
    """The replies to BAD_MESSAGES, each sent once the one before it is answered (libvirtd
    answers a client's calls in parallel, so their order is otherwise its workers')."""
    sock = _connect(path)
    parser = FrameParser()
    got: list[tuple[Header, tuple[object, ...]]] = []
    for frame in BAD_MESSAGES:
        sock.sendall(frame)
        if frame is BAD_MESSAGES[1]:
            continue
        while not (messages := parser.feed(sock.recv(65536))):
            pass
        header = messages[0].header
        if header.status:
            err = unpack(RemoteError, messages[0].payload)
            got.append((header, (err["code"], err["domain"], err["message"])))
        else:
            got.append((header, (unpack(BY_NAME["AUTH_LIST"].ret, messages[0].payload),)))
    sock.close()
    return got


@pytest.mark.compat
def test_bad_messages_get_libvirts_replies(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    have = bad_messages(qvirtd.ro)
    assert have == bad_messages(Path("/var/run/libvirt/libvirt-sock-ro"))
    assert [(header.serial, reply) for header, reply in have] == [
        (7, (39, 7, "Cannot find program 4660 version 1")), (9, ({"types": [AuthType.NONE]},)),
        (10, (39, 7, "Unexpected message status 1")),
        (11, (39, 7, "Unable to decode message payload"))]


def test_keepalive_ping_gets_pong(qvirtd: Daemon) -> None:
    sock = _connect(qvirtd.rw)
    parser = FrameParser()
    sock.sendall(keepalive_frame(KeepaliveProc.PING))
    while not (messages := parser.feed(sock.recv(65536))):
        pass
    assert messages[0].header == Header(KEEPALIVE_PROGRAM, 1, KeepaliveProc.PONG, 2, 0, 0)
    sock.close()


@pytest.mark.compat
def test_python_libvirt_lists_domains(qvirtd: Daemon, tiny_image: Path,
                                      tmp_path: Path) -> None:
    for name in ("qd5-a", "qd5-b"):
        xml = guest_xml(tiny_image, tmp_path / name, name)
        assert virsh(qvirtd.uri, "define", str(xml)).returncode == 0
    script = ("import sys, libvirt\n"
              "conn = libvirt.open(sys.argv[1])\n"
              "print(sorted((d.name(), d.ID(), d.isActive()) for d in conn.listAllDomains()))\n"
              "print(conn.numOfDefinedDomains(), conn.listDefinedDomains().__len__())\n"
              "try:\n"
              "    conn.lookupByName('qd5-nosuch')\n"
              "except libvirt.libvirtError as e:\n"
              "    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())\n")
    result = subprocess.run([SYSTEM_PYTHON, "-c", script, qvirtd.uri], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("[('qd5-a', -1, 0), ('qd5-b', -1, 0)]\n2 2\n"
                             "42 10 Domain not found: no domain with matching name "
                             "'qd5-nosuch'\n")


# Every mutating procedure qvirtd serves, with the API libvirt names in its refusal.
MUTATING = {
    "DOMAIN_DEFINE_XML": "virDomainDefineXML", "DOMAIN_DEFINE_XML_FLAGS":
    "virDomainDefineXMLFlags", "DOMAIN_CREATE_XML": "virDomainCreateXML",
    "DOMAIN_CREATE": "virDomainCreate", "DOMAIN_CREATE_WITH_FLAGS": "virDomainCreateWithFlags",
    "DOMAIN_UNDEFINE": "virDomainUndefine", "DOMAIN_UNDEFINE_FLAGS": "virDomainUndefineFlags",
    "DOMAIN_SUSPEND": "virDomainSuspend", "DOMAIN_RESUME": "virDomainResume",
    "DOMAIN_SHUTDOWN": "virDomainShutdown", "DOMAIN_SHUTDOWN_FLAGS": "virDomainShutdownFlags",
    "DOMAIN_REBOOT": "virDomainReboot", "DOMAIN_RESET": "virDomainReset",
    "DOMAIN_DESTROY": "virDomainDestroy", "DOMAIN_DESTROY_FLAGS": "virDomainDestroyFlags",
    "DOMAIN_SET_AUTOSTART": "virDomainSetAutostart",
    "DOMAIN_OPEN_CONSOLE": "virDomainOpenConsole",
    "DOMAIN_SCREENSHOT": "virDomainScreenshot",
}
_ANY_DOM = {"name": "qd5-x", "uuid": bytes(16), "id": -1}
_ARGS = {"dom": _ANY_DOM, "flags": 0, "xml": "<domain/>", "xml_desc": "<domain/>",
         "autostart": 1, "dev_name": None, "screen": 0}


def refusals(path: Path) -> list[tuple[int, int, str]]:
    """Each mutating procedure sent raw to a read-only socket: the error replies' code, domain
    and message, in MUTATING's order."""
    sock = _connect(path)
    parser = FrameParser()
    _open(sock, parser)
    out = []
    for serial, name in enumerate(MUTATING, start=2):
        layout = BY_NAME[name].args
        assert isinstance(layout, Struct)
        args = {field: _ARGS[field] for field, _ in layout.fields}
        header, payload = _call(sock, parser, name, serial, args)
        assert (header.serial, header.status) == (serial, 1), name
        err = unpack(RemoteError, payload)
        out.append((err["code"], err["domain"], err["message"]))
    sock.close()
    return out


@pytest.mark.compat
def test_read_only_socket_refuses_every_mutating_procedure(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    have = refusals(qvirtd.ro)
    assert have == refusals(Path("/var/run/libvirt/libvirt-sock-ro"))
    assert have == [(29, 20, f"operation forbidden: read only access prevents {api}")
                    for api in MUTATING.values()]


def test_idle_timeout_exits_cleanly(tmp_path: Path) -> None:
    proc = subprocess.run([QVIRTD, "--root", str(tmp_path / "r"), "--timeout", "0.2"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "r" / "run" / "qvirt" / "qvirt-sock").exists()
