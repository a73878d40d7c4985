"""The remote driver's side of the protocol against a scripted server (tests/rpc/fakeserver.py):
the open sequence libvirt's client follows, the URI the server is asked to open, the server's
errors kept verbatim, events through the callback and the legacy procedures, and many threads
calling on one connection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import qvirt
from qvirt.errors import ErrorDomain, ErrorNumber
from qvirt.rpc.remote import BY_NAME, AuthType, event_frame
from tests.rpc.fakeserver import FakeServer

UUID = uuid.UUID("c7a5fdbd-cdaf-9455-926a-d65c16db1809")
DOM = {"name": "vm1", "uuid": UUID.bytes, "id": 3}


def _num(name: str) -> int:
    return BY_NAME[name].number


def replies(features: int) -> dict[int, Any]:
    return {
        _num("AUTH_LIST"): {"types": [AuthType.NONE]},
        _num("CONNECT_SUPPORTS_FEATURE"): {"supported": features},
        _num("CONNECT_OPEN"): None,
        _num("CONNECT_CLOSE"): None,
        _num("CONNECT_GET_HOSTNAME"): {"hostname": "far"},
        _num("DOMAIN_LOOKUP_BY_NAME"): {"dom": DOM},
        _num("CONNECT_DOMAIN_EVENT_REGISTER_ANY"): None,
        _num("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY"): None,
        _num("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY"): {"callbackID": 7},
        _num("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY"): None,
    }


LIFECYCLE = {"dom": DOM, "event": 5, "detail": 1}   # stopped, destroyed
THEN = {
    _num("CONNECT_DOMAIN_EVENT_REGISTER_ANY"):
        event_frame(BY_NAME["DOMAIN_EVENT_LIFECYCLE"], LIFECYCLE),
    _num("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY"):
        event_frame(BY_NAME["DOMAIN_EVENT_CALLBACK_LIFECYCLE"], {"callbackID": 6,
                                                                 "msg": LIFECYCLE})
        + event_frame(BY_NAME["DOMAIN_EVENT_CALLBACK_LIFECYCLE"], {"callbackID": 7,
                                                                   "msg": LIFECYCLE}),
}


def serve(tmp_path: Path, features: int) -> Iterator[FakeServer]:
    server = FakeServer(tmp_path / "sock", replies(features), THEN)
    try:
        yield server
    finally:
        server.close()
    assert server.failures == []


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[FakeServer]:
    yield from serve(tmp_path, 0)


@pytest.fixture
def modern(tmp_path: Path) -> Iterator[FakeServer]:
    yield from serve(tmp_path, 1)


def test_open_sequence_and_name(legacy: FakeServer, tmp_path: Path) -> None:
    conn = qvirt.openReadOnly(f"qemu+unix:///system?socket={tmp_path}/sock&mode=legacy&foo=bar")
    assert conn.getHostname() == "far"
    assert conn.getURI() == f"qemu+unix:///system?socket={tmp_path}/sock&mode=legacy&foo=bar"
    conn.close()
    assert legacy.calls == [
        (_num("AUTH_LIST"), None),
        (_num("CONNECT_SUPPORTS_FEATURE"), {"feature": 10}),
        (_num("CONNECT_OPEN"), {"name": "qemu:///system?foo=bar", "flags": 1}),
        (_num("CONNECT_SUPPORTS_FEATURE"), {"feature": 14}),
        (_num("CONNECT_GET_HOSTNAME"), None),
        (_num("CONNECT_CLOSE"), None),
    ]


def test_remote_scheme_opens_the_servers_default(legacy: FakeServer, tmp_path: Path) -> None:
    qvirt.open(f"remote+unix:///?socket={tmp_path}/sock").close()
    assert (_num("CONNECT_OPEN"), {"name": None, "flags": 0}) in legacy.calls


def test_server_error_is_raised_verbatim(legacy: FakeServer, tmp_path: Path) -> None:
    conn = qvirt.open(f"qemu+unix:///system?socket={tmp_path}/sock")
    with pytest.raises(qvirt.libvirtError) as caught:
        conn.getType()   # the scripted server answers NO_SUPPORT from the REMOTE domain
    assert caught.value.get_error_code() == ErrorNumber.NO_SUPPORT
    assert caught.value.get_error_domain() == ErrorDomain.REMOTE
    assert caught.value.get_error_message() == \
        "this function is not supported by the connection driver"
    conn.close()


def test_threads_share_one_connection(legacy: FakeServer, tmp_path: Path) -> None:
    conn = qvirt.open(f"qemu+unix:///system?socket={tmp_path}/sock")
    results: list[str] = []

    def work() -> None:
        for _ in range(100):
            results.append(conn.lookupByName("vm1").UUIDString())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [str(UUID)] * 800
    conn.close()


def receive_events(uri: str) -> list[tuple[str, int, int]]:
    conn = qvirt.open(uri)
    got: list[tuple[str, int, int]] = []
    done = threading.Event()

    def callback(c: qvirt.virConnect, dom: qvirt.virDomain, event: int, detail: int,
                 opaque: Any) -> None:
        got.append((dom.name(), event, detail))
        done.set()

    cid = conn.domainEventRegisterAny(None, qvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, callback, None)
    assert done.wait(30)
    conn.domainEventDeregisterAny(cid)
    conn.close()
    return got


def test_events_through_legacy_procedures(legacy: FakeServer, tmp_path: Path) -> None:
    assert receive_events(f"qemu+unix:///system?socket={tmp_path}/sock") == [("vm1", 5, 1)]
    procs = [proc for proc, _ in legacy.calls]
    assert _num("CONNECT_DOMAIN_EVENT_REGISTER_ANY") in procs
    assert _num("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY") in procs


def test_events_through_callback_procedures(modern: FakeServer, tmp_path: Path) -> None:
    # Of the two events the server sends, only the one for our callback id is delivered.
    assert receive_events(f"qemu+unix:///system?socket={tmp_path}/sock") == [("vm1", 5, 1)]
    assert (_num("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY"), {"eventID": 0, "dom": None}) \
        in modern.calls
    assert (_num("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY"), {"callbackID": 7}) \
        in modern.calls
