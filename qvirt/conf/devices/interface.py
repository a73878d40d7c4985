"""<interface> devices (virDomainNetDef): the guest NIC and how its host side connects.

Which <source> attributes count depends on the interface type, as in virDomainNetDefParseXML;
the rest are forgotten in post_parse(). Generated values (MAC, Open vSwitch interfaceid,
802.1Qbg instanceid) are filled by the defaults stage, not here.
"""

from __future__ import annotations

import re

from qvirt.conf.devices.base import Address, DeviceDef
from qvirt.conf.xmlobject import UUID, Attr, Child, Choice, OnOff, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, InvalidArg, XMLError

NET_TYPES = Choice("user", "ethernet", "vhostuser", "server", "client", "mcast", "network",
                   "bridge", "internal", "direct", "hostdev", "udp", "vdpa", "null", "vds")


class Local(XMLObject):
    TAG = "local"
    ORDER = ("address", "port")
    address = Attr("@address")
    port = Attr("@port", UInt)


class Reconnect(XMLObject):
    TAG = "reconnect"
    ORDER = ("enabled", "timeout")
    enabled = Attr("@enabled", YesNo)
    timeout = Attr("@timeout", UInt)


class NetSource(XMLObject):
    TAG = "source"
    KEEP_EMPTY = True
    ORDER = ("network", "portgroup", "bridge", "dev", "type", "path", "mode", "address",
             "port", "local", "reconnect", "hostdev_address")
    network = Attr("@network")
    portgroup = Attr("@portgroup")
    bridge = Attr("@bridge")
    dev = Attr("@dev")
    type = Attr("@type", Choice("unix"))
    path = Attr("@path")
    mode = Attr("@mode")
    address = Attr("@address")
    port = Attr("@port", UInt)
    local = Child(Local)
    reconnect = Child(Reconnect)
    hostdev_address = Child(Address)


# Source fields each interface type reads (virDomainNetDefParseXML).
_SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "network": ("network", "portgroup"),
    "bridge": ("bridge",),
    "direct": ("dev", "mode"),
    "vhostuser": ("type", "path", "mode", "reconnect"),
    "server": ("address", "port"),
    "client": ("address", "port"),
    "mcast": ("address", "port"),
    "udp": ("address", "port", "local"),
    "hostdev": ("hostdev_address",),
    "vdpa": ("dev",),
    "internal": ("network",),
}

DIRECT_MODES = ("vepa", "private", "bridge", "passthrough")

# Names libvirt generates for tap and macvtap devices: a configured one is forgotten, so that
# the next start picks a fresh one.
RESERVED_TARGET_PREFIXES = ("vnet", "macvtap", "macvlan")


class VlanTag(XMLObject):
    TAG = "tag"
    ORDER = ("id", "native_mode")
    id = Attr("@id", UInt)
    native_mode = Attr("@nativeMode", Choice("tagged", "untagged"))


class Vlan(XMLObject):
    TAG = "vlan"
    ORDER = ("trunk", "tags")
    trunk = Attr("@trunk", YesNo)
    tags = Child(VlanTag, single=False)


class VirtualPort(XMLObject):
    """<virtualport>: one parameters element whose meaningful attributes depend on the type."""

    TAG = "virtualport"
    KEEP_EMPTY = True
    ORDER = ("type", "managerid", "typeid", "typeidversion", "instanceid", "interfaceid",
             "profileid")
    type = Attr("@type", Choice("802.1Qbg", "802.1Qbh", "openvswitch", "midonet"))
    managerid = Attr("parameters/@managerid", UInt)
    typeid = Attr("parameters/@typeid", UInt)
    typeidversion = Attr("parameters/@typeidversion", UInt)
    instanceid = Attr("parameters/@instanceid", UUID)
    interfaceid = Attr("parameters/@interfaceid", UUID)
    profileid = Attr("parameters/@profileid")


class Inbound(XMLObject):
    TAG = "inbound"
    ORDER = ("average", "peak", "floor", "burst")
    average = Attr("@average", UInt)
    peak = Attr("@peak", UInt)
    floor = Attr("@floor", UInt)
    burst = Attr("@burst", UInt)


class Outbound(XMLObject):
    TAG = "outbound"
    ORDER = ("average", "peak", "burst")
    average = Attr("@average", UInt)
    peak = Attr("@peak", UInt)
    burst = Attr("@burst", UInt)


class Bandwidth(XMLObject):
    TAG = "bandwidth"
    ORDER = ("inbound", "outbound")
    inbound = Child(Inbound)
    outbound = Child(Outbound)


class IP(XMLObject):
    TAG = "ip"
    ORDER = ("address", "family", "prefix", "peer")
    address = Attr("@address")
    family = Attr("@family", Choice("ipv4", "ipv6"))
    prefix = Attr("@prefix", UInt)
    peer = Attr("@peer")


class Route(XMLObject):
    TAG = "route"
    ORDER = ("family", "address", "netmask", "prefix", "gateway", "metric")
    family = Attr("@family", Choice("ipv4", "ipv6"))
    address = Attr("@address")
    netmask = Attr("@netmask")
    prefix = Attr("@prefix", UInt)
    gateway = Attr("@gateway")
    metric = Attr("@metric", UInt)


_OFFLOADS = ("csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf")


class DriverHost(XMLObject):
    TAG = "host"
    ORDER = _OFFLOADS
    csum = Attr("@csum", OnOff)
    gso = Attr("@gso", OnOff)
    tso4 = Attr("@tso4", OnOff)
    tso6 = Attr("@tso6", OnOff)
    ecn = Attr("@ecn", OnOff)
    ufo = Attr("@ufo", OnOff)
    mrg_rxbuf = Attr("@mrg_rxbuf", OnOff)


class DriverGuest(XMLObject):
    TAG = "guest"
    ORDER = ("csum", "tso4", "tso6", "ecn", "ufo")
    csum = Attr("@csum", OnOff)
    tso4 = Attr("@tso4", OnOff)
    tso6 = Attr("@tso6", OnOff)
    ecn = Attr("@ecn", OnOff)
    ufo = Attr("@ufo", OnOff)


class NetDriver(XMLObject):
    TAG = "driver"
    ORDER = ("name", "txmode", "ioeventfd", "event_idx", "queues", "rx_queue_size",
             "tx_queue_size", "rss", "rss_hash_report", "iommu", "ats", "packed",
             "page_per_vq", "host", "guest")
    name = Attr("@name", Choice("qemu", "vhost", "kvm", "vfio", "xen"))
    txmode = Attr("@txmode", Choice("iothread", "timer"))
    ioeventfd = Attr("@ioeventfd", OnOff)
    event_idx = Attr("@event_idx", OnOff)
    queues = Attr("@queues", UInt)
    rx_queue_size = Attr("@rx_queue_size", UInt)
    tx_queue_size = Attr("@tx_queue_size", UInt)
    rss = Attr("@rss", OnOff)
    rss_hash_report = Attr("@rss_hash_report", OnOff)
    iommu = Attr("@iommu", OnOff)
    ats = Attr("@ats", OnOff)
    packed = Attr("@packed", OnOff)
    page_per_vq = Attr("@page_per_vq", OnOff)
    host = Child(DriverHost)
    guest = Child(DriverGuest)


class FilterParameter(XMLObject):
    TAG = "parameter"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr("@value")


class FilterRef(XMLObject):
    TAG = "filterref"
    ORDER = ("filter", "parameters")
    filter = Attr("@filter")
    parameters = Child(FilterParameter, single=False)


_MAC = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")


class Interface(DeviceDef):
    TAG = "interface"
    ORDER = ("type", "managed", "trust_guest_rx_filters", "mac", "mac_type", "mac_check",
             "hostdev_driver", "source", "vlan", "virtualport", "bandwidth", "port_isolated",
             "ips", "routes", "script", "downscript", "backenddomain", "target_dev",
             "target_managed", "guest_dev", "guest_actual", "model", "driver", "backend_type",
             "backend_tap", "backend_vhost", "filterref", "tune_sndbuf", "teaming_type",
             "teaming_persistent", "link_state", "mtu", "coalesce_rx_frames_max", "boot",
             "boot_loadparm", "alias", "rom_enabled", "rom_bar", "rom_file", "acpi_index",
             "address")
    type = Attr("@type", NET_TYPES, required=True)
    managed = Attr("@managed", YesNo)
    trust_guest_rx_filters = Attr("@trustGuestRxFilters", YesNo)
    mac = Attr("mac/@address")
    mac_type = Attr("mac/@type", Choice("generated", "static"))
    mac_check = Attr("mac/@check", YesNo)
    # type='hostdev' writes its <driver name> where <hostdev> does, before <source>.
    hostdev_driver = Attr("driver/@name")
    source = Child(NetSource)
    vlan = Child(Vlan)
    virtualport = Child(VirtualPort)
    bandwidth = Child(Bandwidth)
    port_isolated = Attr("port/@isolated", YesNo)
    ips = Child(IP, single=False)
    routes = Child(Route, single=False)
    script = Attr("script/@path")
    downscript = Attr("downscript/@path")
    backenddomain = Attr("backenddomain/@name")
    target_dev = Attr("target/@dev")
    target_managed = Attr("target/@managed", YesNo)
    guest_dev = Attr("guest/@dev")
    guest_actual = Attr("guest/@actual")
    model = Attr("model/@type")
    driver = Child(NetDriver)
    backend_type = Attr("backend/@type", Choice("default"))
    backend_tap = Attr("backend/@tap")
    backend_vhost = Attr("backend/@vhost")
    filterref = Child(FilterRef)
    tune_sndbuf = Attr("tune/sndbuf", UInt)
    teaming_type = Attr("teaming/@type", Choice("persistent", "transient"))
    teaming_persistent = Attr("teaming/@persistent")
    link_state = Attr("link/@state")
    mtu = Attr("mtu/@size", UInt)
    coalesce_rx_frames_max = Attr("coalesce/rx/frames/@max", UInt)
    rom_enabled = Attr("rom/@enabled", YesNo)
    rom_bar = Attr("rom/@bar", OnOff)
    rom_file = Attr("rom/@file")

    def post_parse(self) -> None:
        self._check_mac()
        if self.type == "hostdev":
            self.driver = None
        else:
            self.hostdev_driver = None
        keep = _SOURCE_FIELDS.get(str(self.type), ())
        if self.source is not None:
            for name, _ in self.source.fields():
                if name not in keep:
                    setattr(self.source, name, None)
        if self.type in ("network", "bridge", "direct", "vhostuser", "hostdev"):
            self._check_source()
        if self.type == "direct" and self.source is not None:
            if self.source.mode is None:
                self.source.mode = "vepa"
            elif self.source.mode not in DIRECT_MODES:
                raise XMLError("Invalid value for attribute 'mode' in element 'source': "
                               f"'{self.source.mode}'.")
        if self.target_dev is not None and self.target_managed is not False and (
                self.target_dev.startswith(RESERVED_TARGET_PREFIXES)):
            self.target_dev = None
        if self.type == "user" and self.routes:
            raise ConfigUnsupported("Invalid attempt to set network interface guest-side IP "
                                    "route, not supported by QEMU")
        if self.type != "user" and (self.ips or self.routes):
            raise ConfigUnsupported("Invalid attempt to set network interface guest-side IP "
                                    "route and/or address info, not supported by QEMU")
        if self.link_state is not None and self.link_state not in ("up", "down"):
            raise ConfigUnsupported(f"unknown interface link state '{self.link_state}'")
        if self.model is not None and not re.fullmatch(r"[a-zA-Z0-9_\-,.]+", self.model):
            raise InvalidArg("Model name contains invalid characters")

    def _check_mac(self) -> None:
        if self.mac is None:
            return
        if not _MAC.fullmatch(self.mac):
            raise XMLError(f"unable to parse mac address '{self.mac}'")
        normal = ":".join(f"{int(p, 16):02x}" for p in self.mac.split(":"))
        if int(normal[:2], 16) & 1:
            raise XMLError(f"expected unicast mac address, found multicast '{self.mac}'")
        self.mac = normal

    def _check_source(self) -> None:
        src = self.source
        if src is None:
            if self.type == "hostdev":
                raise XMLError("missing source address type")
            raise XMLError(f"interface type='{self.type}' requires a 'source' element")
        required = {"network": "network", "bridge": "bridge", "direct": "dev"}.get(
            str(self.type))
        if required is not None and getattr(src, required) is None:
            raise XMLError(f"Missing required attribute '{required}' in element 'source'")
        if self.type == "hostdev" and src.hostdev_address is None:
            raise XMLError("missing source address type")
