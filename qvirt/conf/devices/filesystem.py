"""<filesystem> devices: a host directory (or image, or memory) exported to the guest, over
virtio-9p or virtiofs for QEMU."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Scaled
from qvirt.conf.xmlobject import Attr, Child, Choice, Conv, Flag, OnOff, UInt, XMLObject
from qvirt.errors import ConfigUnsupported, ErrorNumber, QvirtError


class _Octal(Conv[int]):
    """File modes: parsed as octal, written with a leading zero ('0644')."""

    expected = "Expected octal value"

    def parse(self, text: str) -> int:
        try:
            value = int(text, 8)
        except ValueError:
            raise ValueError(self.expected) from None
        if value < 0:
            raise ValueError(self.expected)
        return value

    def format(self, value: int) -> str:
        return f"0{value:o}"


Octal = _Octal()


class Binary(XMLObject):
    """<binary>: how libvirt runs virtiofsd."""

    TAG = "binary"
    ORDER = ("path", "xattr", "cache_mode", "sandbox_mode", "lock_posix", "lock_flock",
             "thread_pool_size")
    path = Attr("@path")
    xattr = Attr("@xattr", OnOff)
    cache_mode = Attr("cache/@mode", Choice("none", "always"))
    sandbox_mode = Attr("sandbox/@mode", Choice("namespace", "chroot"))
    lock_posix = Attr("lock/@posix", OnOff)
    lock_flock = Attr("lock/@flock", OnOff)
    thread_pool_size = Attr("thread_pool/@size", UInt)


class Filesystem(DeviceDef):
    TAG = "filesystem"
    ORDER = ("type", "accessmode", "model", "multidevs", "fmode", "dmode", "driver_type",
             "driver_format", "driver_wrpolicy", "driver_queue", "binary", "source_dir",
             "source_file", "source_dev", "source_name", "source_usage", "source_units",
             "source_socket", "source_pool", "source_volume", "target_dir", "readonly",
             "alias", "address", "space_hard_limit", "space_soft_limit")
    type = Attr("@type", Choice("mount", "block", "file", "template", "ram", "bind",
                                "volume"))
    accessmode = Attr("@accessmode", Choice("passthrough", "mapped", "squash"))
    model = Attr("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"))
    multidevs = Attr("@multidevs", Choice("default", "remap", "forbid", "warn"))
    fmode = Attr("@fmode", Octal)
    dmode = Attr("@dmode", Octal)
    driver_type = Attr("driver/@type", Choice("path", "handle", "loop", "nbd", "ploop",
                                              "virtiofs"))
    driver_format = Attr("driver/@format")
    driver_wrpolicy = Attr("driver/@wrpolicy", Choice("immediate"))
    driver_queue = Attr("driver/@queue", UInt)
    binary = Child(Binary)
    source_dir = Attr("source/@dir")
    source_file = Attr("source/@file")
    source_dev = Attr("source/@dev")
    source_name = Attr("source/@name")
    source_usage = Attr("source/@usage", UInt)
    source_units = Attr("source/@units")
    source_socket = Attr("source/@socket")
    source_pool = Attr("source/@pool")
    source_volume = Attr("source/@volume")
    target_dir = Attr("target/@dir")
    readonly = Flag("readonly")
    space_hard_limit = Scaled("space_hard_limit", unit="bytes", default=1)
    space_soft_limit = Scaled("space_soft_limit", unit="bytes", default=1)

    def post_parse(self) -> None:
        if self.type is None:
            self.type = "mount"
        if self.accessmode is None and self.source_socket is None:
            self.accessmode = "passthrough"
        source = (self.source_dir or self.source_file or self.source_dev or self.source_name
                  or self.source_socket)
        if self.target_dir is None:
            raise QvirtError(source, code=ErrorNumber.NO_TARGET)
        if self.type != "mount":
            raise ConfigUnsupported("only supports mount filesystem type")
        if self.driver_type == "handle" and self.accessmode != "passthrough":
            raise ConfigUnsupported("only supports passthrough accessmode")
