"""<vsock>: a host-guest socket device."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.xmlobject import Attr, Choice, UInt, YesNo


class Vsock(DeviceDef, VirtioDriver):
    TAG = "vsock"
    ORDER = ("model", "cid_auto", "cid_address", *VIRTIO_DRIVER_ORDER, "alias", "address")
    model = Attr("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"))
    cid_auto = Attr("cid/@auto", YesNo)
    cid_address = Attr("cid/@address", UInt)
