"""virNetworkUpdate's sections (virNetworkDefUpdateSection in network_conf.c): one element
added, modified or deleted in a network definition, with libvirt's checks and messages.

Each change is made to a copy; the caller parses the result again, so every check a whole
definition passes (a DHCP range inside its subnet, ...) holds after an update too."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar

from qvirt import constants as C
from qvirt.conf import xmltree
from qvirt.conf.network import ForwardInterface, Network
from qvirt.conf.network_dns import DNS, SRV, TXT, DNSHost
from qvirt.conf.network_ip import DHCP, IP, DHCPHost, DHCPRange
from qvirt.conf.network_port import PortGroup
from qvirt.conf.xmlobject import ParseContext, XMLObject
from qvirt.errors import ErrorDomain, ErrorNumber, OperationInvalid, QvirtError, XMLError

X = TypeVar("X", bound=XMLObject)
MODIFY, DELETE = C.VIR_NETWORK_UPDATE_COMMAND_MODIFY, C.VIR_NETWORK_UPDATE_COMMAND_DELETE
ADD_LAST, ADD_FIRST = C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, C.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST
# Sections libvirt refuses to update, by the name its message gives them.
UNSUPPORTED = {C.VIR_NETWORK_SECTION_BRIDGE: "bridge", C.VIR_NETWORK_SECTION_DOMAIN: "domain",
               C.VIR_NETWORK_SECTION_IP: "ip", C.VIR_NETWORK_SECTION_FORWARD: "forward",
               C.VIR_NETWORK_SECTION_FORWARD_PF: "forward pf"}


def _no_support(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_SUPPORT, domain=ErrorDomain.NETWORK)


def _invalid(detail: str) -> QvirtError:
    return OperationInvalid(detail, domain=ErrorDomain.NETWORK)


def _parse(cls: type[X], xml: str, net: Network) -> X:
    root = xmltree.parse(xml, "(network_update_xml)")
    if root.tag != cls.TAG:
        raise XMLError(f"unexpected element <{xmltree.local_name(root)}>, expecting "
                       f"<{cls.TAG}>, while updating network '{net.name}'",
                       domain=ErrorDomain.NETWORK)
    return cls.from_element(root, ParseContext())


def _insert(items: list[Any], item: Any, command: int) -> None:
    if command == ADD_FIRST:
        items.insert(0, item)
    else:
        items.append(item)


def _ip_for_dhcp(net: Network, parent_index: int, what: str) -> IP:
    """virNetworkIPDefByIndex: the <ip> at ``parent_index``, or for -1 the one with DHCP
    (else the first IPv4 one)."""
    if parent_index >= 0:
        if parent_index >= len(net.ips):
            raise _invalid(f"couldn't update {what} entry - no <ip> element found at index "
                           f"{parent_index} in network '{net.name}'")
        chosen: IP = net.ips[parent_index]
        return chosen
    ips: list[IP] = net.ips
    for ip in ips:
        if ip.dhcp and (ip.dhcp.ranges or ip.dhcp.hosts):
            return ip
    for ip in ips:
        if ip.version == 4:
            return ip
    raise _invalid(f"couldn't update {what} entry - no <ip> element found in network "
                   f"'{net.name}'")


def _same_ip(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and ipaddress.ip_address(a) == ipaddress.ip_address(b)


def _dhcp_host(net: Network, command: int, parent_index: int, xml: str) -> None:
    ip = _ip_for_dhcp(net, parent_index, "dhcp host")
    host = _parse(DHCPHost, xml, net)
    if ip.dhcp is None:
        ip.dhcp = DHCP()
    hosts = ip.dhcp.hosts
    mac = (host.mac or "").lower()

    def matches_any(other: DHCPHost) -> bool:
        return bool((mac and (other.mac or "").lower() == mac)
                    or _same_ip(host.ip, other.ip)
                    or (host.name and host.name == other.name))

    if command == MODIFY:
        for i, other in enumerate(hosts):
            if (mac and (other.mac or "").lower() == mac) or \
                    (host.name and host.name == other.name):
                hosts[i] = host
                return
        raise _invalid(f"couldn't locate an existing dhcp host entry with \"mac='{host.mac}'\" "
                       f"in network '{net.name}'")
    if command in (ADD_FIRST, ADD_LAST):
        if any(matches_any(other) for other in hosts):
            raise _invalid(f"there is an existing dhcp host entry in network '{net.name}' "
                           f"that matches \"<host mac='{host.mac or ''}' "
                           f"name='{host.name or ''}' ip='{host.ip}'/>\"")
        _insert(hosts, host, command)
        return
    for i, other in enumerate(hosts):
        if (not mac or (other.mac or "").lower() == mac) and \
                (not host.name or host.name == other.name) and \
                (host.ip is None or _same_ip(host.ip, other.ip)):
            del hosts[i]
            return
    raise _invalid(f"couldn't locate a matching dhcp host entry in network '{net.name}'")


def _dhcp_range(net: Network, command: int, parent_index: int, xml: str) -> None:
    ip = _ip_for_dhcp(net, parent_index, "dhcp range")
    rng = _parse(DHCPRange, xml, net)
    if rng.start and ((":" in rng.start) != (ip.version == 6)):
        raise _invalid("the address family of a dhcp range must match the address family of "
                       "the dhcp element's parent")
    if command == MODIFY:
        raise _no_support("dhcp ranges cannot be modified, only added or deleted")
    if ip.dhcp is None:
        ip.dhcp = DHCP()
    ranges = ip.dhcp.ranges
    found = [i for i, r in enumerate(ranges)
             if _same_ip(r.start, rng.start) and _same_ip(r.end, rng.end)]
    if command in (ADD_FIRST, ADD_LAST):
        if found:
            raise _invalid(f"there is an existing dhcp range entry in network '{net.name}' "
                           f"that matches \"<range start='{rng.start}' end='{rng.end}'/>\"")
        _insert(ranges, rng, command)
        return
    if not found:
        raise _invalid(f"couldn't locate a matching dhcp range entry in network '{net.name}'")
    del ranges[found[0]]


def _forward_interface(net: Network, command: int, parent_index: int, xml: str) -> None:
    iface = _parse(ForwardInterface, xml, net)
    if command == MODIFY:
        raise _no_support("forward interface entries cannot be modified, only added or "
                          "deleted")
    if net.forward is None:
        raise _invalid(f"can't add an <interface> element to network '{net.name}' which has "
                       "no <forward> element")
    interfaces = net.forward.interfaces
    found = [i for i, f in enumerate(interfaces) if f.dev == iface.dev]
    if command in (ADD_FIRST, ADD_LAST):
        if found:
            raise _invalid(f"there is an existing interface entry in network '{net.name}' "
                           f"that matches \"<interface dev='{iface.dev}'>\"")
        _insert(interfaces, iface, command)
        return
    if not found:
        raise _invalid(f"couldn't find an interface entry in network '{net.name}' matching "
                       f"<interface dev='{iface.dev}'>")
    del interfaces[found[0]]


def _portgroup(net: Network, command: int, parent_index: int, xml: str) -> None:
    group = _parse(PortGroup, xml, net)
    groups = net.portgroups
    found = [i for i, g in enumerate(groups) if g.name == group.name]
    if (command == MODIFY and not found) or (command == DELETE and not found):
        raise _invalid(f"couldn't find a portgroup entry in network '{net.name}' matching "
                       f"<portgroup name='{group.name}'>")
    if command in (ADD_FIRST, ADD_LAST) and found:
        raise _invalid(f"there is an existing portgroup entry in network '{net.name}' that "
                       f"matches \"<portgroup name='{group.name}'>\"")
    if command != DELETE and group.default and any(
            g.default and g.name != group.name for g in groups):
        raise _invalid(f"a different portgroup entry in network '{net.name}' is already set "
                       "as the default. Only one default is allowed.")
    if command == MODIFY:
        groups[found[0]] = group
    elif command == DELETE:
        del groups[found[0]]
    else:
        _insert(groups, group, command)


def _dns(net: Network) -> DNS:
    if net.dns is None:
        net.dns = DNS()
    dns: DNS = net.dns
    return dns


def _dns_records(net: Network, command: int, items: list[Any], found: list[int], item: Any,
                 kind: str, exists: str, missing: str, multiple: str) -> None:
    if command == MODIFY:
        raise _no_support(f"DNS {kind} records cannot be modified, only added or deleted")
    if command in (ADD_FIRST, ADD_LAST):
        if found:
            raise _invalid(exists)
        _insert(items, item, command)
        return
    if not found:
        raise _invalid(missing)
    if len(found) > 1:
        raise _invalid(multiple)
    del items[found[0]]


def _dns_host(net: Network, command: int, parent_index: int, xml: str) -> None:
    host = _parse(DNSHost, xml, net)
    hosts = _dns(net).hosts
    found = [i for i, h in enumerate(hosts) if _same_ip(h.ip, host.ip)
             or set(h.hostnames) & set(host.hostnames)]
    _dns_records(net, command, hosts, found, host, "HOST",
                 f"there is already at least one DNS HOST record with a matching field in "
                 f"network {net.name}",
                 f"couldn't locate a matching DNS HOST record in network {net.name}",
                 f"multiple matching DNS HOST records were found in network {net.name}")


def _dns_srv(net: Network, command: int, parent_index: int, xml: str) -> None:
    srv = _parse(SRV, xml, net)
    srvs = _dns(net).srvs
    keys = ("service", "protocol", "domain", "target", "port", "priority", "weight")
    found = [i for i, s in enumerate(srvs)
             if all(getattr(srv, k) is None or getattr(srv, k) == getattr(s, k) for k in keys)]
    _dns_records(net, command, srvs, found, srv, "SRV",
                 f"there is already at least one DNS SRV record matching all specified fields "
                 f"in network {net.name}",
                 f"couldn't locate a matching DNS SRV record in network {net.name}",
                 f"multiple DNS SRV records matching all specified fields were found in "
                 f"network {net.name}")


def _dns_txt(net: Network, command: int, parent_index: int, xml: str) -> None:
    txt = _parse(TXT, xml, net)
    txts = _dns(net).txts
    found = [i for i, t in enumerate(txts) if t.name == txt.name]
    _dns_records(net, command, txts, found, txt, "TXT",
                 f"there is already a DNS TXT record with name '{txt.name}' in network "
                 f"{net.name}",
                 f"couldn't locate a matching DNS TXT record in network {net.name}",
                 f"multiple matching DNS TXT records were found in network {net.name}")


SECTIONS: dict[int, Callable[[Network, int, int, str], None]] = {
    C.VIR_NETWORK_SECTION_IP_DHCP_HOST: _dhcp_host,
    C.VIR_NETWORK_SECTION_IP_DHCP_RANGE: _dhcp_range,
    C.VIR_NETWORK_SECTION_FORWARD_INTERFACE: _forward_interface,
    C.VIR_NETWORK_SECTION_PORTGROUP: _portgroup,
    C.VIR_NETWORK_SECTION_DNS_HOST: _dns_host,
    C.VIR_NETWORK_SECTION_DNS_SRV: _dns_srv,
    C.VIR_NETWORK_SECTION_DNS_TXT: _dns_txt,
}
# What a live change needs: dnsmasq rereading its hosts files (SIGHUP), or a new dnsmasq.
HOSTS_SECTIONS = (C.VIR_NETWORK_SECTION_IP_DHCP_HOST, C.VIR_NETWORK_SECTION_DNS_HOST)
DNSMASQ_SECTIONS = (C.VIR_NETWORK_SECTION_IP_DHCP_RANGE, C.VIR_NETWORK_SECTION_DNS_SRV,
                    C.VIR_NETWORK_SECTION_DNS_TXT)


def apply(net: Network, command: int, section: int, parent_index: int, xml: str) -> Network:
    """The network ``net`` with the change made (``net`` itself is left alone)."""
    if section in UNSUPPORTED:
        raise _no_support(f"can't update '{UNSUPPORTED[section]}' section of network "
                          f"'{net.name}'")
    handler = SECTIONS.get(section)
    if handler is None:
        raise _no_support(f"can't update unrecognized section of network '{net.name}'")
    if command not in (MODIFY, DELETE, ADD_LAST, ADD_FIRST):
        raise _no_support(f"unrecognized network update command code {command}")
    changed = net.copy()
    handler(changed, command, parent_index, xml)
    return Network.from_xml(changed.to_xml())
