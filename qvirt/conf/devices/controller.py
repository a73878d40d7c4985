"""<controller> devices (virDomainControllerDef): the buses other devices plug into.

``model`` is an enum per controller type; an unknown one is libvirt's "Unknown model type"
configuration error rather than a schema error, so it is checked in post_parse().
"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Scaled
from qvirt.conf.xmlobject import Attr, Choice, Conv, HexShort, Int, OnOff, UInt
from qvirt.errors import ConfigUnsupported, XMLError

MODELS: dict[str, tuple[str, ...]] = {
    "scsi": ("auto", "buslogic", "lsilogic", "lsisas1068", "vmpvscsi", "ibmvscsi",
             "virtio-scsi", "lsisas1078", "virtio-transitional", "virtio-non-transitional",
             "ncr53c90", "am53c974", "dc390"),
    "usb": ("piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2",
            "ich9-uhci3", "vt82c686b-uhci", "pci-ohci", "nec-xhci", "qusb1", "qusb2",
            "qemu-xhci", "none"),
    "pci": ("pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge", "pcie-root-port",
            "pcie-switch-upstream-port", "pcie-switch-downstream-port", "pci-expander-bus",
            "pcie-expander-bus", "pcie-to-pci-bridge"),
    "ide": ("piix3", "piix4", "ich6"),
    "virtio-serial": ("virtio", "virtio-transitional", "virtio-non-transitional"),
    "isa": (),
}

PCI_MODEL_NAMES = Choice("pci-bridge", "i82801b11-bridge", "ioh3420", "x3130-upstream",
                         "xio3130-downstream", "pxb", "pxb-pcie", "pcie-root-port",
                         "spapr-pci-host-bridge", "pcie-pci-bridge")


class _Index(Conv[int]):
    """A controller index: an integer first, then a non-negative one, each with its message."""

    def parse(self, text: str) -> int:
        value = Int.parse(text)
        if value < 0:
            raise ValueError("Expected non-negative value")
        return value


class Controller(DeviceDef):
    TAG = "controller"
    ORDER = ("type", "index", "model", "ports", "vectors", "model_name", "target_chassis_nr",
             "target_chassis", "target_port", "target_bus_nr", "target_index",
             "target_hotplug", "target_mem_reserve", "target_node", "driver_queues",
             "driver_cmd_per_lun", "driver_max_sectors", "driver_ioeventfd",
             "driver_iothread", "pcihole64", "alias", "master_startport", "address")
    type = Attr("@type", Choice("ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb",
                                "pci", "xenbus", "isa"), required=True)
    index = Attr("@index", _Index())
    model = Attr("@model")
    ports = Attr("@ports", UInt)
    vectors = Attr("@vectors", UInt)
    model_name = Attr("model/@name", PCI_MODEL_NAMES)
    target_chassis_nr = Attr("target/@chassisNr", UInt)
    target_chassis = Attr("target/@chassis", UInt)
    target_port = Attr("target/@port", HexShort)
    target_bus_nr = Attr("target/@busNr", UInt)
    target_index = Attr("target/@index", UInt)
    target_hotplug = Attr("target/@hotplug", OnOff)
    target_mem_reserve = Attr("target/@memReserve", UInt)
    target_node = Attr("target/node", UInt)
    driver_queues = Attr("driver/@queues", UInt)
    driver_cmd_per_lun = Attr("driver/@cmd_per_lun", UInt)
    driver_max_sectors = Attr("driver/@max_sectors", UInt)
    driver_ioeventfd = Attr("driver/@ioeventfd", OnOff)
    driver_iothread = Attr("driver/@iothread", UInt)
    pcihole64 = Scaled("pcihole64", xpath="./pcihole64[1]")
    master_startport = Attr("master/@startport", UInt)

    def post_parse(self) -> None:
        if self.model is not None:
            allowed = MODELS.get(str(self.type))
            if allowed is None or self.model not in allowed:
                raise ConfigUnsupported(f"Unknown model type '{self.model}'")
        if self.model in ("pci-root", "pcie-root") and self.index:
            raise XMLError("pci-root and pcie-root controllers should have index 0")
        if self.driver_iothread == 0:
            self.driver_iothread = None
        if self.driver_iothread is not None and (self.type != "scsi"
                                                 or self.model != "virtio-scsi"):
            raise XMLError("'iothread' attribute only supported for virtio scsi controllers")
