"""<rng>: a random number generator fed by a host backend."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.chardev import ChrSource
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Child, Choice, UInt, XMLObject
from qvirt.errors import ConfigUnsupported, XMLError


class RNGBackend(XMLObject):
    """<backend>: a device path (random), a character device (egd), or QEMU's own (builtin)."""

    TAG = "backend"
    ORDER = ("model", "type", "path", "sources", "protocol")
    model = Attr("@model", Strict(Choice("random", "egd", "builtin"), lambda v: (
        ConfigUnsupported(f"unknown RNG backend model '{v}'"))), required=True)
    type = Attr("@type", Choice("null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp",
                                "tcp", "unix", "spicevmc", "spiceport", "nmdm",
                                "qemu-vdagent", "dbus"))
    path = Attr(".")
    sources = Child(ChrSource, single=False)
    protocol = Attr("protocol/@type", Choice("raw", "telnet", "telnets", "tls"))

    def post_parse(self) -> None:
        # Only the random backend reads its text (the device path).
        if self.model != "random" or not (self.path or "").strip():
            self.path = None


class RNG(DeviceDef, VirtioDriver):
    TAG = "rng"
    ORDER = ("model", "rate_bytes", "rate_period", "backend", *VIRTIO_DRIVER_ORDER, "alias",
             "address")
    model = Attr("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"),
                 required=True)
    rate_bytes = Attr("rate/@bytes", UInt)
    rate_period = Attr("rate/@period", UInt)
    backend = Child(RNGBackend)

    def post_parse(self) -> None:
        if self.backend is None:
            raise XMLError("only one RNG backend is supported")
