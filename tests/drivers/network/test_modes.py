"""Isolated and routed networks with tiny guests, inside namespaces: isolated guests reach
each other and nothing else; a NIC hot-plugged onto a routed network is reachable from the
outside peer without NAT, follows its link state, and goes on detach; a static host added by
net-update is the guest's next lease; a NIC's counters move. One test: the guests boot once,
and the steps build on each other."""

from __future__ import annotations

import re

from qvirt import constants as C
from tests.drivers.network.conftest import PEER_ADDR, UPLINK_ADDR, Lab, network_xml, nic
from tests.drivers.network.netns import ip

LIVE = C.VIR_DOMAIN_AFFECT_LIVE


def _outside_ping(lab: Lab, addr: str) -> bool:
    out = lab.outside_run("ping", "-c", "1", "-W", "2", addr)
    return " 0% packet loss" in out


def test_isolated_and_routed(lab: Lab) -> None:
    drv = lab.driver
    lab.network(network_xml("iso", "192.168.160", None, "qvtiso0"))
    lab.network(network_xml("rtd", "192.168.170", "route", "qvtrt0"))
    # The outside peer routes both subnets to the driver's namespace: only the firewall
    # keeps it out of the isolated one.
    for subnet in ("192.168.160.0/24", "192.168.170.0/24"):
        ip("route", "add", subnet, "via", UPLINK_ADDR, ns=lab.outside)

    i1 = lab.guest("iso1", nic("iso"))
    i2 = lab.guest("iso2", nic("iso"))
    ip1, ip2 = i1.ip(), i2.ip()
    code, out = lab.run(i1, f"ip route add 10.250.0.0/24 via 192.168.160.1; "
                            f"ping -c 1 -W 5 {ip2}")
    assert code == 0, out
    code, out = lab.run(i1, f"ping -c 1 -W 2 {PEER_ADDR}")
    assert code != 0, out
    assert not _outside_ping(lab, ip1)

    # Counters of the guest's tap, as the guest sees them (rx/tx swapped on the host).
    tap = re.findall(r"<target dev='(vnet\d+)'/>", drv.domain_get_xml_desc(i1.ref))[0]
    before = drv.domain_interface_stats(i1.ref, tap)
    lab.run(i1, f"ping -c 3 -i 0.2 -W 5 {ip2}")
    after = drv.domain_interface_stats(i1.ref, i1.mac)
    assert after.tx_packets >= before.tx_packets + 3
    assert after.rx_packets >= before.rx_packets + 3
    assert after.tx_bytes > before.tx_bytes

    # A NIC on the routed network, hot-plugged; the outside reaches it without NAT.
    drv.domain_attach_device_flags(i2.ref, nic("rtd"), LIVE)
    live = drv.domain_get_xml_desc(i2.ref)
    assert "<source network='rtd' bridge='qvtrt0'/>" in live and "<alias name='net1'/>" in live
    new_mac = re.findall(r"<mac address='([^']+)'/>", live)[1]
    # The guest sees the new NIC once its hotplug handler ran: wait for it, then DHCP.
    code, out = lab.run(i2, f"""
        n=; tries=0
        while [ -z "$n" ] && [ $tries -lt 300 ]; do
            for d in /sys/class/net/*; do
                [ "$(cat $d/address)" = {new_mac} ] && n=${{d##*/}}
            done
            [ -z "$n" ] && usleep 100000
            tries=$((tries + 1))
        done
        echo "nic $n"
        ip link set $n up && udhcpc -n -q -t 10 -i $n -s /etc/udhcpc.script""")
    assert code == 0, out
    routed = i2.ip(2)
    assert routed.startswith("192.168.170.")
    assert _outside_ping(lab, routed)

    # Link down, the outside loses it; up again, it is back.
    down = f"<interface type='network'><mac address='{new_mac}'/><source network='rtd'/>" \
           "<link state='down'/></interface>"
    drv.domain_update_device_flags(i2.ref, down, LIVE)
    assert "<link state='down'/>" in drv.domain_get_xml_desc(i2.ref)
    assert not _outside_ping(lab, routed)
    drv.domain_update_device_flags(i2.ref, down.replace("down", "up"), LIVE)
    assert _outside_ping(lab, routed)

    # Detached: gone from the live XML and the host.
    new_tap = re.findall(r"<target dev='(vnet\d+)'/>", drv.domain_get_xml_desc(i2.ref))[1]
    drv.domain_detach_device_flags(i2.ref, f"<interface type='network'><mac address="
                                            f"'{new_mac}'/><source network='rtd'/></interface>",
                                   LIVE)
    assert new_mac not in drv.domain_get_xml_desc(i2.ref)
    assert new_tap not in ip("-br", "link", ns=lab.ns)

    # A static host for iso1, added live: its next lease is that address.
    net = drv.network.network_lookup_by_name("iso")
    drv.network.network_update(
        net, C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, C.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
        f"<host mac='{i1.mac}' name='pinned' ip='192.168.160.99'/>",
        C.VIR_NETWORK_UPDATE_AFFECT_LIVE | C.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    assert "192.168.160.99" in drv.network.network_get_xml_desc(net)
    assert "192.168.160.99" in drv.network.network_get_xml_desc(
        net, C.VIR_NETWORK_XML_INACTIVE)
    lab.run(i1, "p=$(cat /run/udhcpc.eth0.pid); kill -USR2 $p; sleep 1; kill -USR1 $p")
    assert i1.ip(2) == "192.168.160.99"
    leases = drv.network.network_get_dhcp_leases(net, i1.mac)
    assert [(lease.ipaddr, lease.hostname) for lease in leases] == [("192.168.160.99",
                                                                      "pinned")]

    # A DNS host added live: dnsmasq rereads its hosts files (same process, SIGHUP) and
    # answers with it.
    pid = (lab.root / "run" / "network" / "iso.pid").read_text()
    drv.network.network_update(
        net, C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, C.VIR_NETWORK_SECTION_DNS_HOST, -1,
        "<host ip='192.168.160.77'><hostname>pinned-web</hostname></host>",
        C.VIR_NETWORK_UPDATE_AFFECT_LIVE)
    assert (lab.root / "run" / "network" / "iso.pid").read_text() == pid
    # (busybox nslookup also asks for AAAA, which dnsmasq refuses: its exit code says so)
    _code, out = lab.run(i1, "nslookup pinned-web 192.168.160.1")
    assert "Name:\tpinned-web\nAddress: 192.168.160.77" in out, out
