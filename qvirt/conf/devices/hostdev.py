"""<hostdev> (host devices handed to the guest), <redirdev> (USB devices redirected from a
client) and <redirfilter> (which USB devices may be redirected).

A hostdev's <source><address> spells different attributes for each subsystem type (PCI in hex,
USB and SCSI in decimal, mdev by UUID), so each spelling is its own class and post_parse() keeps
the one the hostdev's type uses.
"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.chardev import CharDevice
from qvirt.conf.devices.disk_source import Auth, Host, PCISourceAddress
from qvirt.conf.xmlobject import (
    UUID,
    Attr,
    Child,
    Choice,
    Conv,
    Flag,
    OnOff,
    UInt,
    XMLObject,
    YesNo,
)
from qvirt.errors import ConfigUnsupported, InternalError


class USBSourceAddress(XMLObject):
    TAG = "address"
    ORDER = ("bus", "device")
    bus = Attr("@bus", UInt)
    device = Attr("@device", UInt)


class SCSISourceAddress(XMLObject):
    TAG = "address"
    ORDER = ("bus", "target", "unit")
    bus = Attr("@bus", UInt)
    target = Attr("@target", UInt)
    unit = Attr("@unit", UInt)


class MdevSourceAddress(XMLObject):
    TAG = "address"
    ORDER = ("uuid",)
    uuid = Attr("@uuid", UUID)


class _USBId(Conv[int]):
    """USB vendor and product ids: libvirt prints them as 0x%.4x."""

    def parse(self, text: str) -> int:
        return UInt.parse(text)

    def format(self, value: int) -> str:
        return f"0x{value:04x}"



USBId = _USBId()


class HostdevSource(XMLObject):
    TAG = "source"
    ORDER = ("startup_policy", "protocol", "name", "wwpn", "vendor", "product", "hosts",
             "adapter", "pci", "usb", "scsi", "mdev", "auth", "block", "char", "interface")
    startup_policy = Attr("@startupPolicy", Choice("mandatory", "requisite", "optional"))
    protocol = Attr("@protocol", Choice("iscsi", "vhost"))
    name = Attr("@name")
    wwpn = Attr("@wwpn")
    vendor = Attr("vendor/@id", USBId)
    product = Attr("product/@id", USBId)
    hosts = Child(Host, single=False)
    adapter = Attr("adapter/@name")
    pci = Child(PCISourceAddress)
    usb = Child(USBSourceAddress)
    scsi = Child(SCSISourceAddress)
    mdev = Child(MdevSourceAddress)
    auth = Child(Auth)
    block = Attr("block")
    char = Attr("char")
    interface = Attr("interface")


# Which source fields each hostdev type reads.
_SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "usb": ("startup_policy", "vendor", "product", "usb"),
    "pci": ("pci",),
    "scsi": ("protocol", "name", "hosts", "adapter", "scsi", "auth"),
    "scsi_host": ("protocol", "wwpn"),
    "mdev": ("mdev",),
    "storage": ("block",),
    "misc": ("char",),
    "net": ("interface",),
}


class Hostdev(DeviceDef):
    TAG = "hostdev"
    ORDER = ("mode", "type", "managed", "sgio", "rawio", "model", "display", "ramfb",
             "driver_name", "source", "readonly", "shareable", "boot", "boot_loadparm",
             "alias", "rom_enabled", "rom_bar", "rom_file", "acpi_index", "address")
    mode = Attr("@mode", Choice("subsystem", "capabilities"))
    type = Attr("@type")
    managed = Attr("@managed", YesNo)
    sgio = Attr("@sgio", Choice("filtered", "unfiltered"))
    rawio = Attr("@rawio", YesNo)
    model = Attr("@model", Choice("vfio-pci", "vfio-ccw", "vfio-ap", "virtio",
                                  "virtio-transitional", "virtio-non-transitional"))
    display = Attr("@display", OnOff)
    ramfb = Attr("@ramfb", OnOff)
    driver_name = Attr("driver/@name", Choice("default", "kvm", "vfio", "xen"))
    source = Child(HostdevSource)
    readonly = Flag("readonly")
    shareable = Flag("shareable")
    rom_enabled = Attr("rom/@enabled", YesNo)
    rom_bar = Attr("rom/@bar", OnOff)
    rom_file = Attr("rom/@file")

    def post_parse(self) -> None:
        if self.mode is None:
            self.mode = "subsystem"
        if self.mode == "capabilities":
            raise ConfigUnsupported("hostdev mode 'capabilities' is not supported in qemu")
        if self.type not in _SOURCE_FIELDS:
            raise ConfigUnsupported(f"unknown host device source address type '{self.type}'")
        if self.source is not None:
            keep = _SOURCE_FIELDS.get(str(self.type), ())
            for name, _ in self.source.fields():
                if name not in keep:
                    setattr(self.source, name, [] if name == "hosts" else None)
        if self.managed is None:
            self.managed = False
        if self.model == "vfio-pci" and self.display is None:
            self.display = False
        if self.type == "pci":
            self._complete_pci_source()
        if self.type == "usb" and self.source is not None:
            if self.source.vendor is not None and self.source.product is None:
                raise InternalError("missing product")
            if self.source.product is not None and self.source.vendor is None:
                raise InternalError("missing vendor")
        if self.type == "mdev" and (self.source is None or self.source.mdev is None):
            raise ConfigUnsupported("Missing <address> element")

    def _complete_pci_source(self) -> None:
        """A PCI source address's omitted parts are 0, the whole address too."""
        self.source = self.source or HostdevSource()
        self.source.pci = self.source.pci or PCISourceAddress()
        for name in ("domain", "bus", "slot", "function"):
            if getattr(self.source.pci, name) is None:
                setattr(self.source.pci, name, 0)


class Redirdev(CharDevice):
    """A USB device redirected over a character device (spicevmc or tcp)."""

    TAG = "redirdev"
    ORDER = ("bus", "type", "sources", "protocol", "boot", "boot_loadparm", "alias",
             "address")
    bus = Attr("@bus")

    def post_parse(self) -> None:
        if self.bus is None:
            self.bus = "usb"
        if self.bus != "usb":
            raise ConfigUnsupported(f"unknown redirdev bus '{self.bus}'")
        super().post_parse()


class _UpperHex(Conv[int]):
    """redirfilter's class, vendor and product: 0x-prefixed upper-case hex."""

    def __init__(self, width: int) -> None:
        self.width = width

    def parse(self, text: str) -> int:
        return int(text, 16)

    def format(self, value: int) -> str:
        return f"0x{value:0{self.width}X}"


class USBDev(XMLObject):
    TAG = "usbdev"
    ORDER = ("usb_class", "vendor", "product", "version", "allow")
    usb_class = Attr("@class", _UpperHex(2))
    vendor = Attr("@vendor", _UpperHex(4))
    product = Attr("@product", _UpperHex(4))
    version = Attr("@version")
    allow = Attr("@allow", YesNo, required=True)


class Redirfilter(DeviceDef):
    """The rules applied, in order, to every device a client offers for redirection."""

    TAG = "redirfilter"
    KEEP_EMPTY = True
    ORDER = ("usbdevs",)
    usbdevs = Child(USBDev, single=False)
