"""Domain events from qvirtd: python3-libvirt's own event loop receives a tiny guest's
lifecycle as from libvirtd; raw clients see the legacy and callback registrations, their
errors and CONNECT_CLOSE as libvirtd answers them; a client's registrations go with it."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qvirt import constants as C
from qvirt.client import entry
from qvirt.client.uri import parse_uri
from qvirt.daemon.events import ClientEvents
from qvirt.drivers.registry import open_driver
from qvirt.errors import InvalidArg
from qvirt.rpc.packet import FrameParser, Message, MessageType
from qvirt.rpc.remote import BY_NAME, PROCEDURES, RemoteError, call_frame
from qvirt.rpc.xdr import unpack
from tests.daemon.conftest import Daemon, guest_xml, virsh
from tests.daemon.test_virsh import LIBVIRTD_URI
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

LIBVIRTD_SOCK = Path("/var/run/libvirt/libvirt-sock")

# Run by /usr/bin/python3 with libvirt's default event loop on a thread of its own, as a
# libvirt-python application runs it. Three callbacks: every domain, the tiny guest only, and
# a second domain only (which sees nothing of the guest). The guest is defined, started,
# suspended, resumed, destroyed and undefined; then the other domain is undefined.
SCRIPT = """
import re, sys, threading, libvirt
uri, xml, other_xml = sys.argv[1:]
mine = {re.search("<name>(.*?)</name>", open(f).read()).group(1) for f in (xml, other_xml)}
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(uri)
got = {"all": [], "dom": [], "other": []}
done = threading.Semaphore(0)
def seen(conn, dom, event, detail, which):
    got[which].append((dom.name(), event, detail))
    if event == libvirt.VIR_DOMAIN_EVENT_UNDEFINED and dom.name() in mine:
        done.release()
other = conn.defineXML(open(other_xml).read())
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, seen, "all")
conn.domainEventRegisterAny(other, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, seen, "other")
dom = conn.defineXML(open(xml).read())
conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, seen, "dom")
dom.create(); dom.suspend(); dom.resume(); dom.destroy(); dom.undefine()
other.undefine()
# UNDEFINED: twice for "all", once for each of the others.
for _ in range(4):
    assert done.acquire(timeout=120)
print(repr(got))
"""

def lifecycle(uri: str, xml: Path, other_xml: Path, python: str = SYSTEM_PYTHON,
              script: str = SCRIPT) -> dict[str, list[tuple[str, int, int]]]:
    """What ``script`` run by ``python`` receives: python3-libvirt unless told otherwise."""
    result = subprocess.run([python, "-c", script, uri, str(xml), str(other_xml)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    got: dict[str, list[tuple[str, int, int]]] = eval(result.stdout)  # the script's repr()
    return got


@pytest.mark.integration
@pytest.mark.compat
def test_python_libvirt_receives_lifecycle_events(qvirtd: Daemon, tiny_image: Path,
                                                  guest_dir: Path) -> None:
    name, other = f"qd5-{os.getpid()}-ev", f"qd5-{os.getpid()}-ev-other"
    have = lifecycle(qvirtd.uri, guest_xml(tiny_image, guest_dir / "q", name),
                     guest_xml(tiny_image, guest_dir / "q2", other))
    guest = [
        (name, C.VIR_DOMAIN_EVENT_RESUMED, C.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (name, C.VIR_DOMAIN_EVENT_STARTED, C.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (name, C.VIR_DOMAIN_EVENT_SUSPENDED, C.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (name, C.VIR_DOMAIN_EVENT_RESUMED, C.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (name, C.VIR_DOMAIN_EVENT_SHUTDOWN, C.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
        (name, C.VIR_DOMAIN_EVENT_STOPPED, C.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
        (name, C.VIR_DOMAIN_EVENT_UNDEFINED, C.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
    ]
    other_gone = (other, C.VIR_DOMAIN_EVENT_UNDEFINED, C.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
    assert have == {
        "all": [(name, C.VIR_DOMAIN_EVENT_DEFINED, C.VIR_DOMAIN_EVENT_DEFINED_ADDED), *guest,
                other_gone],
        "dom": guest,
        "other": [other_gone],
    }
    ensure_libvirtd()
    try:
        want = lifecycle(LIBVIRTD_URI, guest_xml(tiny_image, guest_dir / "l", name),
                         guest_xml(tiny_image, guest_dir / "l2", other))
    finally:
        for leftover in (name, other):
            virsh(LIBVIRTD_URI, "destroy", leftover)
            virsh(LIBVIRTD_URI, "undefine", leftover)
    # libvirtd is shared with other tests: its "all domains" callback also sees their domains.
    want["all"] = [event for event in want["all"] if event[0] in (name, other)]
    assert have == want


class Raw:
    """A raw client of the REMOTE program that keeps event messages apart from replies."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)  # a daemon that never answers fails the test, not hangs it
        self.sock.connect(str(path))
        self.parser = FrameParser()
        self.pending: list[Message] = []
        self.events: list[Message] = []
        self.serial = 0
        self.call("AUTH_LIST", None)
        self.call("CONNECT_OPEN", {"name": "qemu:///system", "flags": 0})

    def receive(self) -> Message:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.pending += self.parser.feed(data)
        return self.pending.pop(0)

    def call(self, name: str, args: object) -> tuple[int, Any]:
        """(0, ret) or (1, (code, domain, message)); events met on the way are kept."""
        self.serial += 1
        self.sock.sendall(call_frame(BY_NAME[name], self.serial, args))
        while (message := self.receive()).header.type != MessageType.REPLY:
            self.events.append(message)
        assert message.header.serial == self.serial
        if message.header.status:
            err = unpack(RemoteError, message.payload)
            return 1, (err["code"], err["domain"], err["message"])
        return 0, unpack(BY_NAME[name].ret, message.payload)

    def event(self) -> tuple[str, Any]:
        """The next event: its procedure's name and its body, the domain's uuid left out."""
        message = self.events.pop(0) if self.events else self.receive()
        assert (message.header.type, message.header.serial, message.header.status) == \
            (MessageType.MESSAGE, 1, 0)
        procedure = PROCEDURES[message.header.proc]
        body = unpack(procedure.args, message.payload)
        msg = body.get("msg", body)
        msg["dom"].pop("uuid")
        return procedure.name, body

    def closed_by_peer(self) -> bool:
        try:
            self.receive()
        except EOFError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


# A callback id no daemon here hands out in a test's lifetime.
UNKNOWN_ID = 999999


def registrations(path: Path, xml: Path, name: str) -> list[object]:
    """The legacy and the callback registration, each seeing a define or an undefine, with
    the errors of their misuse; the close callback; then CONNECT_CLOSE."""
    raw = Raw(path)
    out: list[object] = [
        raw.call("CONNECT_SUPPORTS_FEATURE", {"feature": 14}),
        raw.call("CONNECT_SUPPORTS_FEATURE", {"feature": 15}),
        raw.call("CONNECT_REGISTER_CLOSE_CALLBACK", None),
        raw.call("CONNECT_DOMAIN_EVENT_REGISTER_ANY", {"eventID": 0}),
        raw.call("CONNECT_DOMAIN_EVENT_REGISTER_ANY", {"eventID": 16}),
        raw.call("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY", {"eventID": 27, "dom": None}),
        raw.call("DOMAIN_DEFINE_XML", {"xml": xml.read_text()})[0],
        raw.event(),
        raw.call("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY", {"eventID": 0}),
        raw.call("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY", {"eventID": 0}),
    ]
    status, ret = raw.call("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY",
                           {"eventID": 0, "dom": None})
    dom = raw.call("DOMAIN_LOOKUP_BY_NAME", {"name": name})[1]["dom"]
    out += [status,
            raw.call("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", {"callbackID": UNKNOWN_ID}),
            raw.call("DOMAIN_UNDEFINE", {"dom": dom})[0]]
    kind, body = raw.event()
    # The id counts per daemon: what matters is that the message names the registration.
    out.append((kind, {**body, "callbackID": body["callbackID"] == ret["callbackID"]}))
    out += [raw.call("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY",
                     {"callbackID": ret["callbackID"]}),
            raw.call("CONNECT_UNREGISTER_CLOSE_CALLBACK", None),
            raw.call("CONNECT_CLOSE", None), raw.closed_by_peer()]
    raw.close()
    return out


@pytest.mark.compat
def test_registrations_answer_as_libvirtd(qvirtd: Daemon, tiny_image: Path,
                                          guest_dir: Path) -> None:
    name = f"qd5-{os.getpid()}-raw"
    have = registrations(qvirtd.rw, guest_xml(tiny_image, guest_dir / "q", name), name)
    dom = {"name": name, "id": -1}
    assert have == [
        (0, {"supported": 1}), (0, {"supported": 1}), (0, None), (0, None),
        (1, (1, 7, "internal error: unsupported event ID 16")),
        (1, (1, 7, "internal error: unsupported event ID 27")),
        0, ("DOMAIN_EVENT_LIFECYCLE", {"dom": dom, "event": 0, "detail": 0}),
        (0, None), (1, (1, 7, "internal error: domain event 0 not registered")),
        0, (1, (1, 7, f"internal error: domain event callback {UNKNOWN_ID} not registered")),
        0, ("DOMAIN_EVENT_CALLBACK_LIFECYCLE",
            {"callbackID": True, "msg": {"dom": dom, "event": 1, "detail": 0}}),
        (0, None), (0, None), (0, None), True,
    ]
    ensure_libvirtd()
    try:
        want = registrations(LIBVIRTD_SOCK, guest_xml(tiny_image, guest_dir / "l", name), name)
    finally:
        virsh(LIBVIRTD_URI, "undefine", name)
    assert have == want


def test_registrations_go_with_the_client() -> None:
    """ClientEvents on the in-memory test driver: events reach the client while registered;
    once cleared (the client went), the driver holds none of its callbacks."""
    driver = open_driver(parse_uri("test:///default"))
    try:
        frames: list[bytes] = []
        events = ClientEvents(lambda api, *a: entry.call(driver, False, api, *a), frames.append)
        test = driver.domain_lookup_by_name("test")
        legacy = events.register(C.VIR_DOMAIN_EVENT_ID_LIFECYCLE, None, legacy=True)
        by_id = events.register(C.VIR_DOMAIN_EVENT_ID_LIFECYCLE, test, legacy=False)
        driver.domain_suspend(test)
        assert len(frames) == 2
        events.clear()
        driver.domain_resume(test)
        assert len(frames) == 2
        for callback_id in (legacy, by_id):
            with pytest.raises(InvalidArg, match="could not find event callback"):
                driver.connect_domain_event_deregister_any(callback_id)
    finally:
        driver.connect_close()
