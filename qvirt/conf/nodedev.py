"""The <device> document of node devices (node_device_conf.c): a device and its typed
<capability> elements, each type its own class, picked by the type attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from qvirt.conf.pciaddr import BarePCIAddress
from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Choice,
    Conv,
    Field,
    Hex2,
    Hex4,
    HexShort,
    Int,
    ParseContext,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element, Node, RawXML
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError


class _HexWidth(Conv[int]):
    """Hex as libvirt prints these ids: 0x-prefixed, zero-padded to ``width`` digits."""

    def __init__(self, width: int) -> None:
        self.width = width

    def parse(self, text: str) -> int:
        return UInt.parse(text)

    def format(self, value: int) -> str:
        return f"0x{value:0{self.width}x}"


Hex6 = _HexWidth(6)
Hex4Id = _HexWidth(4)


class ByAttr(Field):
    """The child element ``tag`` whose ``attr`` is ``value``: a nested <capability> of one
    type, or VPD's <fields> of one access kind. Written with that attribute first."""

    def __init__(self, cls: type[XMLObject], tag: str, attr: str, value: str) -> None:
        self.cls, self.tag, self.attr, self.value = cls, tag, attr, value

    def parse(self, node: Element, ctx: ParseContext) -> XMLObject | None:
        for elem in node.iterchildren(self.tag):
            if elem.get(self.attr) == self.value:
                ctx.attr(elem, self.attr)
                return self.cls.from_element(elem, ctx)
        return None

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        out = value.to_node()
        out.tag = self.tag
        out.attrs = {self.attr: self.value, **out.attrs}
        node.children.append(out)


def sub_cap(cls: type[XMLObject], kind: str) -> ByAttr:
    """A nested <capability type='...'> of a fixed type (fc_host inside scsi_host, ...)."""
    return ByAttr(cls, "capability", "type", kind)


class MarkerCap(Field):
    """An empty nested capability whose type is the value: a PCI header type, a network
    link type, <capability type='hotpluggable'/>."""

    def __init__(self, *kinds: str) -> None:
        self.kinds = kinds

    def parse(self, node: Element, ctx: ParseContext) -> str | None:
        for elem in node.iterchildren("capability"):
            kind = elem.get("type")
            if kind in self.kinds:
                ctx.element(elem)
                ctx.attr(elem, "type")
                return kind
        return None

    def format(self, value: Any, node: Node) -> None:
        if value is not None:
            node.children.append(Node("capability", {"type": value}))


class MdevType(XMLObject):
    TAG = "type"
    ORDER = ("id", "name", "device_api", "available_instances")
    id = Attr("@id")
    name = Attr("name")
    device_api = Attr("deviceAPI")
    available_instances = Attr("availableInstances", UInt)


class MdevTypes(XMLObject):
    TAG = "capability"
    ORDER = ("types",)
    types = Child(MdevType, single=False)


class VirtFunctions(XMLObject):
    TAG = "capability"
    KEEP_EMPTY = True
    ORDER = ("max_count", "addresses")
    max_count = Attr("@maxCount", UInt)
    addresses = Child(BarePCIAddress, single=False)


class PhysFunction(XMLObject):
    TAG = "capability"
    ORDER = ("address",)
    address = Child(BarePCIAddress)


class PCIELink(XMLObject):
    TAG = "link"
    ORDER = ("validity", "port", "speed", "width")
    validity = Attr("@validity")
    port = Attr("@port", Int)
    speed = Attr("@speed")
    width = Attr("@width", Int)


class PCIExpress(XMLObject):
    TAG = "pci-express"
    KEEP_EMPTY = True
    ORDER = ("links",)
    links = Child(PCIELink, single=False)


class IommuGroup(XMLObject):
    TAG = "iommuGroup"
    ORDER = ("number", "addresses")
    number = Attr("@number", Int)
    addresses = Child(BarePCIAddress, single=False)


class Capability(XMLObject):
    """<capability type=...> of a device: dispatches to the class registered for its type."""

    TAG = "capability"
    TYPES: ClassVar[dict[str, type[Capability]]] = {}
    CAP_TYPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.CAP_TYPE:
            Capability.TYPES[cls.CAP_TYPE] = cls

    @classmethod
    def from_element(cls, node: Element, ctx: ParseContext) -> Self:
        if cls is not Capability:
            return super().from_element(node, ctx)
        kind = node.get("type")
        ctx.attr(node, "type")
        if kind is None:
            raise QvirtError("missing capability type", code=ErrorNumber.INTERNAL_ERROR)
        target = Capability.TYPES.get(kind)
        if target is None:
            raise QvirtError(f"unknown capability type '{kind}'",
                             code=ErrorNumber.INTERNAL_ERROR)
        return target.from_element(node, ctx)  # type: ignore[return-value]


class Hardware(XMLObject):
    TAG = "hardware"
    ORDER = ("vendor", "version", "serial", "uuid")
    vendor = Attr("vendor")
    version = Attr("version")
    serial = Attr("serial")
    uuid = Attr("uuid")


class Firmware(XMLObject):
    """Written as an open/close pair even when libvirt knows nothing of the firmware."""

    TAG = "firmware"
    ORDER = ("vendor", "version", "release_date")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    vendor = Attr("vendor")
    version = Attr("version")
    release_date = Attr("release_date")


class SystemCap(Capability):
    CAP_TYPE = "system"
    ORDER = ("type", "product", "hardware", "firmware")
    type = Attr("@type")
    product = Attr("product")
    hardware = Child(Hardware)
    firmware = Child(Firmware)

    def post_parse(self) -> None:
        if self.hardware is None:
            self.hardware = Hardware()
        if self.firmware is None:
            self.firmware = Firmware()


class VPDField(XMLObject):
    """A vendor- or system-specific VPD field, named by its one-character index."""

    TAG = "*"
    ORDER = ("index", "value")
    index = Attr("@index")
    value = Attr(".")


class VendorField(VPDField):
    TAG = "vendor_field"


class SystemField(VPDField):
    TAG = "system_field"


class VPDReadOnly(XMLObject):
    TAG = "fields"
    ORDER = ("change_level", "manufacture_id", "part_number", "serial_number",
             "vendor_fields")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    change_level = Attr("change_level")
    manufacture_id = Attr("manufacture_id")
    part_number = Attr("part_number")
    serial_number = Attr("serial_number")
    vendor_fields = Child(VendorField, single=False)


class VPDReadWrite(XMLObject):
    TAG = "fields"
    ORDER = ("asset_tag", "vendor_fields", "system_fields")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    asset_tag = Attr("asset_tag")
    vendor_fields = Child(VendorField, single=False)
    system_fields = Child(SystemField, single=False)


class VPD(XMLObject):
    """A PCI device's Vital Product Data: its name, read-only and read-write fields."""

    TAG = "capability"
    ORDER = ("name", "readonly", "readwrite")
    name = Attr("name")
    readonly = ByAttr(VPDReadOnly, "fields", "access", "readonly")
    readwrite = ByAttr(VPDReadWrite, "fields", "access", "readwrite")


class PCICap(Capability):
    CAP_TYPE = "pci"
    ORDER = ("type", "klass", "domain", "bus", "slot", "function", "product_id", "product",
             "vendor_id", "vendor", "phys_function", "virt_functions", "header_type",
             "mdev_types", "vpd", "iommu_group", "numa_node", "pci_express")
    type = Attr("@type")
    klass = Attr("class", Hex6)
    domain = Attr("domain", Int)
    bus = Attr("bus", UInt)
    slot = Attr("slot", UInt)
    function = Attr("function", UInt)
    product_id = Attr("product/@id", Hex4Id)
    product = Attr("product")
    vendor_id = Attr("vendor/@id", Hex4Id)
    vendor = Attr("vendor")
    phys_function = sub_cap(PhysFunction, "phys_function")
    virt_functions = sub_cap(VirtFunctions, "virt_functions")
    header_type = MarkerCap("pci-bridge", "cardbus-bridge")
    mdev_types = sub_cap(MdevTypes, "mdev_types")
    vpd = sub_cap(VPD, "vpd")
    iommu_group = Child(IommuGroup)
    numa_node = Attr("numa/@node", Int)
    pci_express = Child(PCIExpress)

    def post_parse(self) -> None:
        if self.product == "":
            self.product = None
        if self.vendor == "":
            self.vendor = None


@dataclass
class USBIdent:
    id: int
    name: str | None = None


class _USBIdentField(Field):
    """A USB <product> or <vendor>: its id, and its name when the USB database knows it.
    libvirt closes a nameless one with " />" (a space before the slash), kept verbatim."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.id = Attr(f"{tag}/@id", Hex4Id)
        self.text = Attr(tag)

    def parse(self, node: Element, ctx: ParseContext) -> USBIdent | None:
        ident = self.id.parse(node, ctx)
        if ident is None:
            return None
        return USBIdent(ident, self.text.parse(node, ctx) or None)

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        if value.name is None:
            node.children.append(RawXML(f"<{self.tag} id='{Hex4Id.format(value.id)}' />"))
            return
        out = Node(self.tag, {"id": Hex4Id.format(value.id)}, text=value.name)
        node.children.append(out)


class USBDeviceCap(Capability):
    CAP_TYPE = "usb_device"
    ORDER = ("type", "bus", "device", "product", "vendor")
    type = Attr("@type")
    bus = Attr("bus", Int)
    device = Attr("device", Int)
    product = _USBIdentField("product")
    vendor = _USBIdentField("vendor")


class USBInterfaceCap(Capability):
    CAP_TYPE = "usb"
    ORDER = ("type", "number", "klass", "subclass", "protocol", "description")
    type = Attr("@type")
    number = Attr("number", Int)
    klass = Attr("class", Int)
    subclass = Attr("subclass", Int)
    protocol = Attr("protocol", Int)
    description = Attr("description")


class NetCap(Capability):
    CAP_TYPE = "net"
    ORDER = ("type", "interface", "address", "link_speed", "link_state", "features",
             "subtype")
    type = Attr("@type")
    interface = Attr("interface")
    address = Attr("address")
    link_speed = Attr("link/@speed")
    link_state = Attr("link/@state")
    features = Attr("feature/@name", multi=True)
    subtype = MarkerCap("80203", "80211")


class FCHost(XMLObject):
    TAG = "capability"
    ORDER = ("wwnn", "wwpn", "fabric_wwn")
    wwnn = Attr("wwnn")
    wwpn = Attr("wwpn")
    fabric_wwn = Attr("fabric_wwn")


class VportOps(XMLObject):
    TAG = "capability"
    ORDER = ("max_vports", "vports")
    max_vports = Attr("max_vports", Int)
    vports = Attr("vports", Int)


class SCSIHostCap(Capability):
    CAP_TYPE = "scsi_host"
    ORDER = ("type", "host", "unique_id", "fc_host", "vport_ops")
    type = Attr("@type")
    host = Attr("host", Int)
    unique_id = Attr("unique_id", Int)
    fc_host = sub_cap(FCHost, "fc_host")
    vport_ops = sub_cap(VportOps, "vport_ops")


class FCRemotePort(XMLObject):
    TAG = "capability"
    ORDER = ("rport", "wwpn")
    rport = Attr("rport")
    wwpn = Attr("wwpn")


class SCSITargetCap(Capability):
    CAP_TYPE = "scsi_target"
    ORDER = ("type", "target", "fc_remote_port")
    type = Attr("@type")
    target = Attr("target")
    fc_remote_port = sub_cap(FCRemotePort, "fc_remote_port")


class SCSICap(Capability):
    CAP_TYPE = "scsi"
    ORDER = ("type", "host", "bus", "target", "lun", "scsi_type")
    type = Attr("@type")
    host = Attr("host", Int)
    bus = Attr("bus", Int)
    target = Attr("target", Int)
    lun = Attr("lun", Int)
    scsi_type = Attr("type")


class Removable(XMLObject):
    TAG = "capability"
    ORDER = ("media_available", "media_size", "media_label", "logical_block_size",
             "num_blocks")
    media_available = Attr("media_available", Int)
    media_size = Attr("media_size", UInt)
    media_label = Attr("media_label")
    logical_block_size = Attr("logical_block_size", UInt)
    num_blocks = Attr("num_blocks", UInt)


class StorageCap(Capability):
    CAP_TYPE = "storage"
    ORDER = ("type", "block", "bus", "drive_type", "model", "vendor", "serial", "removable",
             "size", "logical_block_size", "num_blocks", "hotpluggable")
    type = Attr("@type")
    block = Attr("block")
    bus = Attr("bus")
    drive_type = Attr("drive_type")
    model = Attr("model")
    vendor = Attr("vendor")
    serial = Attr("serial")
    removable = sub_cap(Removable, "removable")
    size = Attr("size", UInt)
    logical_block_size = Attr("logical_block_size", UInt)
    num_blocks = Attr("num_blocks", UInt)
    hotpluggable = MarkerCap("hotpluggable")


class SCSIGenericCap(Capability):
    CAP_TYPE = "scsi_generic"
    ORDER = ("type", "char")
    type = Attr("@type")
    char = Attr("char")


class DRMCap(Capability):
    CAP_TYPE = "drm"
    ORDER = ("type", "drm_type")
    type = Attr("@type")
    drm_type = Attr("type")


class MdevAttr(XMLObject):
    TAG = "attr"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr("@value")


class MdevCap(Capability):
    CAP_TYPE = "mdev"
    ORDER = ("type", "mdev_type", "uuid", "parent_addr", "iommu_group", "attrs")
    type = Attr("@type")
    mdev_type = Attr("type/@id")
    uuid = Attr("uuid")
    parent_addr = Attr("parent_addr")
    iommu_group = Attr("iommuGroup/@number", UInt)
    attrs = Child(MdevAttr, single=False)




class CCWCap(Capability):
    CAP_TYPE = "ccw"
    ORDER = ("type", "cssid", "ssid", "devno")
    type = Attr("@type")
    cssid = Attr("cssid", HexShort)
    ssid = Attr("ssid", HexShort)
    devno = Attr("devno", Hex4Id)


class CSSCap(Capability):
    CAP_TYPE = "css"
    ORDER = ("type", "cssid", "ssid", "devno", "chan_cssid", "chan_ssid", "chan_devno",
             "mdev_types")
    type = Attr("@type")
    cssid = Attr("cssid", HexShort)
    ssid = Attr("ssid", HexShort)
    devno = Attr("devno", Hex4Id)
    chan_cssid = Attr("channel_dev_addr/cssid", HexShort)
    chan_ssid = Attr("channel_dev_addr/ssid", HexShort)
    chan_devno = Attr("channel_dev_addr/devno", Hex4Id)
    mdev_types = sub_cap(MdevTypes, "mdev_types")


class VDPACap(Capability):
    CAP_TYPE = "vdpa"
    ORDER = ("type", "chardev")
    type = Attr("@type")
    chardev = Attr("chardev")


class APCardCap(Capability):
    CAP_TYPE = "ap_card"
    ORDER = ("type", "adapter")
    type = Attr("@type")
    adapter = Attr("ap-adapter", Hex2)


class APQueueCap(Capability):
    CAP_TYPE = "ap_queue"
    ORDER = ("type", "adapter", "domain")
    type = Attr("@type")
    adapter = Attr("ap-adapter", Hex2)
    domain = Attr("ap-domain", Hex4)


class APMatrixCap(Capability):
    CAP_TYPE = "ap_matrix"
    KEEP_EMPTY = True
    ORDER = ("type", "mdev_types")
    type = Attr("@type")
    mdev_types = sub_cap(MdevTypes, "mdev_types")


class DevNode(XMLObject):
    TAG = "devnode"
    ORDER = ("type", "path")
    type = Attr("@type", Choice("dev", "link"))
    path = Attr(".")


class _CreateOnly(Attr):
    """Read for nodedev-create (which parent HBA to use), never written back: libvirt's
    formatter names the parent only by its device name."""

    def format(self, value: Any, node: Node) -> None:
        return None


class NodeDevice(XMLObject):
    ERROR_DOMAIN = ErrorDomain.NODEDEV
    SCHEMA = "nodedev"
    TAG = "device"
    ORDER = ("name", "path", "devnodes", "parent", "parent_wwnn", "parent_wwpn",
             "parent_fabric_wwn", "driver", "capabilities")
    name = Attr("name")
    path = Attr("path")
    devnodes = Child(DevNode, single=False)
    parent = Attr("parent")
    parent_wwnn = _CreateOnly("parent/@wwnn")
    parent_wwpn = _CreateOnly("parent/@wwpn")
    parent_fabric_wwn = _CreateOnly("parent/@fabric_wwn")
    driver = Attr("driver/name")
    capabilities = Child(Capability, single=False)

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(node_device_definition)")

    def post_parse(self) -> None:
        # libvirt keeps one node and then its links, whatever order they came in.
        self.devnodes.sort(key=lambda d: d.type != "dev")
        if not self.parent:
            self.parent = None
        if not self.capabilities:
            raise QvirtError(f"no device capabilities for '{self.name}'",
                             code=ErrorNumber.INTERNAL_ERROR)

