"""<crypto>: a virtio crypto device and its backend."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.xmlobject import Attr, Choice, UInt


class Crypto(DeviceDef, VirtioDriver):
    TAG = "crypto"
    ORDER = ("model", "type", "backend_model", "backend_queues", *VIRTIO_DRIVER_ORDER, "alias",
             "address")
    model = Attr("@model", Choice("virtio"), required=True)
    type = Attr("@type", Choice("qemu"), required=True)
    backend_model = Attr("backend/@model", Choice("builtin", "lkcf"))
    backend_queues = Attr("backend/@queues", UInt)
