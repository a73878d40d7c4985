"""The <network> document (virsh net-define / net-dumpxml), as libvirt 9.0 reads and writes it.

Forward modes split networks in two: those whose bridge libvirt builds itself (no <forward>,
nat, route, open) get a bridge name, STP settings and a MAC at define time; the others hand guests
to a device that exists already (a host bridge, a NIC for macvtap, SR-IOV functions).
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import uuid as uuidlib
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from typing import Any

from qvirt.conf.devices.base import PCIAddress
from qvirt.conf.network_dns import DNS
from qvirt.conf.network_ip import IP, Route
from qvirt.conf.network_port import Bandwidth, PortGroup, VirtualPort, Vlan, YesNo
from qvirt.conf.xmlobject import (
    UUID,
    Attr,
    Child,
    Conv,
    Field,
    Int,
    MacAddr,
    ParseContext,
    Raw,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import (
    ConfigUnsupported,
    ErrorDomain,
    ErrorNumber,
    InternalError,
    QvirtError,
    XMLDetail,
    XMLError,
)

DNSMASQ_NS = "http://libvirt.org/schemas/network/dnsmasq/1.0"
FORWARD_MODES = ("nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev")
# Modes where libvirt creates and owns the bridge (None: an isolated network, no <forward>).
OWN_BRIDGE_MODES = (None, "nat", "route", "open")
# Whether a parse applies the network driver's define-time rules (networkValidate).
_DRIVER_RULES: ContextVar[bool] = ContextVar("network_driver_rules", default=True)


@contextlib.contextmanager
def without_driver_rules() -> Iterator[None]:
    """Parses that libvirt makes without networkValidate: loading saved configs and state,
    and the format/parse check after net-update."""
    token = _DRIVER_RULES.set(False)
    try:
        yield
    finally:
        _DRIVER_RULES.reset(token)


class _StpConv(Conv[bool]):
    """libvirt turns STP off only for the exact word 'off'; anything else means on."""

    def parse(self, text: str) -> bool:
        return text != "off"

    def format(self, value: bool) -> str:
        return "on" if value else "off"


class NatAddress(XMLObject):
    TAG = "address"
    ORDER = ("start", "end")
    start = Attr("@start")
    end = Attr("@end")


class NatPort(XMLObject):
    TAG = "port"
    ORDER = ("start", "end")
    start = Attr("@start")
    end = Attr("@end")


class NatRange(XMLObject):
    """The public addresses and ports NAT maps guests to (at most one range of each)."""

    TAG = "nat"
    ORDER = ("ipv6", "addresses", "ports")
    ipv6 = Attr("@ipv6", YesNo)
    addresses = Child(NatAddress, single=False)
    ports = Child(NatPort, single=False)

    def check(self, network: str) -> None:
        where = f"in <nat> in <forward> in network {network}"
        for kind, items in (("address", self.addresses), ("port", self.ports)):
            if len(items) > 1:
                raise XMLError(f"Only one <{kind}> element is allowed {where}")
        if self.addresses:
            self._check_addresses(self.addresses[0], network, where)
        if self.ports:
            self._check_ports(self.ports[0], where)

    @staticmethod
    def _check_addresses(rng: NatAddress, network: str, where: str) -> None:
        addrs = []
        for attr in ("start", "end"):
            text = getattr(rng, attr)
            if text is None:
                raise XMLError(f"missing '{attr}' attribute in <address> element {where}")
            try:
                addrs.append(ipaddress.IPv4Address(text))
            except ValueError:
                raise XMLError(f"Bad ipv4 {attr} address '{text}' in <nat> in <forward> in "
                               f"network '{network}'") from None
        rng.start, rng.end = str(addrs[0]), str(addrs[1])
        if addrs[0] > addrs[1]:
            raise InternalError(f"range {addrs[0]} - {addrs[1]} is reversed ")

    def _check_ports(self, rng: NatPort, where: str) -> None:
        ports = []
        for attr in ("start", "end"):
            try:
                ports.append(int(str(getattr(rng, attr))))
            except ValueError:
                raise XMLDetail(f"Missing or invalid '{attr}' attribute in <port> {where}") \
                    from None
        if ports[1] < ports[0] or ports[1] > 65535:
            raise XMLDetail(f"Missing or invalid 'end' attribute in <port> {where}")
        # A range of 0-0 is no range: libvirt does not write it.
        self.ports = [rng] if ports[1] else []


class ForwardInterface(XMLObject):
    TAG = "interface"
    ORDER = ("dev",)
    dev = Attr("@dev")


class ForwardPF(XMLObject):
    TAG = "pf"
    ORDER = ("dev",)
    dev = Attr("@dev")


class Forward(XMLObject):
    """libvirt writes ``dev`` back as the first <interface>, and managed only for hostdev."""

    TAG = "forward"
    KEEP_EMPTY = True
    ORDER = ("dev", "mode", "managed", "driver", "nat", "pfs", "interfaces", "addresses")
    dev = Attr("@dev")
    mode = Attr("@mode")
    managed = Attr("@managed")
    driver = Attr("driver/@name")
    nat = Child(NatRange)
    pfs = Child(ForwardPF, single=False)
    interfaces = Child(ForwardInterface, single=False)
    addresses = Child(PCIAddress, single=False, path="")

    def post_parse(self) -> None:
        if self.mode is None:
            self.mode = "nat"
        if self.mode not in FORWARD_MODES:
            raise ConfigUnsupported(f"unknown forwarding type '{self.mode}'")
        self.managed = ("yes" if self.managed == "yes" else "no") \
            if self.mode == "hostdev" else None

    def check(self, network: str) -> None:
        if len(self.pfs) > 1:
            raise XMLError(f"Only one <pf> element is allowed in <forward> of network {network}")
        if any(pf.dev is None for pf in self.pfs):
            raise XMLError(f"Missing required dev attribute in <pf> element of network "
                           f"'{network}'")
        devs: list[str] = []
        for iface in self.interfaces:
            if iface.dev is None:
                raise XMLError(f"Missing required dev attribute in <forward> <interface> "
                               f"element of network {network}")
            if iface.dev in devs:
                raise XMLError(f"interface '{iface.dev}' can only be listed once in network "
                               f"{network}")
            devs.append(iface.dev)
        if self.nat is not None and self.mode != "nat":
            raise XMLError(f"The <nat> element can only be used when <forward> 'mode' is 'nat' "
                           f"in network {network}")
        if self.mode in ("nat", "route") and len(self.interfaces) > 1:
            raise XMLError(f"multiple forwarding interfaces specified for network "
                           f"'{network}', only one is supported")
        if self.dev is not None:
            if self.interfaces and self.interfaces[0].dev != self.dev:
                raise XMLError(f"<forward dev='{self.dev}'> must match first <interface "
                               f"dev='{self.interfaces[0].dev}'/> in network {network}")
            if not self.interfaces and not self.pfs:
                self.interfaces = [ForwardInterface(dev=self.dev)]
        self.dev = self.interfaces[0].dev if self.interfaces and not self.pfs else None
        if self.nat is not None:
            self.nat.check(network)


class Bridge(XMLObject):
    TAG = "bridge"
    ORDER = ("name", "zone", "stp", "delay", "mac_table_manager")
    name = Attr("@name")
    zone = Attr("@zone")
    stp = Attr("@stp", _StpConv())
    delay = Attr("@delay")
    mac_table_manager = Attr("@macTableManager")


class _DnsmasqOptions(Field):
    """<dnsmasq:options> in libvirt's dnsmasq namespace: the values of its <dnsmasq:option>s.
    libvirt recognizes the namespace by URI and always writes it with the prefix 'dnsmasq'."""

    def default(self) -> list[str]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[str]:
        values: list[str] = []
        for options in node:
            if options.tag != f"{{{DNSMASQ_NS}}}options":
                continue
            ctx.element(options)
            for option in options:
                if option.tag != f"{{{DNSMASQ_NS}}}option":
                    continue
                ctx.element(option)
                ctx.attr(option, "value")
                value = option.get("value")
                if value is None:
                    raise InternalError("No dnsmasq options value specified")
                values.append(value)
        return values

    def format(self, value: Any, node: Node) -> None:
        if not value:
            return
        options = node.child("dnsmasq:options")
        options.children.extend(Node("dnsmasq:option", {"value": v}) for v in value)


class Network(XMLObject):
    ERROR_DOMAIN = ErrorDomain.NETWORK
    TAG = "network"
    ORDER = ("ipv6", "trust_guest_rx_filters", "name", "uuid", "metadata", "forward", "bridge",
             "mtu", "mac", "domain", "domain_local_only", "dns", "vlan", "bandwidth",
             "port_isolated", "ips", "routes", "virtualport", "portgroups", "dnsmasq_options")
    ipv6 = Attr("@ipv6")
    trust_guest_rx_filters = Attr("@trustGuestRxFilters")
    name = Attr("name")
    uuid = Attr("uuid")
    metadata = Raw("metadata")
    forward = Child(Forward)
    bridge = Child(Bridge)
    mtu = Attr("mtu/@size")
    mac = Attr("mac/@address")
    domain = Attr("domain/@name")
    domain_local_only = Attr("domain/@localOnly", YesNo)
    dns = Child(DNS)
    vlan = Child(Vlan)
    bandwidth = Child(Bandwidth)
    port_isolated = Attr("port/@isolated", YesNo)
    ips = Child(IP, single=False)
    routes = Child(Route, single=False)
    virtualport = Child(VirtualPort)
    portgroups = Child(PortGroup, single=False)
    dnsmasq_options = _DnsmasqOptions()

    @property
    def forward_mode(self) -> str | None:
        return self.forward.mode if self.forward else None

    def to_node(self) -> Node:
        node = super().to_node()
        if self.dnsmasq_options:
            node.attrs = {"xmlns:dnsmasq": DNSMASQ_NS, **node.attrs}
        return node

    def post_parse(self) -> None:
        """virNetworkDefParseXML's checks, with its messages."""
        if not self.name:
            raise QvirtError(code=ErrorNumber.NO_NAME)
        if "/" in self.name:
            raise XMLDetail("invalid char in name: /", domain=ErrorDomain.XML)
        if self.uuid is not None:
            try:
                self.uuid = UUID.parse(self.uuid)
            except ValueError:
                raise InternalError("malformed uuid element") from None
        for attr, word in (("ipv6", "ipv6"), ("trust_guest_rx_filters", "trustGuestRxFilters")):
            if getattr(self, attr) not in (None, "yes", "no"):
                raise XMLError(f"Invalid {word} setting '{getattr(self, attr)}' in network "
                               f"'{self.name}'")
        if self.domain is None:
            self.domain_local_only = None
        if self.bandwidth is not None and not self.bandwidth.present:
            self.bandwidth = None
        if self.virtualport is not None and self.virtualport.type is None:
            raise XMLError("missing required virtualport type")
        self._check_bridge()
        self._check_mac_and_mtu()
        if self.dns is not None:
            self.dns.check(self.name)
        for ip in self.ips:
            ip.check(self.name)
        for version in (4, 6):
            if len([ip for ip in self.ips if ip.version == version and ip.dhcp]) > 1:
                raise ConfigUnsupported(
                    f"Multiple IPv{version} dhcp sections found -- dhcp is supported only for "
                    f"a single IPv{version} address on each network")
        for route in self.routes:
            route.check(self.name)
        if self.forward is not None:
            self.forward.check(self.name)
        self._check_forward()
        self._check_portgroups()
        if _DRIVER_RULES.get():
            check_driver_rules(self)

    def _check_bridge(self) -> None:
        bridge = self.bridge
        if bridge is None:
            return
        if bridge.delay is not None:
            try:
                bridge.delay = str(UInt.parse(bridge.delay))
            except ValueError:
                raise XMLError(f"Invalid delay value in network '{self.name}'") from None
        if bridge.mac_table_manager not in (None, "kernel", "libvirt"):
            raise XMLError(f"Invalid macTableManager setting '{bridge.mac_table_manager}' in "
                           f"network '{self.name}'")
        mode = self.forward_mode
        if mode in OWN_BRIDGE_MODES:
            return
        if mode != "bridge":
            for attr, what in (("name", "bridge name"), ("zone", "bridge zone"),
                               ("mac_table_manager", "bridge macTableManager setting")):
                if getattr(bridge, attr) is not None:
                    raise XMLError(f"{what} not allowed in {mode} mode (network "
                                   f"'{self.name}')")
        if bridge.stp is not None or (bridge.delay or "0") != "0" or bridge.zone is not None:
            raise XMLError(f"bridge delay/stp/zone options only allowed in route, nat, and "
                           f"isolated mode, not in {mode} (network '{self.name}')")
        bridge.delay = None
        if bridge.name is None and bridge.mac_table_manager is None:
            self.bridge = None

    def _check_mac_and_mtu(self) -> None:
        if self.mac is not None:
            try:
                self.mac = MacAddr.parse(self.mac)
            except ValueError:
                raise XMLError(f"Invalid bridge mac address '{self.mac}' in network "
                               f"'{self.name}'") from None
            if int(self.mac[:2], 16) & 1:
                raise XMLError(f"Invalid multicast bridge mac address '{self.mac}' in network "
                               f"'{self.name}'")
        if self.mtu is not None:
            try:
                mtu = Int.parse(self.mtu)
                if abs(mtu) >= 1 << 32:
                    raise ValueError(self.mtu)
                # strtoul's reading: -5 is 4294967291.
                self.mtu = str(mtu % (1 << 32))
            except ValueError:
                raise XMLError(f"Invalid mtu size '{self.mtu}' in network '{self.name}'") \
                    from None
            if self.forward_mode not in OWN_BRIDGE_MODES:
                raise XMLError(f"mtu size only allowed in open, route, nat, and isolated mode, "
                               f"not in {self.forward_mode} (network '{self.name}')")

    def _check_forward(self) -> None:
        mode = self.forward_mode
        if mode == "open" and self.forward is not None and self.forward.interfaces:
            raise XMLError(f"forward dev not allowed for network '{self.name}' with forward "
                           f"mode='open'")
        if mode in ("nat", "route", "open") and not self.ips:
            raise XMLError(f"{mode} forwarding requested, but no IP address provided for "
                           f"network '{self.name}'")
        if mode == "bridge" and self.bridge is not None and self.bridge.name is not None \
                and self.forward is not None and (self.forward.interfaces or self.forward.pfs):
            raise XMLError(f"A network with forward mode='bridge' can specify a bridge name or "
                           f"a forward dev, but not both (network '{self.name}')")

    def _check_portgroups(self) -> None:
        seen: list[str] = []
        default: str | None = None
        for group in self.portgroups:
            if group.name is None:
                raise XMLError("Missing required name attribute in portgroup")
            if group.name in seen:
                raise ConfigUnsupported(f"multiple <portgroup> elements with the same name "
                                        f"({group.name}) in network '{self.name}'")
            seen.append(group.name)
            if group.default:
                if default is not None:
                    raise ConfigUnsupported(
                        f"network '{self.name}' has multiple default <portgroup> elements "
                        f"({default} and {group.name}), but only one default is allowed")
                default = group.name


def check_driver_rules(net: Network) -> None:
    """What libvirt's network driver refuses at define time (networkValidate). Checked at
    parse time too: no document that fails them is ever defined, so none is worth a model."""
    mode = net.forward_mode
    own_bridge = mode in OWN_BRIDGE_MODES
    if mode == "hostdev" and net.forward is not None and net.forward.interfaces:
        raise ConfigUnsupported(
            f"hostdev network '{net.name}' lists '{net.forward.interfaces[0].dev}' in the "
            f"device pool, but hostdev networks require all devices to be listed by PCI "
            f"address, not network device name")
    if mode != "hostdev" and net.forward is not None and net.forward.addresses:
        # (sic: libvirt's message has two spaces before "but")
        raise ConfigUnsupported(
            f"network '{net.name}' has forward mode '{mode}'  but lists a device by PCI address "
            f"in the device pool. This is only supported for networks with forward mode "
            f"'hostdev'")
    if net.mac is not None and not own_bridge:
        raise ConfigUnsupported(f"Unsupported <mac> element in network {net.name} with forward "
                                f"mode='{mode}'")
    ovs = net.virtualport is not None and net.virtualport.type == "openvswitch"
    vlan_ok = mode in ("hostdev", "passthrough") or (mode == "bridge" and ovs)
    for group in net.portgroups:
        if group.bandwidth is not None and not own_bridge:
            raise ConfigUnsupported(f"Unsupported <bandwidth> element in network '{net.name}' "
                                    f"in portgroup '{group.name}' with forward mode='{mode}'")
    net_vlan = net.vlan is not None and bool(net.vlan.tags)
    bad_vlan = net_vlan and not vlan_ok
    for group in net.portgroups:
        if not (net_vlan or (group.vlan and group.vlan.tags)):
            continue
        # A portgroup's own virtualport decides for those who use it.
        if group.virtualport is not None:
            bad_vlan |= mode != "bridge" or group.virtualport.type != "openvswitch"
        else:
            bad_vlan |= not vlan_ok
    if bad_vlan:
        raise ConfigUnsupported(f"<vlan> element specified for network {net.name}, whose "
                                f"type doesn't support vlan configuration")
    for bandwidth in [net.bandwidth, *(g.bandwidth for g in net.portgroups)]:
        inbound = bandwidth.inbound if bandwidth is not None else None
        if inbound is not None and inbound.floor is not None:
            raise ConfigUnsupported("floor attribute is not supported for this config")


def bridge_name(template: str | None, used: Collection[str]) -> str:
    """libvirt's pick for a bridge left unnamed (or named with a %d template): the lowest
    free number."""
    pattern = template if template and "%d" in template else "virbr%d"
    for n in range(256):
        name = pattern.replace("%d", str(n))
        if name not in used:
            return name
    raise InternalError("Bridge generation exceeded max id 256")


def random_mac() -> str:
    tail = [random.randrange(256) for _ in range(3)]
    return "52:54:00:" + ":".join(f"{b:02x}" for b in tail)


def apply_defaults(net: Network, used_bridges: Collection[str] = ()) -> None:
    """What libvirtd 9.0 fills when it defines the network. ``used_bridges`` are the bridge
    names of the other defined networks (and host devices), which a new name must avoid."""
    if net.uuid is None:
        net.uuid = str(uuidlib.uuid4())
    if net.forward is not None and net.forward.mode == "hostdev" and net.forward.managed is None:
        net.forward.managed = "no"
    if net.forward_mode not in OWN_BRIDGE_MODES:
        return
    if net.bridge is None:
        net.bridge = Bridge()
    if net.bridge.name is None or "%d" in net.bridge.name:
        net.bridge.name = bridge_name(net.bridge.name, used_bridges)
    if net.bridge.stp is None:
        net.bridge.stp = True
    if net.bridge.delay is None:
        net.bridge.delay = "0"
    if net.mac is None:
        net.mac = random_mac()
