"""A network's addressing: <ip> with its <tftp> and <dhcp>, and static <route>s.

Addresses stay strings while parsing: libvirt's messages about a bad one name the network, which
only the <network> knows, so Network.post_parse checks them through ``check_address`` and
writes them back in libvirt's canonical spelling.
"""

from __future__ import annotations

import ipaddress
import socket

from qvirt.conf.network_port import OpenElement, YesNo
from qvirt.conf.xmlobject import Attr, Child, Choice, MacAddr, UInt, XMLObject
from qvirt.errors import ConfigUnsupported, InternalError, XMLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


def spell(addr: IPAddress) -> str:
    """An address as libvirt writes it (inet_ntop): ::10.1.2.3 stays so, where Python's own
    spelling would be ::a01:203."""
    if addr.version == 4:
        return str(addr)
    return socket.inet_ntop(socket.AF_INET6, addr.packed)


def check_address(text: str, network: str) -> IPAddress:
    """The address ``text`` names, or libvirt's error for the network that holds it."""
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise XMLError(f"Invalid address '{text}' in network '{network}'") from None


class Lease(XMLObject):
    TAG = "lease"
    ORDER = ("expiry", "unit")
    expiry = Attr("@expiry", UInt)
    unit = Attr("@unit", Choice(*UNIT_SECONDS))

    def post_parse(self) -> None:
        seconds = (self.expiry or 0) * UNIT_SECONDS[self.unit or "minutes"]
        if 0 < seconds < 120:
            raise ConfigUnsupported("The minimum lease time should be greater than 2 minutes")


class DHCPRange(XMLObject):
    TAG = "range"
    ORDER = ("start", "end", "lease")
    start = Attr("@start")
    end = Attr("@end")
    lease = Child(Lease)


class DHCPHost(XMLObject):
    TAG = "host"
    ORDER = ("mac", "id", "name", "ip", "lease")
    mac = Attr("@mac")
    id = Attr("@id")
    name = Attr("@name")
    ip = Attr("@ip")
    lease = Child(Lease)


class Bootp(XMLObject):
    TAG = "bootp"
    ORDER = ("file", "server")
    file = Attr("@file")
    server = Attr("@server")


class DHCP(XMLObject):
    TAG = "dhcp"
    ORDER = ("ranges", "hosts", "bootp")
    ranges = Child(DHCPRange, single=False)
    hosts = Child(DHCPHost, single=False)
    bootp = Child(Bootp)


class IP(OpenElement):
    TAG = "ip"
    ORDER = ("family", "address", "netmask", "prefix", "local_ptr", "tftp_root", "dhcp")
    family = Attr("@family")
    address = Attr("@address")
    netmask = Attr("@netmask")
    prefix = Attr("@prefix", UInt)
    local_ptr = Attr("@localPtr", YesNo)
    tftp_root = Attr("tftp/@root")
    dhcp = Child(DHCP)

    def check(self, network: str) -> None:
        """Family, address and prefix checks of virNetworkIPDefParseXML, and canonical
        spellings of every address inside."""
        if self.family not in (None, "ipv4", "ipv6"):
            raise XMLError(f"Unrecognized family '{self.family}' in network '{network}'")
        if self.address is None:
            raise XMLError(f"Missing required address attribute in network '{network}'")
        addr = check_address(self.address, network)
        self.address = spell(addr)
        family = {"ipv4": 4, "ipv6": 6}.get(self.family or "", addr.version)
        if family != addr.version:
            raise ConfigUnsupported(f"{self.family} family specified for non-IPv{family} "
                                    f"address '{addr}' in network '{network}'")
        if self.netmask is not None and self.prefix is not None:
            raise ConfigUnsupported(f"Network '{network}' IP address cannot have both a prefix "
                                    f"and a netmask")
        if self.netmask is not None:
            if addr.version == 6:
                raise ConfigUnsupported(f"netmask not allowed for IPv6 address '{addr}' in "
                                        f"network '{network}'")
            self.netmask = spell(check_address(self.netmask, network))
        limit = 32 if addr.version == 4 else 128
        if self.prefix is not None and self.prefix > limit:
            raise ConfigUnsupported(f"Invalid IPv{addr.version} prefix '{self.prefix}' in "
                                    f"network '{network}'")
        for rng in self.dhcp.ranges if self.dhcp else []:
            self._check_range(rng, network)
        for host in self.dhcp.hosts if self.dhcp else []:
            self._check_host(host, addr, network)
        if self.dhcp and self.dhcp.bootp and self.dhcp.bootp.server:
            self.dhcp.bootp.server = spell(check_address(self.dhcp.bootp.server,
                                                             network))
        # A <dhcp> with neither ranges nor hosts is dropped, <bootp> and all.
        if self.dhcp and not (self.dhcp.ranges or self.dhcp.hosts):
            self.dhcp = None

    @property
    def version(self) -> int:
        return 6 if ":" in str(self.address) else 4

    def _network(self, addr: IPAddress) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The subnet; without prefix or netmask, IPv4 falls back to the address's class."""
        bits: object
        if self.prefix is not None:
            bits = self.prefix
        elif self.netmask is not None:
            bits = self.netmask
        elif addr.version == 6:
            bits = 64
        else:
            first = int(addr) >> 24
            bits = 8 if first < 128 else 16 if first < 192 else 24
        return ipaddress.ip_network(f"{addr}/{bits}", strict=False)

    def _check_range(self, rng: DHCPRange, network: str) -> None:
        if rng.start is None:
            raise XMLError(f"Missing 'start' attribute in dhcp range for network '{network}'")
        if rng.end is None:
            raise XMLError(f"Missing 'end' attribute in dhcp range for network '{network}'")
        start, end = check_address(rng.start, network), check_address(rng.end, network)
        rng.start, rng.end = spell(start), spell(end)
        addr = check_address(str(self.address), network)
        net = self._network(addr)
        if start not in net or end not in net:
            raise InternalError(f"range {start} - {end} is not entirely within network "
                                f"{addr}/{net.prefixlen}")
        if int(start) > int(end):
            raise InternalError(f"range {start} - {end} is reversed ")
        if int(end) - int(start) >= 65535:
            raise InternalError(f"range {start} - {end} is too large (> 65535)")

    def _check_host(self, host: DHCPHost, addr: IPAddress, network: str) -> None:
        if host.mac is not None:
            # Checked, but written back as given: dnsmasq gets the text as it is.
            try:
                MacAddr.parse(host.mac)
            except ValueError:
                raise XMLError(f"Cannot parse MAC address '{host.mac}' in network "
                               f"'{network}'") from None
        if host.ip is None:
            raise XMLError(f"Missing IP address in static host definition for network "
                           f"'{network}'")
        host.ip = spell(check_address(host.ip, network))


class Route(XMLObject):
    TAG = "route"
    ORDER = ("family", "address", "netmask", "prefix", "gateway", "metric")
    family = Attr("@family")
    address = Attr("@address")
    netmask = Attr("@netmask")
    prefix = Attr("@prefix", UInt)
    gateway = Attr("@gateway")
    metric = Attr("@metric", UInt)

    def check(self, network: str) -> None:
        if self.address is None:
            raise XMLError(f"{network}: Missing required address attribute in route "
                           f"definition")
        if self.gateway is None:
            raise XMLError(f"{network}: Missing required gateway attribute in route "
                           f"definition")
        if self.netmask is not None and self.prefix is not None:
            raise XMLError(f"{network}: Route definition cannot have both a prefix and a "
                           f"netmask")
        if self.metric == 0:
            raise XMLError("Invalid value for attribute 'metric' in element 'route': "
                           "Zero is not permitted")
        addr = check_address(self.address, network)
        family = {"ipv4": 4, "ipv6": 6}.get(self.family or "", addr.version)
        if family != addr.version:
            raise XMLError(f"{network}: {self.family} family specified for non-IPv{family} "
                           f"address '{addr}' in route definition")
        self.address = spell(addr)
        self.gateway = spell(check_address(self.gateway, network))
