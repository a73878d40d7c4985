"""Starting and stopping one network's host parts (networkStartNetworkVirtual and its
undoing): the bridge with its addresses and routes, forwarding, the firewall rules and
dnsmasq. A start that fails part way leaves nothing behind."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from pathlib import Path

from qvirt.conf.network import OWN_BRIDGE_MODES, Network
from qvirt.conf.network_ip import IP
from qvirt.drivers.network import dnsmasq, firewall, netdev
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.errors import InternalError, QvirtError

log = logging.getLogger(__name__)
FORWARDING = {4: Path("/proc/sys/net/ipv4/ip_forward"),
              6: Path("/proc/sys/net/ipv6/conf/all/forwarding")}


def prefix_of(ip: IP) -> int:
    bits: object = ip.prefix if ip.prefix is not None else ip.netmask
    if bits is None:
        bits = 64 if ip.version == 6 else 24
    return ipaddress.ip_network(f"{ip.address}/{bits}", strict=False).prefixlen


def _check_collisions(net: Network) -> None:
    for ip in net.ips:
        if ip.version != 4:
            continue
        subnet = ipaddress.IPv4Network(f"{ip.address}/{prefix_of(ip)}", strict=False)
        iface = netdev.route_collision(subnet)
        if iface is not None:
            raise InternalError(f"Network is already in use by interface {iface}")


def _enable_forwarding(net: Network) -> None:
    """networkEnableIPForwarding: routing between the bridge and the rest, for nat and route
    (the namespace's own switch: a driver in a namespace turns on that namespace's)."""
    for version in sorted({ip.version for ip in net.ips}):
        try:
            FORWARDING[version].write_text("1\n")
        except OSError as err:
            raise QvirtError(f"Cannot write '{FORWARDING[version]}': {err.strerror}",
                             code=38) from None


def start(net: Network, paths: NetworkPaths) -> int | None:
    """The network's host parts up; dnsmasq's pid when it has one."""
    if net.forward_mode not in OWN_BRIDGE_MODES:
        return None
    assert net.bridge is not None and net.bridge.name is not None
    bridge = str(net.bridge.name)
    _check_collisions(net)
    netdev.create_bridge(bridge, net.mac, int(net.mtu) if net.mtu else None,
                         bool(net.bridge.stp), int(net.bridge.delay or 0))
    try:
        for ip in net.ips:
            netdev.add_address(bridge, str(ip.address), prefix_of(ip))
        netdev.set_up(bridge)
        for route in net.routes:
            prefix = route.prefix if route.prefix is not None else \
                ipaddress.ip_network(f"0.0.0.0/{route.netmask}").prefixlen if route.netmask \
                else 32
            netdev.add_route(bridge, str(route.address), prefix, str(route.gateway),
                             route.metric)
        if net.forward_mode in ("nat", "route"):
            _enable_forwarding(net)
        firewall.add(net)
        return dnsmasq.start(net, paths) if dnsmasq.needs_dnsmasq(net) else None
    except BaseException:
        stop(net, paths)
        raise


def stop(net: Network, paths: NetworkPaths) -> None:
    """Everything start made, gone; what is gone already is fine."""
    if net.forward_mode not in OWN_BRIDGE_MODES:
        return
    name = str(net.name)
    dnsmasq.stop(name, paths)
    with contextlib.suppress(QvirtError):
        firewall.remove(net)
    if net.bridge is not None and net.bridge.name:
        netdev.delete(str(net.bridge.name))
    for suffix in ("conf", "hostsfile", "addnhosts"):
        with contextlib.suppress(OSError):
            paths.dnsmasq(name, suffix).unlink()


def still_up(net: Network) -> bool:
    """Whether a network a previous driver ran still has its bridge (networkUpdateState)."""
    if net.forward_mode not in OWN_BRIDGE_MODES:
        return True
    return net.bridge is not None and netdev.exists(str(net.bridge.name))
