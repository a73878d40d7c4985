"""qvirt's remote network driver against the real libvirtd 9.0 and against qvirtd: inactive
networks only on the shared libvirtd (the oracle never starts one: it would touch the host's
own namespace), the same steps on qvirtd, and a start/stop on qvirtd and on a private
libvirtd (tests/support/private_libvirtd.py), each inside namespaces of its own. The wire
layouts, the flag-less and flagged define calls, NETWORK_UPDATE's argument order and the
events are then libvirtd's own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.client.remote.driver import RemoteDriver
from qvirt.client.uri import parse_uri
from qvirt.drivers.base import NetworkRef
from qvirt.errors import ErrorNumber, QvirtError
from tests.daemon.conftest import start_qvirtd, stop_qvirtd
from tests.drivers.network.netns import ip, namespaces
from tests.support.oracle import ensure_libvirtd
from tests.support.private_libvirtd import private_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
WAIT = 60.0


@dataclass
class Conn:
    driver: RemoteDriver
    ns: str | None      # the daemon's namespace; None for the shared libvirtd


@pytest.fixture(params=["libvirtd", "qvirtd"])
def conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Conn]:
    if request.param == "libvirtd":
        ensure_libvirtd()
        driver = RemoteDriver(parse_uri(LIBVIRTD_URI), read_only=False)
        yield Conn(driver, None)
        driver.connect_close()
        return
    if request.param == "private-libvirtd":
        with private_libvirtd("rnlv") as libvirtd:
            driver = RemoteDriver(parse_uri(libvirtd.uri), read_only=False)
            try:
                yield Conn(driver, libvirtd.ns)
            finally:
                driver.connect_close()
        return
    with namespaces("rn") as (ns,):
        daemon = start_qvirtd(tmp_path / "r", netns=ns)
        driver = RemoteDriver(parse_uri(daemon.uri), read_only=False)
        try:
            yield Conn(driver, ns)
        finally:
            driver.connect_close()
            stop_qvirtd(daemon)


def _xml(name: str, bridge: str, with_uuid: str = "") -> str:
    return (f"<network><name>{name}</name>{with_uuid}<bridge name='{bridge}'/>"
            "<ip address='192.168.170.1' netmask='255.255.255.0'><dhcp>"
            "<range start='192.168.170.10' end='192.168.170.60'/></dhcp></ip></network>")


def test_inactive_network_calls(conn: Conn) -> None:
    net = conn.driver.network
    tag = uuid.uuid4().hex[:8]   # libvirtd is shared: a name and bridge of this test's own
    name = f"qvt-rn-{tag}"
    bridge = f"qvn{tag}"
    events: list[tuple[str, int, int, int]] = []
    seen = threading.Condition()

    def on_event(ref: NetworkRef, event_id: int, event: int, detail: int) -> None:
        with seen:
            events.append((ref.name, event_id, event, detail))
            seen.notify_all()

    callback = net.connect_network_event_register_any(
        None, C.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_event)
    ref = net.network_define_xml_flags(_xml(name, bridge))
    try:
        assert net.network_lookup_by_name(name) == ref
        assert net.network_lookup_by_uuid(ref.uuid) == ref
        assert (net.network_is_active(ref), net.network_is_persistent(ref)) == (False, True)
        assert net.network_get_bridge_name(ref) == bridge
        assert f"<uuid>{ref.uuid}</uuid>" in net.network_get_xml_desc(ref)
        assert ref in net.connect_list_all_networks(C.VIR_CONNECT_LIST_NETWORKS_INACTIVE)
        assert ref not in net.connect_list_all_networks(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
        net.network_set_autostart(ref, True)
        assert net.network_get_autostart(ref)
        net.network_set_autostart(ref, False)
        # The flagged call (432) redefines the same network, validated against the schema.
        again = net.network_define_xml_flags(
            _xml(name, bridge, f"<uuid>{ref.uuid}</uuid>"), C.VIR_NETWORK_DEFINE_VALIDATE)
        assert again == ref
        with pytest.raises(QvirtError) as bad:
            net.network_define_xml_flags(f"<network><name>{name}</name><nom/></network>",
                                         C.VIR_NETWORK_DEFINE_VALIDATE)
        assert (bad.value.code, bad.value.message) == (
            ErrorNumber.XML_INVALID_SCHEMA,
            "XML document failed to validate against schema: Unable to validate doc against "
            "/usr/share/libvirt/schemas/network.rng\nElement network has extra content: nom\n")
        # command and section in their declared order: an ip-dhcp-host lands as one.
        host = "<host mac='52:54:00:00:00:11' ip='192.168.170.11'/>"
        net.network_update(ref, C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                           C.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host,
                           C.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
        assert host in net.network_get_xml_desc(ref)
        assert net.network_get_dhcp_leases(ref, None) == []
        with pytest.raises(QvirtError) as missing:
            net.network_lookup_by_name(f"{name}-x")
        assert (missing.value.code, missing.value.message) == (
            ErrorNumber.NO_NETWORK, f"Network not found: no network with matching name "
                                    f"'{name}-x'")
    finally:
        net.network_undefine(ref)
    deadline = time.monotonic() + WAIT
    with seen:
        while (name, 0, C.VIR_NETWORK_EVENT_UNDEFINED, 0) not in events:
            assert seen.wait(deadline - time.monotonic()), events
    assert [e[2] for e in events if e[0] == name] == [
        C.VIR_NETWORK_EVENT_DEFINED, C.VIR_NETWORK_EVENT_DEFINED,
        C.VIR_NETWORK_EVENT_UNDEFINED]
    net.connect_network_event_deregister_any(callback)
    with pytest.raises(QvirtError):
        net.connect_network_event_deregister_any(callback)


@pytest.mark.parametrize("conn", ["private-libvirtd", "qvirtd"], indirect=True)
def test_transient_network_started(conn: Conn) -> None:
    """create, destroy: where networks live in the test's namespaces, not the host's."""
    assert conn.ns is not None
    net = conn.driver.network
    ref = net.network_create_xml_flags(_xml("trn", "qvtrt0"))
    assert (net.network_is_active(ref), net.network_is_persistent(ref)) == (True, False)
    assert "qvtrt0" in ip("-br", "link", ns=conn.ns)
    assert ref in net.connect_list_all_networks(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
    net.network_destroy(ref)
    with pytest.raises(QvirtError) as gone:
        net.network_lookup_by_uuid(ref.uuid)
    assert gone.value.code == ErrorNumber.NO_NETWORK
