"""What a network hands down to the guest ports plugged into it: <vlan>, <virtualport>,
<bandwidth>, and the named <portgroup> sets of them (libvirt's virNetDevVlan,
virNetDevVPortProfile and virNetDevBandwidth formats)."""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Child, Choice, Conv, UInt, XMLObject
from qvirt.conf.xmltree import Node
from qvirt.errors import ConfigUnsupported, XMLDetail, XMLError

# virtualport type -> the <parameters> it takes.
VIRTUALPORT_TYPES = {
    "802.1Qbg": ("managerid", "typeid", "typeidversion", "instanceid"),
    "802.1Qbh": ("profileid",),
    "openvswitch": ("profileid", "interfaceid"),
    "midonet": ("interfaceid",),
}


class _TristateBool(Conv[bool]):
    """yes/no as libvirt 9.0's virXMLPropTristateBool reads it: a bad value is reported with
    no "Expected ..." hint, unlike xmlobject.YesNo."""

    def parse(self, text: str) -> bool:
        if text not in ("yes", "no"):
            raise ValueError("")
        return text == "yes"

    def format(self, value: bool) -> str:
        return "yes" if value else "no"


YesNo = _TristateBool()


class OpenElement(XMLObject):
    """An element libvirt writes with its opening and closing tags on lines of their own even
    when nothing is inside (<ip>, <portgroup>): its format code never self-closes it."""

    KEEP_EMPTY = True
    OPEN_EMPTY = True


class VlanTag(XMLObject):
    TAG = "tag"
    ORDER = ("id", "native_mode")
    id = Attr("@id", UInt, required=True)
    native_mode = Attr("@nativeMode", Choice("tagged", "untagged"))


class Vlan(XMLObject):
    """Several tags make a trunk even without trunk='yes', and libvirt then writes trunk='yes';
    trunk='no' is never written back."""

    TAG = "vlan"
    ORDER = ("trunk", "tags")
    trunk = Attr("@trunk")
    tags = Child(VlanTag, single=False)

    def post_parse(self) -> None:
        if self.trunk not in (None, "yes", "no"):
            raise XMLError(f"invalid \"trunk='{self.trunk}'\" in <vlan> - must be yes or no")
        for tag in self.tags:
            if tag.id > 4095:
                raise XMLError(f"vlan tag id {tag.id} too large (maximum 4095)")
        native = any(t.native_mode for t in self.tags)
        if self.trunk == "no" and (len(self.tags) > 1 or native):
            what = "with a native vlan id" if native else "with multiple vlan tags"
            raise XMLError(f"invalid configuration in <vlan> - \"trunk='no'\" is not "
                           f"allowed {what}")
        self.trunk = "yes" if len(self.tags) > 1 or self.trunk == "yes" else None


class VirtualPortParameters(XMLObject):
    TAG = "parameters"
    ORDER = ("managerid", "typeid", "typeidversion", "instanceid", "profileid", "interfaceid")
    managerid = Attr("@managerid", UInt)
    typeid = Attr("@typeid", UInt)
    typeidversion = Attr("@typeidversion", UInt)
    instanceid = Attr("@instanceid")
    profileid = Attr("@profileid")
    interfaceid = Attr("@interfaceid")


class VirtualPort(XMLObject):
    TAG = "virtualport"
    KEEP_EMPTY = True
    ORDER = ("type", "parameters")
    type = Attr("@type")
    parameters = Child(VirtualPortParameters)

    def post_parse(self) -> None:
        if self.type is None:
            return
        if self.type not in VIRTUALPORT_TYPES:
            raise ConfigUnsupported(f"unknown virtualport type {self.type}")
        params = self.parameters
        for name in VirtualPortParameters.ORDER if params is not None else ():
            if getattr(params, name) is not None and name not in VIRTUALPORT_TYPES[self.type]:
                raise XMLError(f"extra {name} unsupported in <virtualport type='{self.type}'>")


class Rate(XMLObject):
    """One direction of <bandwidth>; libvirt writes average, peak, floor, burst in that order,
    leaves out the ones that are 0, and the whole element when neither average nor floor is
    set."""

    ORDER = ("average", "peak", "floor", "burst")
    average = Attr("@average")
    peak = Attr("@peak")
    floor = Attr("@floor")
    burst = Attr("@burst")

    def post_parse(self) -> None:
        if self.average is None and self.floor is None:
            raise XMLDetail("Missing mandatory average or floor attributes")
        for name in self.ORDER:
            value = getattr(self, name)
            if value is None:
                continue
            try:
                setattr(self, name, UInt.parse(value) or None)
            except ValueError:
                raise ConfigUnsupported(f"could not convert bandwidth {name} value "
                                        f"'{value}'") from None

    def to_node(self) -> Node:
        return super().to_node() if self.average or self.floor else Node(self.TAG)


class Inbound(Rate):
    TAG = "inbound"
    ORDER = Rate.ORDER


class Outbound(Rate):
    TAG = "outbound"
    ORDER = Rate.ORDER

    def post_parse(self) -> None:
        if self.floor is not None:
            raise ConfigUnsupported("'floor' attribute allowed only in <inbound> element")
        super().post_parse()


class Bandwidth(OpenElement):
    """Written with open and close tags even when its rates are all 0; an element with no
    <inbound> or <outbound> at all is dropped by whoever holds it (``present``)."""

    TAG = "bandwidth"
    ORDER = ("inbounds", "outbounds")
    inbounds = Child(Inbound, single=False)
    outbounds = Child(Outbound, single=False)

    @property
    def inbound(self) -> Inbound | None:
        return self.inbounds[0] if self.inbounds else None

    @property
    def outbound(self) -> Outbound | None:
        return self.outbounds[0] if self.outbounds else None

    @property
    def present(self) -> bool:
        return bool(self.inbounds or self.outbounds)

    def post_parse(self) -> None:
        for name, rates in (("inbound", self.inbounds), ("outbound", self.outbounds)):
            if len(rates) > 1:
                raise XMLDetail(f"Only one child <{name}> element allowed")


class PortGroup(OpenElement):
    TAG = "portgroup"
    ORDER = ("name", "default", "trust_guest_rx_filters", "vlan", "virtualport", "bandwidth")
    name = Attr("@name")
    default = Attr("@default", YesNo)
    trust_guest_rx_filters = Attr("@trustGuestRxFilters", YesNo)
    vlan = Child(Vlan)
    virtualport = Child(VirtualPort)
    bandwidth = Child(Bandwidth)

    def post_parse(self) -> None:
        # Only default='yes' survives; libvirt keeps no record of an explicit 'no'.
        self.default = True if self.default else None
        if self.bandwidth is not None and not self.bandwidth.present:
            self.bandwidth = None
