"""<memory> devices: hot-pluggable DIMMs, NVDIMMs and virtio memory."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Scaled
from qvirt.conf.xmlobject import Attr, Child, Choice, Flag, UInt, XMLObject


class MemorySource(XMLObject):
    TAG = "source"
    ORDER = ("nodemask", "pagesize", "path", "alignsize", "pmem")
    pagesize = Scaled("pagesize")
    nodemask = Attr("nodemask")
    path = Attr("path")
    alignsize = Scaled("alignsize")
    pmem = Flag("pmem")


class MemoryTarget(XMLObject):
    TAG = "target"
    ORDER = ("dynamic_memslots", "size", "node", "label_size", "block", "requested", "current",
             "address_base", "readonly")
    dynamic_memslots = Attr("@dynamicMemslots")
    size = Scaled("size")
    node = Attr("node", UInt)
    label_size = Scaled("label/size")
    block = Scaled("block")
    requested = Scaled("requested")
    current = Scaled("current")
    address_base = Attr("address/@base")
    readonly = Flag("readonly")


class MemoryDevice(DeviceDef):
    TAG = "memory"
    ORDER = ("model", "access", "discard", "uuid", "source", "target", "alias", "address")
    model = Attr("@model", Choice("dimm", "nvdimm", "virtio-pmem", "virtio-mem", "sgx-epc"),
                 required=True)
    access = Attr("@access", Choice("shared", "private"))
    discard = Attr("@discard", Choice("yes", "no"))
    uuid = Attr("uuid")
    source = Child(MemorySource)
    target = Child(MemoryTarget)
