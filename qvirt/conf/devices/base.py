"""What every device element shares: <alias>, <address>, <boot>, <acpi>.

Addresses are polymorphic on their ``type`` attribute: a PCI address writes hex fields, a drive
address decimal ones, so each type is its own class and ``Address.from_element`` picks it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Hex2,
    Hex4,
    Hex8,
    HexShort,
    OnOff,
    ParseContext,
    Str,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element
from qvirt.errors import ConfigUnsupported, InternalError, XMLError


class Address(XMLObject):
    """<address type='...'>: dispatches to the class registered for its type.

    libvirt stores the numbers of an address as integers that default to 0 and writes them all
    back, so a subclass lists in ZERO_FIELDS the ones an omitted attribute reads as 0.
    """

    TAG = "address"
    TYPES: ClassVar[dict[str, type[Address]]] = {}
    ADDRESS_TYPE: ClassVar[str] = ""
    ZERO_FIELDS: ClassVar[tuple[str, ...]] = ()

    def post_parse(self) -> None:
        for name in self.ZERO_FIELDS:
            if getattr(self, name) is None:
                setattr(self, name, 0)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ADDRESS_TYPE:
            Address.TYPES[cls.ADDRESS_TYPE] = cls

    @classmethod
    def from_element(cls, node: Element, ctx: ParseContext) -> Self:
        if cls is not Address:
            return super().from_element(node, ctx)
        kind = node.get("type")
        ctx.attr(node, "type")
        if kind is None:
            raise InternalError("No type specified for device address")
        target = Address.TYPES.get(kind)
        if target is None:
            raise ConfigUnsupported(f"unknown address type '{kind}'")
        return target.from_element(node, ctx)  # type: ignore[return-value]


class ZPCI(XMLObject):
    """<zpci uid fid/>: the s390 extension of a PCI address."""

    TAG = "zpci"
    ORDER = ("uid", "fid")
    uid = Attr("@uid", HexShort)
    fid = Attr("@fid", HexShort)


class PCIAddress(Address):
    ADDRESS_TYPE = "pci"
    ORDER = ("type", "domain", "bus", "slot", "function", "multifunction", "zpci")
    type = Attr("@type")
    domain = Attr("@domain", Hex4)
    bus = Attr("@bus", Hex2)
    slot = Attr("@slot", Hex2)
    function = Attr("@function", HexShort)
    multifunction = Attr("@multifunction", OnOff)
    zpci = Child(ZPCI)
    ZERO_FIELDS = ("domain", "bus", "slot", "function")

    def post_parse(self) -> None:
        super().post_parse()
        if self.bus is not None and self.bus > 0xFF:
            raise XMLError(f"Invalid PCI address bus='0x{self.bus:x}', must be <= 0xFF")
        if self.slot is not None and self.slot > 31:
            raise XMLError(f"Invalid PCI address slot='0x{self.slot:x}', must be <= 0x1F")
        if self.function is not None and self.function > 7:
            raise XMLError(f"Invalid PCI address function=0x{self.function:x}, must be <= 7")

    def is_present(self) -> bool:
        """libvirt treats an all-zero PCI address as "assign me one"."""
        return any((self.domain, self.bus, self.slot, self.function))

    def key(self) -> tuple[int, int, int]:
        return (self.bus or 0, self.slot or 0, self.function or 0)


class DriveAddress(Address):
    ADDRESS_TYPE = "drive"
    ORDER = ("type", "controller", "bus", "target", "unit")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    bus = Attr("@bus", UInt)
    target = Attr("@target", UInt)
    unit = Attr("@unit", UInt)
    ZERO_FIELDS = ("controller", "bus", "target", "unit")


class VirtioSerialAddress(Address):
    ADDRESS_TYPE = "virtio-serial"
    ORDER = ("type", "controller", "bus", "port")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    bus = Attr("@bus", UInt)
    port = Attr("@port", UInt)
    ZERO_FIELDS = ("controller", "bus", "port")


class CCIDAddress(Address):
    ADDRESS_TYPE = "ccid"
    ORDER = ("type", "controller", "slot")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    slot = Attr("@slot", UInt)
    ZERO_FIELDS = ("controller",)


class USBAddress(Address):
    ADDRESS_TYPE = "usb"
    ORDER = ("type", "bus", "port")
    type = Attr("@type")
    bus = Attr("@bus", UInt)
    port = Attr("@port", Str)
    ZERO_FIELDS = ("bus",)

    def post_parse(self) -> None:
        """A port is a path of at most four hub ports, '1' or '2.1.3'."""
        super().post_parse()
        if self.port is not None and not re.fullmatch(r"\d+(\.\d+){0,3}", self.port):
            raise InternalError("Cannot parse <address> 'port' attribute")

    def path(self) -> list[int]:
        return [int(p) for p in str(self.port).split(".")] if self.port else []


class ISAAddress(Address):
    ADDRESS_TYPE = "isa"
    ORDER = ("type", "iobase", "irq")
    type = Attr("@type")
    iobase = Attr("@iobase", HexShort)
    irq = Attr("@irq", HexShort)


class DIMMAddress(Address):
    ADDRESS_TYPE = "dimm"
    ORDER = ("type", "slot", "base")
    type = Attr("@type")
    slot = Attr("@slot", UInt)
    base = Attr("@base", HexShort)


class CCWAddress(Address):
    ADDRESS_TYPE = "ccw"
    ORDER = ("type", "cssid", "ssid", "devno")
    type = Attr("@type")
    cssid = Attr("@cssid", HexShort)
    ssid = Attr("@ssid", HexShort)
    devno = Attr("@devno", Hex4)


class SpaprVIOAddress(Address):
    ADDRESS_TYPE = "spapr-vio"
    ORDER = ("type", "reg")
    type = Attr("@type")
    reg = Attr("@reg", Hex8)


class VirtioMMIOAddress(Address):
    ADDRESS_TYPE = "virtio-mmio"
    ORDER = ("type",)
    type = Attr("@type")


class VirtioS390Address(Address):
    """The legacy s390 virtio bus: the type is known only to be refused."""

    ADDRESS_TYPE = "virtio-s390"
    ORDER = ("type",)
    type = Attr("@type")

    def post_parse(self) -> None:
        raise XMLError("virtio-s390 bus doesn't have an address")


class UnassignedAddress(Address):
    ADDRESS_TYPE = "unassigned"
    ORDER = ("type",)
    type = Attr("@type")


class DeviceDef(XMLObject):
    """Base of every device class. Subclasses list "alias", "address" (and "boot", "acpi_index"
    where the device takes them) in ORDER at the place libvirt writes them, usually last."""

    alias = Attr("alias/@name")
    address = Child(Address)
    boot = Attr("boot/@order", UInt)
    boot_loadparm = Attr("boot/@loadparm")
    acpi_index = Attr("acpi/@index", UInt)
