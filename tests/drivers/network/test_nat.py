"""Two tiny guests on a NAT network, inside a namespace: DHCP leases from the network's
dnsmasq, each other reachable, the outside peer reachable through masquerading, the leases
listed, live XML and host taps as libvirt has them, and after net-destroy no bridge, dnsmasq
or rules left. One test: the guests boot once (TCG is slow), and the steps build on each
other."""

from __future__ import annotations

import ipaddress
import re
import subprocess

from qvirt import constants as C
from qvirt.drivers.qemu.driver import QemuDriver
from tests.drivers.network.conftest import PEER_ADDR, Lab, network_xml, nic
from tests.drivers.network.netns import ip


def _nft(lab: Lab) -> str:
    return subprocess.run(["ip", "netns", "exec", lab.ns, "nft", "list", "ruleset"],
                          capture_output=True, text=True, check=True).stdout


def _dnsmasqs(lab: Lab) -> list[str]:
    out = subprocess.run(["ip", "netns", "pids", lab.ns], capture_output=True, text=True,
                         check=True).stdout.split()
    names = []
    for pid in out:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                names.append(comm.read().strip())
        except OSError:
            continue
    return [n for n in names if n == "dnsmasq"]


def test_nat_network(lab: Lab) -> None:
    lab.network(network_xml("natnet", "192.168.150", "nat", "qvtnat0"))
    net = lab.driver.network.network_lookup_by_name("natnet")
    assert lab.driver.network.network_get_bridge_name(net) == "qvtnat0"
    assert "qvtnat0" in ip("-br", "link", ns=lab.ns)
    assert "nat_qvtnat0" in _nft(lab) and _dnsmasqs(lab) == ["dnsmasq"]

    g1 = lab.guest("nat1", nic("natnet"))
    g2 = lab.guest("nat2", nic("natnet"))
    subnet = ipaddress.ip_network("192.168.150.0/24")
    ip1, ip2 = g1.ip(), g2.ip()
    assert ipaddress.ip_address(ip1) in subnet and ipaddress.ip_address(ip2) in subnet
    assert ip1 != ip2

    leases = lab.driver.network.network_get_dhcp_leases(net, None)
    assert {(lease.mac, lease.ipaddr) for lease in leases} == {(g1.mac, ip1), (g2.mac, ip2)}
    assert all(lease.iface == "qvtnat0" and lease.prefix == 24
               and lease.type == C.VIR_IP_ADDR_TYPE_IPV4 for lease in leases)
    assert lab.driver.network.network_get_xml_desc(net).startswith(
        "<network connections='2'>\n  <name>natnet</name>")
    assert lab.driver.network.network_get_xml_desc(
        net, C.VIR_NETWORK_XML_INACTIVE).startswith("<network>\n")
    only = lab.driver.network.network_get_dhcp_leases(net, g2.mac.upper())
    assert [lease.ipaddr for lease in only] == [ip2]

    # Live XML: the tap libvirt's way (vnetN), the alias, the network's bridge.
    live = lab.driver.domain_get_xml_desc(g1.ref)
    target = re.search(r"<target dev='(vnet\d+)'/>", live)
    assert target is not None and "<alias name='net0'/>" in live
    assert "<source network='natnet' bridge='qvtnat0'/>" in live
    tap = target.group(1)
    link = ip("link", "show", tap, ns=lab.ns)
    assert f"link/ether fe{g1.mac[2:]}" in link and "master qvtnat0" in link

    # Guests reach each other on the bridge, and the outside peer only through NAT (the
    # peer has no route back to the guests' subnet).
    code, out = lab.run(g1, f"ping -c 2 -W 5 {ip2}")
    assert code == 0, out
    code, out = lab.run(g2, f"ping -c 2 -W 5 {PEER_ADDR}")
    assert code == 0, out
    masq = re.search(r"^\s*ip saddr \S+ ip daddr != 192\.168\.150\.0/24 counter packets (\d+) "
                     r"bytes \d+ masquerade$", _nft(lab), re.M)
    assert masq is not None and int(masq.group(1)) > 0

    # A new driver on the same root takes the guests and the network back as they were.
    lab.driver.connect_close()
    lab.driver = QemuDriver(f"qemu:///embed?root={lab.root}", lab.root)
    net = lab.driver.network.network_lookup_by_name("natnet")
    assert lab.driver.network.network_is_active(net) and lab.driver.domain_is_active(g1.ref)
    assert lab.driver.network.network_get_xml_desc(net).startswith(
        "<network connections='2'>")
    assert "<source network='natnet' bridge='qvtnat0'/>" in lab.driver.domain_get_xml_desc(
        g1.ref)
    assert {lease.ipaddr for lease in lab.driver.network.network_get_dhcp_leases(net, None)} \
        == {ip1, ip2}

    # libvirt 9.0 destroys a network with guests on it: afterwards no bridge, no dnsmasq,
    # no rules (no table, as no other network has chains in it).
    lab.driver.network.network_destroy(net)
    assert "qvtnat0" not in ip("-br", "link", ns=lab.ns)
    assert _dnsmasqs(lab) == []
    assert "qvirt_network" not in _nft(lab)
    assert not lab.driver.network.network_is_active(net)
    for guest in (g1, g2):
        lab.driver.domain_destroy_flags(guest.ref)
    assert tap not in ip("-br", "link", ns=lab.ns)
