"""<input> and <hub> devices."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Choice, OnOff
from qvirt.errors import ConfigUnsupported, InternalError

INPUT_TYPES = Strict(Choice("mouse", "tablet", "keyboard", "passthrough", "evdev"),
                     lambda v: ConfigUnsupported(f"unknown input device type '{v}'"))
INPUT_BUSES = Choice("ps2", "usb", "xen", "parallels", "virtio", "none")


class Input(DeviceDef, VirtioDriver):
    TAG = "input"
    ORDER = ("type", "bus", "model", *VIRTIO_DRIVER_ORDER, "source_evdev", "source_dev",
             "source_grab", "source_grab_toggle", "source_repeat", "alias", "address")
    type = Attr("@type", INPUT_TYPES)
    bus = Attr("@bus", INPUT_BUSES)
    model = Attr("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"))
    source_evdev = Attr("source/@evdev")
    source_dev = Attr("source/@dev")
    source_grab = Attr("source/@grab", Choice("all"))
    source_grab_toggle = Attr("source/@grabToggle", Choice(
        "ctrl-ctrl", "alt-alt", "shift-shift", "meta-meta", "scrolllock", "ctrl-scrolllock"))
    source_repeat = Attr("source/@repeat", OnOff)

    def post_parse(self) -> None:
        if self.type is None:
            raise InternalError("missing input device type")
        if self.model in ("virtio-transitional", "virtio-non-transitional"):
            raise ConfigUnsupported("virtio (non-)transitional models are not supported for "
                                    f"input type={self.type}")


class Hub(DeviceDef):
    TAG = "hub"
    ORDER = ("type", "alias", "address")
    type = Attr("@type", Strict(Choice("usb"), lambda v: ConfigUnsupported(
        f"unknown hub device type '{v}'")), required=True)
