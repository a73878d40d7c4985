"""DHCP leases (virNetworkGetDHCPLeases) from dnsmasq's own lease file: one line per lease,
``EXPIRY MAC IP HOSTNAME CLIENTID`` for IPv4, and after the ``duid`` line
``EXPIRY IAID IP HOSTNAME DUID`` for IPv6 (``*`` where a value is unknown, expiry 0 for an
infinite lease)."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from qvirt import constants as C
from qvirt.conf.network import Network
from qvirt.drivers.base import DHCPLease


def _prefix(net: Network, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """The prefix of the network's <ip> whose subnet holds ``addr`` (libvirt's
    virNetworkIPDefPrefix); 0 when none does."""
    for ip in net.ips:
        bits: object = ip.prefix if ip.prefix is not None else ip.netmask
        if bits is None:
            bits = 64 if ip.version == 6 else 24
        subnet = ipaddress.ip_network(f"{ip.address}/{bits}", strict=False)
        if addr.version == subnet.version and addr in subnet:
            return subnet.prefixlen
    return 0


def _value(text: str) -> str | None:
    return None if text == "*" else text


def read(path: Path, net: Network, mac: str | None) -> list[DHCPLease]:
    """The leases still valid now, those of ``mac`` only when given (case-insensitive)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    iface = str(net.bridge.name) if net.bridge else ""
    now = int(time.time())
    leases: list[DHCPLease] = []
    ipv6 = False
    for line in lines:
        fields = line.split()
        if fields[:1] == ["duid"]:
            ipv6 = True
            continue
        if len(fields) < 5:
            continue
        expiry = int(fields[0])
        if expiry and expiry < now:
            continue
        addr = ipaddress.ip_address(fields[2])
        if ipv6:
            lease = DHCPLease(iface, expiry, C.VIR_IP_ADDR_TYPE_IPV6, "", fields[1], str(addr),
                              _prefix(net, addr), _value(fields[3]), _value(fields[4]))
        else:
            lease = DHCPLease(iface, expiry, C.VIR_IP_ADDR_TYPE_IPV4, fields[1].lower(), None,
                              str(addr), _prefix(net, addr), _value(fields[3]),
                              _value(fields[4]))
        if mac is not None and lease.mac != mac.lower():
            continue
        leases.append(lease)
    return leases
