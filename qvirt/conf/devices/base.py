"""What every device element shares: <alias>, <address>, <boot>, <acpi>.

Addresses are polymorphic on their ``type`` attribute: a PCI address writes hex fields, a drive
address decimal ones, so each type is its own class and ``Address.from_element`` picks it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Conv,
    Hex2,
    Hex4,
    OnOff,
    ParseContext,
    Str,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element
from qvirt.errors import XMLError


class _HexShort(Conv[int]):
    """PCI function and friends: 0x-prefixed hex without padding (function='0x2')."""

    expected = "Expected non-negative integer value"

    def parse(self, text: str) -> int:
        return UInt.parse(text)

    def format(self, value: int) -> str:
        return f"0x{value:x}"


HexShort = _HexShort()


class Address(XMLObject):
    """<address type='...'>: dispatches to the class registered for its type."""

    TAG = "address"
    TYPES: ClassVar[dict[str, type[Address]]] = {}
    ADDRESS_TYPE: ClassVar[str] = ""

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
            raise XMLError("No type specified for device address")
        target = Address.TYPES.get(kind)
        if target is None:
            raise XMLError(f"unknown address type '{kind}'")
        return target.from_element(node, ctx)  # type: ignore[return-value]


class PCIAddress(Address):
    ADDRESS_TYPE = "pci"
    ORDER = ("type", "domain", "bus", "slot", "function", "multifunction")
    type = Attr("@type")
    domain = Attr("@domain", Hex4)
    bus = Attr("@bus", Hex2)
    slot = Attr("@slot", Hex2)
    function = Attr("@function", HexShort)
    multifunction = Attr("@multifunction", OnOff)


class DriveAddress(Address):
    ADDRESS_TYPE = "drive"
    ORDER = ("type", "controller", "bus", "target", "unit")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    bus = Attr("@bus", UInt)
    target = Attr("@target", UInt)
    unit = Attr("@unit", UInt)


class VirtioSerialAddress(Address):
    ADDRESS_TYPE = "virtio-serial"
    ORDER = ("type", "controller", "bus", "port")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    bus = Attr("@bus", UInt)
    port = Attr("@port", UInt)


class CCIDAddress(Address):
    ADDRESS_TYPE = "ccid"
    ORDER = ("type", "controller", "slot")
    type = Attr("@type")
    controller = Attr("@controller", UInt)
    slot = Attr("@slot", UInt)


class USBAddress(Address):
    ADDRESS_TYPE = "usb"
    ORDER = ("type", "bus", "port")
    type = Attr("@type")
    bus = Attr("@bus", UInt)
    port = Attr("@port", Str)


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
    acpi_index = Attr("acpi/@index", UInt)
