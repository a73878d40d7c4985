"""The network driver's API without guests, in a namespace of its own: definitions, lists,
look-ups, events, autostart and the shipped default network, transient networks, libvirt's
errors for bad input, and the host parts a start makes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.base import NetworkRef
from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.drivers.network.conftest import UPLINK, NetLab, network_xml
from tests.drivers.network.netns import ip


def _error(exc: pytest.ExceptionInfo[QvirtError], code: int, message: str) -> None:
    assert (exc.value.code, exc.value.message) == (code, message)


def test_define_list_lookup_undefine_with_events(netlab: NetLab) -> None:
    drv = netlab.driver
    seen: list[tuple[str, int]] = []
    cb = drv.connect_network_event_register_any(
        None, C.VIR_NETWORK_EVENT_ID_LIFECYCLE, lambda net, _id, ev, _d: seen.append(
            (net.name, ev)))
    ref = drv.network_define_xml_flags(network_xml("n1", "192.168.201", "nat", "qvtbr1"))
    assert drv.network_lookup_by_name("n1") == ref == drv.network_lookup_by_uuid(ref.uuid)
    assert not drv.network_is_active(ref) and drv.network_is_persistent(ref)
    xml = drv.network_get_xml_desc(ref)
    assert f"<uuid>{ref.uuid}</uuid>" in xml and "<bridge name='qvtbr1' stp='on' delay='0'/>" \
        in xml and "<mac address='52:54:00:" in xml
    drv.network_create(ref)
    assert drv.network_is_active(ref)
    # The running network's state: the definition with NAT's default source ports filled in,
    # as libvirt's firewall code writes them into the live definition.
    live = xml.replace("<forward mode='nat'/>", "<forward mode='nat'>\n    <nat>\n      <port "
                       "start='1024' end='65535'/>\n    </nat>\n  </forward>")
    assert (netlab.root / "run" / "network" / "n1.xml").read_text() == live
    assert drv.network_get_xml_desc(ref) == live
    # Redefined while it runs: the next definition waits for the network to stop.
    drv.network_define_xml_flags(xml.replace("192.168.201.60", "192.168.201.70"))
    assert "192.168.201.60" in drv.network_get_xml_desc(ref)
    assert "192.168.201.70" in drv.network_get_xml_desc(ref, C.VIR_NETWORK_XML_INACTIVE)
    drv.network_destroy(ref)
    assert "192.168.201.70" in drv.network_get_xml_desc(ref)
    drv.network_undefine(ref)
    assert seen == [("n1", C.VIR_NETWORK_EVENT_DEFINED), ("n1", C.VIR_NETWORK_EVENT_STARTED),
                    ("n1", C.VIR_NETWORK_EVENT_DEFINED), ("n1", C.VIR_NETWORK_EVENT_STOPPED),
                    ("n1", C.VIR_NETWORK_EVENT_UNDEFINED)]
    drv.connect_network_event_deregister_any(cb)
    with pytest.raises(QvirtError) as exc:
        drv.network_lookup_by_name("n1")
    _error(exc, ErrorNumber.NO_NETWORK, "Network not found: no network with matching name 'n1'")
    assert exc.value.domain == ErrorDomain.NETWORK
    with pytest.raises(QvirtError) as exc:
        drv.network_is_active(ref)
    _error(exc, ErrorNumber.NO_NETWORK,
           f"Network not found: no network with matching uuid '{ref.uuid}' (n1)")


def test_list_filters_and_autostart(netlab: NetLab) -> None:
    drv = netlab.driver
    a = drv.network_define_xml_flags(network_xml("a", "192.168.202", "nat", "qvtbr2"))
    b = drv.network_define_xml_flags(network_xml("b", "192.168.203", None, "qvtbr3"))
    t = drv.network_create_xml_flags(network_xml("t", "192.168.204", "route", "qvtbr4"))
    drv.network_set_autostart(a, True)
    drv.network_create(b)

    def names(flags: int) -> list[str]:
        return [r.name for r in drv.connect_list_all_networks(flags)]

    assert names(0) == ["a", "b", "t"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE) == ["b", "t"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_INACTIVE) == ["a"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT) == ["a", "b"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT) == ["t"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART) == ["a"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART) == ["b", "t"]
    assert names(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
                 | C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT) == ["b"]
    assert drv.network_get_autostart(a) and not drv.network_get_autostart(b)
    assert (netlab.root / "etc" / "network" / "autostart" / "a.xml").is_symlink()

    # A new driver finds the running networks running and starts the autostart one.
    drv = netlab.reopen()
    assert names(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE) == ["a", "b", "t"]
    assert drv.network_get_bridge_name(a) == "qvtbr2"

    # Transient: no autostart, no undefine; gone once destroyed.
    with pytest.raises(QvirtError) as exc:
        drv.network_set_autostart(t, True)
    _error(exc, ErrorNumber.OPERATION_INVALID,
           "Requested operation is not valid: cannot set autostart for transient network")
    with pytest.raises(QvirtError) as exc:
        drv.network_undefine(t)
    _error(exc, ErrorNumber.OPERATION_INVALID,
           "Requested operation is not valid: can't undefine transient network")
    drv.network_destroy(t)
    assert names(0) == ["a", "b"]

    # Undefining a running network leaves it running, transient.
    drv.network_undefine(b)
    assert drv.network_is_active(b) and not drv.network_is_persistent(b)
    drv.network_destroy(b)
    assert names(0) == ["a"]


def test_default_network_on_a_fresh_config(netlab: NetLab, tmp_path: Path) -> None:
    paths = NetworkPaths.under(tmp_path / "fresh")
    drv = LocalNetworkDriver(paths, ship_default=True)
    ref = drv.network_lookup_by_name("default")
    assert drv.network_is_active(ref) and drv.network_get_autostart(ref)
    assert drv.network_get_bridge_name(ref) == "virbr0"
    xml = drv.network_get_xml_desc(ref)
    assert "<forward mode='nat'>\n    <nat>\n      <port start='1024' end='65535'/>" in xml \
        and "<ip address='192.168.122.1' netmask=" \
        "'255.255.255.0'>" in xml and "<range start='192.168.122.2' end='192.168.122.254'/>" \
        in xml
    assert "192.168.122.1/24" in ip("-br", "addr", "show", "virbr0", ns=netlab.ns)
    drv.network_destroy(ref)
    drv.network_undefine(ref)
    drv.close()
    # Not fresh any more: an undefined default stays undefined.
    drv = LocalNetworkDriver(paths, ship_default=True)
    assert drv.connect_list_all_networks() == []


def test_bad_input_in_libvirts_words(netlab: NetLab) -> None:
    drv = netlab.driver
    # A subnet a route of the namespace already covers (the uplink's).
    clash = drv.network_define_xml_flags(network_xml("clash", "10.250.0", "nat", "qvtbr5"))
    with pytest.raises(QvirtError) as exc:
        drv.network_create(clash)
    _error(exc, ErrorNumber.INTERNAL_ERROR,
           f"internal error: Network is already in use by interface {UPLINK}")
    assert "qvtbr5" not in ip("-br", "link", ns=netlab.ns)
    with pytest.raises(QvirtError) as exc:
        drv.network_define_xml_flags(network_xml("other", "192.168.205", "nat", "qvtbr5"))
    _error(exc, ErrorNumber.INTERNAL_ERROR, "internal error: bridge name 'qvtbr5' already in use.")
    with pytest.raises(QvirtError) as exc:
        drv.network_define_xml_flags(network_xml("far", "192.168.206", "nat", "qvtbr6").replace(
            "192.168.206.60", "192.168.207.60"))
    _error(exc, ErrorNumber.INTERNAL_ERROR, "internal error: range 192.168.206.10 - "
           "192.168.207.60 is not entirely within network 192.168.206.1/24")
    with pytest.raises(QvirtError) as exc:
        drv.network_destroy(clash)
    _error(exc, ErrorNumber.OPERATION_INVALID,
           "Requested operation is not valid: network 'clash' is not active")
    ok = drv.network_define_xml_flags(network_xml("ok", "192.168.208", None, "qvtbr8"))
    drv.network_create(ok)
    with pytest.raises(QvirtError) as exc:
        drv.network_create(ok)
    _error(exc, ErrorNumber.OPERATION_INVALID,
           "Requested operation is not valid: network is already active")
    with pytest.raises(QvirtError) as exc:
        drv.network_define_xml_flags(network_xml("ok", "192.168.209", None, "qvtbr9"))
    _error(exc, ErrorNumber.OPERATION_FAILED,
           f"operation failed: network 'ok' already exists with uuid {ok.uuid}")


def test_start_makes_and_destroy_removes_host_parts(netlab: NetLab) -> None:
    drv = netlab.driver
    ref = drv.network_define_xml_flags(network_xml("parts", "192.168.210", "nat", "qvtbr10"))
    drv.network_create(ref)
    link = ip("-d", "link", "show", "qvtbr10", ns=netlab.ns)
    assert "bridge" in link and "stp_state 1" in link
    pid = int((netlab.root / "run" / "network" / "parts.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    conf = (netlab.root / "lib" / "dnsmasq" / "parts.conf").read_text()
    assert "interface=qvtbr10\ndhcp-range=192.168.210.10,192.168.210.60,255.255.255.0\n" \
           "dhcp-no-override\ndhcp-authoritative\ndhcp-lease-max=51\n" in conf
    drv.network_destroy(ref)
    assert "qvtbr10" not in ip("-br", "link", ns=netlab.ns)
    cmdline = Path(f"/proc/{pid}/cmdline")
    assert not cmdline.exists() or b"dnsmasq" not in cmdline.read_bytes()
    assert not (netlab.root / "run" / "network" / "parts.xml").exists()


def test_pool_networks_hand_out_devices(netlab: NetLab) -> None:
    drv = netlab.driver
    ip("link", "add", "qvt-d2", "type", "veth", "peer", "name", "qvt-d2-p", ns=netlab.ns)
    pool = ("<network><name>pool</name><forward mode='passthrough'>"
            f"<interface dev='{UPLINK}'/><interface dev='qvt-d2'/></forward></network>")
    ref = drv.network_define_xml_flags(pool)
    drv.network_create(ref)
    first, second = drv.plug("pool"), drv.plug("pool")
    assert {first.dev, second.dev} == {UPLINK, "qvt-d2"} and first.mode == "passthrough"
    with pytest.raises(QvirtError) as exc:
        drv.plug("pool")
    _error(exc, ErrorNumber.INTERNAL_ERROR, "internal error: network 'pool' requires exclusive "
           "access to interfaces, but none are available")
    drv.unplug("pool", first.dev)
    assert drv.plug("pool").dev == first.dev
    host = drv.network_define_xml_flags(
        "<network><name>hostbr</name><forward mode='bridge'/><bridge name='qvtext'/></network>")
    drv.network_create(host)
    assert drv.plug("hostbr").bridge == "qvtext"
    stopped = drv.network_define_xml_flags(network_xml("idle", "192.168.211", None, "qvtb11"))
    with pytest.raises(QvirtError) as exc:
        drv.plug("idle")
    _error(exc, ErrorNumber.OPERATION_INVALID,
           "Requested operation is not valid: network 'idle' is not active")
    assert isinstance(stopped, NetworkRef)


def test_dual_stack_network(netlab: NetLab) -> None:
    drv = netlab.driver
    ref = drv.network_define_xml_flags(
        "<network><name>v6</name><forward mode='nat'/><bridge name='qvtv6'/>"
        "<ip address='192.168.212.1' prefix='24'><dhcp>"
        "<range start='192.168.212.10' end='192.168.212.20'/></dhcp></ip>"
        "<ip family='ipv6' address='fd00:212::1' prefix='64'><dhcp>"
        "<range start='fd00:212::10' end='fd00:212::20'/></dhcp></ip></network>")
    drv.network_create(ref)
    addrs = ip("-br", "addr", "show", "qvtv6", ns=netlab.ns)
    assert "192.168.212.1/24" in addrs and "fd00:212::1/64" in addrs
    rules = subprocess.run(["ip", "netns", "exec", netlab.ns, "nft", "list", "ruleset"],
                           capture_output=True, text=True, check=True).stdout
    assert "table ip qvirt_network" in rules and "table ip6 qvirt_network" in rules
    assert "ip6 saddr fd00:212::/64" in rules
    conf = (netlab.root / "lib" / "dnsmasq" / "v6.conf").read_text()
    assert "dhcp-range=fd00:212::10,fd00:212::20,64\n" in conf and conf.endswith("enable-ra\n")
    drv.network_destroy(ref)
    rules = subprocess.run(["ip", "netns", "exec", netlab.ns, "nft", "list", "ruleset"],
                           capture_output=True, text=True, check=True).stdout
    assert "qvirt_network" not in rules
