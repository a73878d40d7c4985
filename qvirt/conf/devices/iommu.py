"""<iommu>, and the per-device <driver> switches that put a virtio device behind it."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr, Choice, OnOff, UInt, XMLObject

# Field names of VirtioDriver, for the ORDER of the classes that mix it in.
VIRTIO_DRIVER_ORDER = ("driver_iommu", "driver_ats", "driver_packed", "driver_page_per_vq")


class VirtioDriver(XMLObject):
    """virDomainVirtioOptions: the <driver> attributes every virtio device takes."""

    driver_iommu = Attr("driver/@iommu", OnOff)
    driver_ats = Attr("driver/@ats", OnOff)
    driver_packed = Attr("driver/@packed", OnOff)
    driver_page_per_vq = Attr("driver/@page_per_vq", OnOff)


class IOMMU(DeviceDef):
    TAG = "iommu"
    ORDER = ("model", "driver_intremap", "driver_caching_mode", "driver_eim", "driver_iotlb",
             "driver_aw_bits", "alias", "address")
    model = Attr("@model", Choice("intel", "smmuv3", "virtio"), required=True)
    driver_intremap = Attr("driver/@intremap", OnOff)
    driver_caching_mode = Attr("driver/@caching_mode", OnOff)
    driver_eim = Attr("driver/@eim", OnOff)
    driver_iotlb = Attr("driver/@iotlb", OnOff)
    driver_aw_bits = Attr("driver/@aw_bits", UInt)
