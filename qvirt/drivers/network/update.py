"""virNetworkUpdate's sections (virNetworkDefUpdateSection in network_conf.c): one element
added, modified or deleted in a network definition, with libvirt's checks and messages.

Each change is made to a copy; the caller parses the result again, so every check a whole
definition passes (a DHCP range inside its subnet, ...) holds after an update too."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar

from qvirt import constants as C
from qvirt.conf import xmltree
from qvirt.conf.network import Forward, ForwardInterface, Network
from qvirt.conf.network_dns import DNS, SRV, TXT, DNSHost
from qvirt.conf.network_ip import DHCP, IP, DHCPHost, DHCPRange
from qvirt.conf.network_port import PortGroup
from qvirt.conf.xmlobject import ParseContext, XMLObject
from qvirt.conf.xmltree import Element
from qvirt.errors import ErrorDomain, ErrorNumber, OperationInvalid, QvirtError, XMLError

X = TypeVar("X", bound=XMLObject)
MODIFY, DELETE = C.VIR_NETWORK_UPDATE_COMMAND_MODIFY, C.VIR_NETWORK_UPDATE_COMMAND_DELETE
ADD_LAST, ADD_FIRST = C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, C.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST
# Sections libvirt refuses to update, by the name its message gives them.
UNSUPPORTED = {C.VIR_NETWORK_SECTION_BRIDGE: "bridge", C.VIR_NETWORK_SECTION_DOMAIN: "domain",
               C.VIR_NETWORK_SECTION_IP: "ip", C.VIR_NETWORK_SECTION_FORWARD: "forward",
               C.VIR_NETWORK_SECTION_FORWARD_PF: "forward pf"}


def _unsupported(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.OPERATION_UNSUPPORTED,
                      domain=ErrorDomain.NETWORK)


def _invalid(detail: str) -> QvirtError:
    return OperationInvalid(detail, domain=ErrorDomain.NETWORK)


def _c(value: object) -> str:
    """A string as libvirt's printf shows it: glibc writes NULL as (null)."""
    return "(null)" if value is None else str(value)


def _element(root: Element, tag: str, net: Network) -> None:
    if root.tag != tag:
        raise XMLError(f"unexpected element <{xmltree.local_name(root)}>, expecting "
                       f"<{tag}>, while updating network '{net.name}'",
                       domain=ErrorDomain.NETWORK)


def _parse(cls: type[X], root: Element, net: Network) -> X:
    _element(root, cls.TAG, net)
    return cls.from_element(root, ParseContext())


def _insert(items: list[Any], item: Any, command: int) -> None:
    if command == ADD_FIRST:
        items.insert(0, item)
    else:
        items.append(item)


def _is_add(command: int) -> bool:
    return command in (ADD_FIRST, ADD_LAST)


def _ip_for_dhcp(net: Network, parent_index: int) -> IP:
    """virNetworkIPDefByIndex: the <ip> at ``parent_index``, or for -1 the one with DHCP
    (else the first IPv4 one, else the first IPv6 one)."""
    ips: list[IP] = net.ips
    if parent_index >= 0:
        if parent_index >= len(ips):
            raise _invalid(f"couldn't update dhcp host entry - no <ip> element found at "
                           f"index {parent_index} in network '{net.name}'")
        return ips[parent_index]
    for ip in ips:
        if ip.dhcp and (ip.dhcp.ranges or ip.dhcp.hosts):
            return ip
    for version in (4, 6):
        for ip in ips:
            if ip.version == version:
                return ip
    raise _invalid(f"couldn't update dhcp host entry - no <ip> element found in network "
                   f"'{net.name}'")


def _check_multi_dhcp(net: Network, chosen: IP) -> None:
    for ip in net.ips:
        if ip is not chosen and ip.version == chosen.version and ip.dhcp \
                and (ip.dhcp.ranges or ip.dhcp.hosts):
            raise _invalid(f"dhcp is supported only for a single IPv{chosen.version} address "
                           "on each network")


def _addr(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    return ipaddress.ip_address(text) if text else None


def _same_mac(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _dhcp_host(net: Network, command: int, parent_index: int, root: Element) -> None:
    _element(root, "host", net)
    ip = _ip_for_dhcp(net, parent_index)
    host = _parse(DHCPHost, root, net)
    if command != DELETE:
        if host.ip is None:
            raise XMLError(f"Missing IP address in static host definition for network "
                           f"'{net.name}'", domain=ErrorDomain.NETWORK)
        if (":" in host.ip) != (ip.version == 6):
            raise _invalid("the address family of a host entry IP must match the address "
                           "family of the dhcp element's parent")
    addr = _addr(host.ip)
    if ip.dhcp is None:
        ip.dhcp = DHCP()
    hosts: list[DHCPHost] = ip.dhcp.hosts

    def any_field(other: DHCPHost) -> bool:
        return bool(_same_mac(host.mac, other.mac) or (addr and addr == _addr(other.ip))
                    or (host.name and host.name == other.name))

    described = (f"mac='{host.mac or 'unknown'}' name='{_c(host.name)}' "
                 f"ip='{addr or 'unknown'}'")
    if command == MODIFY:
        for i, other in enumerate(hosts):
            if any_field(other):
                hosts[i] = host
                return
        raise _invalid("couldn't locate an existing dhcp host entry with "
                       + " ".join(f'"{part}"' for part in described.split(" "))
                       + f" in network '{net.name}'")
    if _is_add(command):
        _check_multi_dhcp(net, ip)
        if any(any_field(other) for other in hosts):
            raise _invalid(f"there is an existing dhcp host entry in network '{net.name}' "
                           f"that matches \"<host {described}/>\"")
        _insert(hosts, host, command)
        return
    for i, other in enumerate(hosts):
        if (not host.mac or not other.mac or _same_mac(host.mac, other.mac)) and \
                (not host.name or host.name == other.name) and \
                (addr is None or addr == _addr(other.ip)):
            del hosts[i]
            return
    raise _invalid(f"couldn't locate a matching dhcp host entry in network '{net.name}'")


def _dhcp_range(net: Network, command: int, parent_index: int, root: Element) -> None:
    _element(root, "range", net)
    ip = _ip_for_dhcp(net, parent_index)
    if command == MODIFY:
        raise _unsupported("dhcp ranges cannot be modified, only added or deleted")
    rng = _parse(DHCPRange, root, net)
    probe = IP(address=ip.address, netmask=ip.netmask, prefix=ip.prefix,
               dhcp=DHCP(ranges=[rng]))
    probe.check(str(net.name))
    if (":" in str(rng.start)) != (ip.version == 6):
        raise _invalid("the address family of a dhcp range must match the address family of "
                       "the dhcp element's parent")
    if ip.dhcp is None:
        ip.dhcp = DHCP()
    ranges: list[DHCPRange] = ip.dhcp.ranges
    found = [i for i, r in enumerate(ranges)
             if _addr(r.start) == _addr(rng.start) and _addr(r.end) == _addr(rng.end)]
    if _is_add(command):
        _check_multi_dhcp(net, ip)
        if found:
            raise _invalid(f"there is an existing dhcp range entry in network '{net.name}' "
                           f"that matches \"<range start='{rng.start}' end='{rng.end}'/>\"")
        _insert(ranges, rng, command)
        return
    if not found:
        raise _invalid(f"couldn't locate a matching dhcp range entry in network '{net.name}'")
    del ranges[found[0]]


def _forward_interface(net: Network, command: int, parent_index: int, root: Element) -> None:
    _element(root, "interface", net)
    if command == MODIFY:
        raise _unsupported("forward interface entries cannot be modified, only added or "
                           "deleted")
    dev = root.get("dev")
    if dev is None:
        raise XMLError("missing dev attribute in <interface> element",
                       domain=ErrorDomain.NETWORK)
    if net.forward is None:
        net.forward = Forward(mode="nat")
    # <forward dev> is the first <interface>'s, read again from the list.
    net.forward.dev = None
    interfaces: list[ForwardInterface] = net.forward.interfaces
    found = [i for i, f in enumerate(interfaces) if f.dev == dev]
    if _is_add(command):
        if found:
            raise _invalid(f"there is an existing interface entry in network '{net.name}' "
                           f"that matches \"<interface dev='{dev}'>\"")
        _insert(interfaces, ForwardInterface(dev=dev), command)
        return
    if not found:
        raise _invalid(f"couldn't find an interface entry in network '{net.name}' matching "
                       f"<interface dev='{dev}'>")
    del interfaces[found[0]]


def _portgroup(net: Network, command: int, parent_index: int, root: Element) -> None:
    group = _parse(PortGroup, root, net)
    groups: list[PortGroup] = net.portgroups
    found = next((i for i, g in enumerate(groups) if g.name == group.name), -1)
    default = next((i for i, g in enumerate(groups) if g.default), -1)
    if found < 0 and command in (MODIFY, DELETE):
        raise _invalid(f"couldn't find a portgroup entry in network '{net.name}' matching "
                       f"<portgroup name='{group.name}'>")
    if found >= 0 and _is_add(command):
        raise _invalid(f"there is an existing portgroup entry in network '{net.name}' that "
                       f"matches \"<portgroup name='{group.name}'>\"")
    if command != DELETE and group.default and default >= 0 and default != found:
        raise _invalid(f"a different portgroup entry in network '{net.name}' is already set "
                       "as the default. Only one default is allowed.")
    if command == MODIFY:
        groups[found] = group
    elif command == DELETE:
        del groups[found]
    else:
        _insert(groups, group, command)


def _dns(net: Network) -> DNS:
    if net.dns is None:
        net.dns = DNS()
    dns: DNS = net.dns
    return dns


def _dns_records(command: int, items: list[Any], found: list[int], item: Any,
                 exists: str, missing: str, multiple: str) -> None:
    if _is_add(command):
        if found:
            raise _invalid(exists)
        _insert(items, item, command)
        return
    if not found:
        raise _invalid(missing)
    if len(found) > 1:
        raise _invalid(multiple)
    del items[found[-1]]


def _dns_host(net: Network, command: int, parent_index: int, root: Element) -> None:
    if command == MODIFY:
        raise _unsupported("DNS HOST records cannot be modified, only added or deleted")
    host = _parse(DNSHost, root, net)
    addr = _addr(host.ip)
    hosts: list[DNSHost] = _dns(net).hosts
    # Adding, only the address counts: one name on several addresses is fine.
    found = [i for i, h in enumerate(hosts) if (addr and addr == _addr(h.ip))
             or (not _is_add(command) and set(h.hostnames) & set(host.hostnames))]
    _dns_records(command, hosts, found, host,
                 f"there is already at least one DNS HOST record with a matching field in "
                 f"network {net.name}",
                 f"couldn't locate a matching DNS HOST record in network {net.name}",
                 f"multiple matching DNS HOST records were found in network {net.name}")


def _dns_srv(net: Network, command: int, parent_index: int, root: Element) -> None:
    if command == MODIFY:
        raise _unsupported("DNS SRV records cannot be modified, only added or deleted")
    srv = _parse(SRV, root, net)
    srvs: list[SRV] = _dns(net).srvs
    keys = ("domain", "service", "protocol", "target")
    found = [i for i, s in enumerate(srvs)
             if all(getattr(srv, k) is None or getattr(srv, k) == getattr(s, k) for k in keys)]
    _dns_records(command, srvs, found, srv,
                 f"there is already at least one DNS SRV record matching all specified fields "
                 f"in network {net.name}",
                 f"couldn't locate a matching DNS SRV record in network {net.name}",
                 f"multiple DNS SRV records matching all specified fields were found in "
                 f"network {net.name}")


def _dns_txt(net: Network, command: int, parent_index: int, root: Element) -> None:
    if command == MODIFY:
        raise _unsupported("DNS TXT records cannot be modified, only added or deleted")
    txt = _parse(TXT, root, net)
    txts: list[TXT] = _dns(net).txts
    found = [i for i, t in enumerate(txts) if t.name == txt.name][:1]
    if _is_add(command) and found:
        raise _invalid(f"there is already a DNS TXT record with name '{txt.name}' in network "
                       f"{net.name}")
    _dns_records(command, txts, found, txt, "",
                 f"couldn't locate a matching DNS TXT record in network {net.name}", "")


SECTIONS: dict[int, Callable[[Network, int, int, Element], None]] = {
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
    """The network ``net`` with the change made (``net`` itself is left alone), checked as a
    whole definition is (libvirt's final format and parse)."""
    root = xmltree.parse(xml, "network_update_xml")
    if section in UNSUPPORTED:
        raise _unsupported(f"can't update '{UNSUPPORTED[section]}' section of network "
                           f"'{net.name}'")
    handler = SECTIONS.get(section)
    if handler is None:
        raise _unsupported("can't update unrecognized section of network")
    changed = net.copy()
    if command not in (MODIFY, DELETE, ADD_LAST, ADD_FIRST):
        # The section's own checks come first in libvirt; an unknown command then fails.
        with contextlib.suppress(QvirtError):
            handler(changed.copy(), ADD_LAST, parent_index, root)
        raise _unsupported(f"unrecognized network update command code {command}")
    handler(changed, command, parent_index, root)
    return Network.from_xml(changed.to_xml())
