"""The host interface document (virsh iface-define / iface-dumpxml): a physical NIC, or a
bridge, bond or VLAN built on top of others, with its start mode and IP configuration.

Interfaces nest: a bridge holds ethernet, bond and VLAN interfaces, a bond holds ethernet ones.
Only the top-level interface carries <start>, <mtu> and <protocol>; libvirt ignores them on the
ones inside, which inherit the top level's settings.
"""

from __future__ import annotations

from qvirt.conf.network_port import OpenElement, YesNo
from qvirt.conf.xmlobject import Attr, Child, Choice, Flag, UInt, XMLObject
from qvirt.errors import ErrorDomain, XMLError

TYPES = ("ethernet", "bridge", "bond", "vlan")
START_MODES = ("onboot", "none", "hotplug")
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
              "balance-tlb", "balance-alb")
LINK_STATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")
# The interface types each kind of parent may hold.
NESTED_TYPES = {"bridge": ("ethernet", "bond", "vlan"), "bond": ("ethernet",)}


class DHCP(XMLObject):
    TAG = "dhcp"
    KEEP_EMPTY = True
    ORDER = ("peerdns",)
    peerdns = Attr("@peerdns", YesNo)


class IfaceIP(XMLObject):
    """A static address; libvirt writes no prefix when it is 0 (or absent)."""

    TAG = "ip"
    ORDER = ("address", "prefix")
    address = Attr("@address")
    prefix = Attr("@prefix", UInt)

    def post_parse(self) -> None:
        if not self.prefix:
            self.prefix = None


class Protocol(OpenElement):
    """One address family's configuration; only the first <route> counts (the gateway)."""

    TAG = "protocol"
    ORDER = ("family", "autoconf", "dhcp", "ips", "gateway")
    family = Attr("@family")
    autoconf = Flag("autoconf")
    dhcp = Child(DHCP)
    ips = Child(IfaceIP, single=False)
    gateway = Attr("route/@gateway")

    def post_parse(self) -> None:
        if self.family is None:
            raise XMLError("protocol misses the family attribute")
        if self.family not in ("ipv4", "ipv6"):
            raise XMLError(f"unsupported protocol family '{self.family}'")
        if self.family == "ipv4":
            self.autoconf = False
        self.ips = [ip for ip in self.ips if ip.address is not None]


def _check_nested(parent: str, children: list[Interface]) -> None:
    """What a bridge or bond may hold, and what its members lose (see the module doc)."""
    for child in children:
        if child.type not in NESTED_TYPES[parent]:
            raise XMLError(f"interface has unsupported type '{child.type}'")
        child.start_mode = child.mtu = None
        child.protocols = []


class IfaceBridge(OpenElement):
    TAG = "bridge"
    ORDER = ("stp", "delay", "interfaces")
    stp = Attr("@stp")
    delay = Attr("@delay")
    interfaces = Child(lambda: Interface, single=False)

    def post_parse(self) -> None:
        # libvirt reports a bad stp value but goes on without one.
        if self.stp not in ("on", "off"):
            self.stp = None
        _check_nested("bridge", self.interfaces)


class Bond(OpenElement):
    """Link monitoring is MII or ARP: with both given, libvirt keeps only <miimon>."""

    TAG = "bond"
    ORDER = ("mode", "miimon_freq", "miimon_downdelay", "miimon_updelay", "miimon_carrier",
             "arpmon_interval", "arpmon_target", "arpmon_validate", "interfaces")
    mode = Attr("@mode")
    miimon_freq = Attr("miimon/@freq")
    miimon_downdelay = Attr("miimon/@downdelay")
    miimon_updelay = Attr("miimon/@updelay")
    miimon_carrier = Attr("miimon/@carrier")
    arpmon_interval = Attr("arpmon/@interval")
    arpmon_target = Attr("arpmon/@target")
    arpmon_validate = Attr("arpmon/@validate")
    interfaces = Child(lambda: Interface, single=False)

    def post_parse(self) -> None:
        if self.mode is not None and self.mode not in BOND_MODES:
            raise XMLError(f"unknown bonding mode {self.mode}")
        _check_nested("bond", self.interfaces)
        if self.miimon_freq is not None or self.miimon_carrier is not None or \
                self.miimon_updelay is not None or self.miimon_downdelay is not None:
            self._check_miimon()
            self.arpmon_interval = self.arpmon_target = self.arpmon_validate = None
        elif self.arpmon_interval is not None or self.arpmon_target is not None:
            self._check_arpmon()

    def _check_miimon(self) -> None:
        self.miimon_freq = _int_or_error(self.miimon_freq,
                                         "bond interface miimon freq missing or invalid")
        for attr in ("downdelay", "updelay"):
            value = getattr(self, f"miimon_{attr}")
            if value is not None:
                number = _int_or_error(value, f"bond interface miimon {attr} invalid")
                setattr(self, f"miimon_{attr}", number if number > 0 else None)
        if self.miimon_carrier not in (None, "ioctl", "netif"):
            raise XMLError(f"unknown mii bonding carrier {self.miimon_carrier}")

    def _check_arpmon(self) -> None:
        self.arpmon_interval = _int_or_error(
            self.arpmon_interval, "bond interface arpmon interval missing or invalid")
        if self.arpmon_target is None:
            raise XMLError("bond interface arpmon target missing")
        if self.arpmon_validate not in (None, "none", "active", "backup", "all"):
            raise XMLError(f"unknown arp bonding validate {self.arpmon_validate}")
        if self.arpmon_validate == "none":
            self.arpmon_validate = None


def _int_or_error(value: object, message: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise XMLError(message) from None


class IfaceVlan(XMLObject):
    TAG = "vlan"
    ORDER = ("tag", "device")
    tag = Attr("@tag")
    device = Attr("interface/@name")

    def post_parse(self) -> None:
        if self.tag is None:
            raise XMLError("vlan interface misses the tag attribute")
        if self.device is None:
            raise XMLError("vlan interface misses name attribute")


class Interface(OpenElement):
    ERROR_DOMAIN = ErrorDomain.INTERFACE
    TAG = "interface"
    ORDER = ("type", "name", "start_mode", "mtu", "protocols", "link_speed", "link_state",
             "mac", "bridge", "bond", "vlan")
    type = Attr("@type", Choice(*TYPES), required=True)
    name = Attr("@name")
    start_mode = Attr("start/@mode")
    mtu = Attr("mtu/@size", UInt)
    protocols = Child(Protocol, single=False)
    link_speed = Attr("link/@speed", UInt)
    link_state = Attr("link/@state", Choice(*LINK_STATES))
    mac = Attr("mac/@address")
    bridge = Child(IfaceBridge)
    bond = Child(Bond)
    vlan = Child(IfaceVlan)

    def post_parse(self) -> None:
        """virInterfaceDefParseXML's checks, with its messages."""
        if self.name is None:
            raise XMLError("interface has no name")
        if self.start_mode is not None and self.start_mode not in START_MODES:
            raise XMLError(f"unknown interface startmode {self.start_mode}")
        if self.mtu is not None and self.mtu > 100000:
            raise XMLError("value of the 'size' attribute of 'mtu' element must be at most "
                           "100000")
        if not self.link_speed:
            self.link_speed = None
        if self.type == "bridge":
            self.link_speed = self.link_state = None
        if self.type != "ethernet":
            self.mac = None
        for kind in ("bridge", "bond", "vlan"):
            if self.type == kind and getattr(self, kind) is None:
                raise XMLError(f"{kind} interface misses the {kind} element")
            if self.type != kind:
                setattr(self, kind, None)
