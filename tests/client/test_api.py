"""The public API's common path: handle checks, read-only refusals, NoSupport for what a driver
lacks, error reporting, and which URIs open which driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

import qvirt
from qvirt.client import entry
from qvirt.drivers.test import driver as test_driver
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

XML = ("<domain type='test'><name>apitest</name>"
       "<uuid>8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e10</uuid><memory>1024</memory>"
       "<os><type>hvm</type></os></domain>")


@pytest.fixture
def conn() -> Iterator[qvirt.virConnect]:
    c = qvirt.open("test:///default")
    yield c
    if c._driver is not None:
        c.close()


def error_of(call: Callable[[], Any]) -> tuple[int, int, str]:
    with pytest.raises(QvirtError) as caught:
        call()
    return caught.value.code, caught.value.domain, caught.value.message


# Every entry point that writes, called on a read-only connection.
WRITES: dict[str, Callable[[qvirt.virConnect, qvirt.virDomain], Any]] = {
    "virDomainDefineXML": lambda c, d: c.defineXML(XML),
    "virDomainDefineXMLFlags": lambda c, d: c.defineXMLFlags(XML, 0),
    "virDomainCreateXML": lambda c, d: c.createXML(XML, 0),
    "virDomainUndefine": lambda c, d: d.undefine(),
    "virDomainUndefineFlags": lambda c, d: d.undefineFlags(0),
    "virDomainCreate": lambda c, d: d.create(),
    "virDomainCreateWithFlags": lambda c, d: d.createWithFlags(0),
    "virDomainSuspend": lambda c, d: d.suspend(),
    "virDomainResume": lambda c, d: d.resume(),
    "virDomainShutdown": lambda c, d: d.shutdown(),
    "virDomainShutdownFlags": lambda c, d: d.shutdownFlags(0),
    "virDomainReboot": lambda c, d: d.reboot(0),
    "virDomainReset": lambda c, d: d.reset(0),
    "virDomainDestroy": lambda c, d: d.destroy(),
    "virDomainDestroyFlags": lambda c, d: d.destroyFlags(0),
    "virDomainSetAutostart": lambda c, d: d.setAutostart(1),
    "virDomainOpenConsole": lambda c, d: d.openConsole(None, c.newStream(0), 0),
    "virDomainScreenshot": lambda c, d: d.screenshot(c.newStream(0), 0, 0),
    "virDomainSetMetadata": lambda c, d: d.setMetadata(1, "a\nb", None, None, 0),
    "virConnectDomainXMLToNative": lambda c, d: c.domainXMLToNative("qemu-argv", XML, 0),
    "virConnectDomainXMLFromNative": lambda c, d: c.domainXMLFromNative("qemu-argv", "", 0),
    "virDomainAttachDevice": lambda c, d: d.attachDevice(XML),
    "virDomainAttachDeviceFlags": lambda c, d: d.attachDeviceFlags(XML, 0),
    "virDomainDetachDevice": lambda c, d: d.detachDevice(XML),
    "virDomainDetachDeviceFlags": lambda c, d: d.detachDeviceFlags(XML, 0),
    "virDomainUpdateDeviceFlags": lambda c, d: d.updateDeviceFlags(XML, 0),
}


def test_every_writing_entry_point_is_checked() -> None:
    """The storage and network parts' are checked with their own APIs."""
    assert set(WRITES) == {e.api for e in entry.ENTRIES.values() if e.writes and not e.part}


@pytest.mark.parametrize("api", sorted(WRITES))
def test_read_only_refuses(api: str) -> None:
    ro = qvirt.openReadOnly("test:///default")
    try:
        dom = ro.lookupByName("test")
        assert error_of(lambda: WRITES[api](ro, dom)) == (
            ErrorNumber.OPERATION_DENIED, ErrorDomain.DOMAIN,
            f"operation forbidden: read only access prevents {api}")
        assert dom.state() == [qvirt.VIR_DOMAIN_RUNNING, qvirt.VIR_DOMAIN_RUNNING_UNKNOWN]
        assert ro.listDefinedDomains() == []
    finally:
        ro.close()


def test_read_only_refuses_secure_xml_but_reads_the_rest() -> None:
    ro = qvirt.openReadOnly("test:///default")
    try:
        dom = ro.lookupByName("test")
        assert "<name>test</name>" in dom.XMLDesc(0)
        assert error_of(lambda: dom.XMLDesc(qvirt.VIR_DOMAIN_XML_SECURE)) == (
            ErrorNumber.OPERATION_DENIED, ErrorDomain.DOMAIN,
            "operation forbidden: virDomainGetXMLDesc with secure flag")
    finally:
        ro.close()


class PartialDriver(test_driver.TestDriver):
    """A driver without one entry point, to see the API refuse it rather than fail."""

    domain_get_os_type = None  # type: ignore[assignment]


def test_missing_driver_method_is_no_support() -> None:
    driver = PartialDriver("test:///default", "/default")
    try:
        dom = driver.domain_lookup_by_name("test")
        as_driver = cast(Any, driver)
        assert error_of(lambda: entry.call(as_driver, False, "virDomainGetOSType", dom)) == (
            ErrorNumber.NO_SUPPORT, ErrorDomain.DOMAIN,
            "this function is not supported by the connection driver: virDomainGetOSType")
    finally:
        driver.connect_close()


def test_closed_connection(conn: qvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    assert conn.close() == 1  # the domain handle still refers to it
    for call, api in [(conn.getType, "virConnectGetType"), (conn.isAlive, "virConnectIsAlive"),
                      (dom.info, "virDomainGetInfo"), (conn.close, "virConnectClose")]:
        assert error_of(call) == (ErrorNumber.INVALID_CONN, ErrorDomain.DOMAIN,
                                  f"invalid connection pointer in {api}")


def test_error_handler_sees_each_error_once(conn: qvirt.virConnect) -> None:
    seen: list[tuple[Any, ...]] = []
    qvirt.registerErrorHandler(lambda ctx, err: seen.append((ctx, *err[:3])), "ctx")
    try:
        error_of(lambda: conn.lookupByName("nope"))
        dom = conn.defineXML(XML)
        dom.undefine()  # the API's own look-up of the gone domain reports nothing
    finally:
        qvirt.registerErrorHandler(None, None)
    assert seen == [("ctx", ErrorNumber.NO_DOMAIN, ErrorDomain.TEST, "Domain not found")]


def test_events_without_a_loop_arrive_at_once(conn: qvirt.virConnect) -> None:
    seen: list[tuple[str, int, int, Any]] = []
    cid = conn.domainEventRegisterAny(
        None, qvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, event, detail, opaque: seen.append((d.name(), event, detail, opaque)), 7)
    dom = conn.defineXML(XML)
    dom.create()
    dom.destroy()
    dom.undefine()
    conn.domainEventDeregisterAny(cid)
    assert seen == [
        ("apitest", qvirt.VIR_DOMAIN_EVENT_DEFINED, qvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED, 7),
        ("apitest", qvirt.VIR_DOMAIN_EVENT_STARTED, qvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED, 7),
        ("apitest", qvirt.VIR_DOMAIN_EVENT_STOPPED, qvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
         7),
        ("apitest", qvirt.VIR_DOMAIN_EVENT_UNDEFINED, qvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED,
         7),
    ]


def test_only_lifecycle_events(conn: qvirt.virConnect) -> None:
    code, _, _ = error_of(lambda: conn.domainEventRegisterAny(
        None, qvirt.VIR_DOMAIN_EVENT_ID_REBOOT, lambda *a: None, None))
    assert code == ErrorNumber.NO_SUPPORT


@pytest.mark.parametrize("uri", ["xen:///", "foo:///bar"])
def test_uris_without_a_driver(uri: str) -> None:
    """Local URIs no driver claims (remote ones go to the remote driver: test_remote*.py)."""
    assert error_of(lambda: qvirt.open(uri)) == (
        ErrorNumber.NO_CONNECT, ErrorDomain.NONE, f"no connection driver available for {uri}")


@pytest.mark.parametrize(("uri", "expected"), [
    ("qemu:///", (ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE,
                  "internal error: unexpected qemu URI path '/', try qemu:///system")),
    ("qemu:///embed", (ErrorNumber.INVALID_ARG, ErrorDomain.URI,
                       "invalid argument: Missing URI parameter 'root'")),
    ("qemu:///embed?root=rel", (ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE,
                                "unsupported configuration: root path must be absolute")),
])
def test_qemu_uris_refused(uri: str, expected: tuple[int, int, str]) -> None:
    assert error_of(lambda: qvirt.open(uri)) == expected


def test_embed_opens_the_qemu_driver(tmp_path: Path) -> None:
    conn = qvirt.open(f"qemu:///embed?root={tmp_path}")
    try:
        assert conn.getType() == "QEMU"
        assert conn.getURI() == f"qemu:///embed?root={tmp_path}"
    finally:
        conn.close()


def test_default_uri_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    conn = qvirt.open()
    try:
        assert conn.getURI() == "test:///default"
    finally:
        conn.close()


def test_lookups_by_every_key(conn: qvirt.virConnect) -> None:
    dom = conn.lookupByName("test")
    assert conn.lookupByID(dom.ID()).UUIDString() == dom.UUIDString()
    assert conn.lookupByUUID(dom.UUID()).name() == "test"
    assert conn.lookupByUUIDString(dom.UUIDString().upper()).name() == "test"
    assert dom.connect() is conn
    assert error_of(lambda: conn.lookupByUUID(b"short"))[:2] == (ErrorNumber.INVALID_ARG,
                                                                  ErrorDomain.DOMAIN)


def test_dropped_connection_is_closed() -> None:
    """Without close(), the last reference going away closes the connection: test:///default's
    shared node is dropped with it, as libvirt-python's __del__ does."""
    conn = qvirt.open("test:///default")
    conn.defineXML(XML)
    del conn
    fresh = qvirt.open("test:///default")
    try:
        assert fresh.listDefinedDomains() == []
    finally:
        fresh.close()
