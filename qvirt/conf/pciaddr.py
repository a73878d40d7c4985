"""A PCI address written without a type attribute, as node device XML and a scsi_host
adapter's <parentaddr> write it (domain XML's typed addresses are in devices/base.py)."""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Hex2, Hex4, HexShort, XMLObject


class BarePCIAddress(XMLObject):
    TAG = "address"
    ORDER = ("domain", "bus", "slot", "function")
    domain = Attr("@domain", Hex4)
    bus = Attr("@bus", Hex2)
    slot = Attr("@slot", Hex2)
    function = Attr("@function", HexShort)

    def post_parse(self) -> None:
        """libvirt stores an omitted number as 0 and prints it."""
        for name in self.ORDER:
            if getattr(self, name) is None:
                setattr(self, name, 0)
