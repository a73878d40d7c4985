"""<memballoon>: the balloon libvirt gives every QEMU guest unless told model='none'."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.xmlobject import Attr, Choice, OnOff, UInt


class Memballoon(DeviceDef, VirtioDriver):
    TAG = "memballoon"
    ORDER = ("model", "autodeflate", "free_page_reporting", "stats_period", "alias", "address",
             *VIRTIO_DRIVER_ORDER)
    model = Attr("@model", Choice("virtio", "xen", "none", "virtio-transitional",
                                  "virtio-non-transitional"), required=True)
    autodeflate = Attr("@autodeflate", OnOff)
    free_page_reporting = Attr("@freePageReporting", OnOff)
    stats_period = Attr("stats/@period", UInt)
