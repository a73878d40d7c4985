"""<disk> devices (virDomainDiskDef). The storage side lives in disk_source.py; this module holds
the guest side and the checks libvirt makes when it parses and validates a disk."""

from __future__ import annotations

import re

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.disk_source import (
    STORAGE_TYPES,
    Auth,
    BackingStore,
    DiskSource,
    Encryption,
)
from qvirt.conf.xmlobject import Attr, Child, Choice, Flag, OnOff, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, ErrorNumber, InternalError, QvirtError, XMLError

DISK_BUSES = Choice("ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd")

# Target name prefixes and the bus libvirt infers from them (virDomainDiskDefParseXML).
BUS_BY_PREFIX = (("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("xvd", "xen"),
                 ("ubd", "uml"), ("fd", "fdc"))


def disk_name_index(name: str) -> int:
    """virDiskNameToIndex: 'vda' -> 0, 'sdaa' -> 26; -1 when the name has no such form."""
    for prefix in ("fd", "hd", "vd", "sd", "xvd", "ubd"):
        if name.startswith(prefix):
            match = re.match(r"([a-z]+)\d*$", name[len(prefix):])
            if not match:
                return -1
            index = 0
            for ch in match.group(1):
                index = index * 26 + (ord(ch) - ord("a") + 1)
            return index - 1
    return -1


class DiskDriver(XMLObject):
    TAG = "driver"
    ORDER = ("name", "type", "cache", "error_policy", "rerror_policy", "io", "ioeventfd",
             "event_idx", "copy_on_read", "discard", "iothread", "detect_zeroes", "queues",
             "queue_size")
    name = Attr("@name")
    type = Attr("@type")
    cache = Attr("@cache", Choice("default", "none", "writethrough", "writeback",
                                  "directsync", "unsafe"))
    error_policy = Attr("@error_policy", Choice("default", "stop", "report", "ignore",
                                                "enospace"))
    rerror_policy = Attr("@rerror_policy", Choice("default", "stop", "report", "ignore"))
    io = Attr("@io", Choice("default", "native", "threads", "io_uring"))
    ioeventfd = Attr("@ioeventfd", OnOff)
    event_idx = Attr("@event_idx", OnOff)
    copy_on_read = Attr("@copy_on_read", OnOff)
    discard = Attr("@discard", Choice("default", "unmap", "ignore"))
    iothread = Attr("@iothread", UInt)
    detect_zeroes = Attr("@detect_zeroes", Choice("default", "off", "on", "unmap"))
    queues = Attr("@queues", UInt)
    queue_size = Attr("@queue_size", UInt)

    def post_parse(self) -> None:
        # An explicit 'default' is the enum's zero value, which libvirt does not write.
        for name in ("cache", "error_policy", "rerror_policy", "io", "discard",
                     "detect_zeroes"):
            if getattr(self, name) == "default":
                setattr(self, name, None)


_IOTUNE = ("total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec",
           "read_iops_sec", "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max",
           "write_bytes_sec_max", "total_iops_sec_max", "read_iops_sec_max",
           "write_iops_sec_max", "size_iops_sec", "group_name", "total_bytes_sec_max_length",
           "read_bytes_sec_max_length", "write_bytes_sec_max_length",
           "total_iops_sec_max_length", "read_iops_sec_max_length",
           "write_iops_sec_max_length")


class IOTune(XMLObject):
    """<iotune>: libvirt writes only the limits that are set (0 means unlimited)."""

    TAG = "iotune"
    ORDER = _IOTUNE
    total_bytes_sec = Attr("total_bytes_sec", UInt)
    read_bytes_sec = Attr("read_bytes_sec", UInt)
    write_bytes_sec = Attr("write_bytes_sec", UInt)
    total_iops_sec = Attr("total_iops_sec", UInt)
    read_iops_sec = Attr("read_iops_sec", UInt)
    write_iops_sec = Attr("write_iops_sec", UInt)
    total_bytes_sec_max = Attr("total_bytes_sec_max", UInt)
    read_bytes_sec_max = Attr("read_bytes_sec_max", UInt)
    write_bytes_sec_max = Attr("write_bytes_sec_max", UInt)
    total_iops_sec_max = Attr("total_iops_sec_max", UInt)
    read_iops_sec_max = Attr("read_iops_sec_max", UInt)
    write_iops_sec_max = Attr("write_iops_sec_max", UInt)
    size_iops_sec = Attr("size_iops_sec", UInt)
    group_name = Attr("group_name")
    total_bytes_sec_max_length = Attr("total_bytes_sec_max_length", UInt)
    read_bytes_sec_max_length = Attr("read_bytes_sec_max_length", UInt)
    write_bytes_sec_max_length = Attr("write_bytes_sec_max_length", UInt)
    total_iops_sec_max_length = Attr("total_iops_sec_max_length", UInt)
    read_iops_sec_max_length = Attr("read_iops_sec_max_length", UInt)
    write_iops_sec_max_length = Attr("write_iops_sec_max_length", UInt)

    def post_parse(self) -> None:
        for name in _IOTUNE:
            if getattr(self, name) == 0:
                setattr(self, name, None)
        for kind in ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"):
            if getattr(self, f"total_{kind}") and (getattr(self, f"read_{kind}")
                                                   or getattr(self, f"write_{kind}")):
                raise XMLError(f"total and read/write {kind} cannot be set at the same time")


class DiskTarget(XMLObject):
    TAG = "target"
    ORDER = ("dev", "bus", "tray", "removable", "rotation_rate")
    dev = Attr("@dev")
    bus = Attr("@bus", DISK_BUSES)
    tray = Attr("@tray", Choice("closed", "open"))
    removable = Attr("@removable", OnOff)
    rotation_rate = Attr("@rotation_rate", UInt)


class Geometry(XMLObject):
    TAG = "geometry"
    ORDER = ("cyls", "heads", "secs", "trans")
    cyls = Attr("@cyls", UInt)
    heads = Attr("@heads", UInt)
    secs = Attr("@secs", UInt)
    trans = Attr("@trans", Choice("default", "none", "auto", "lba"))


class BlockIO(XMLObject):
    TAG = "blockio"
    ORDER = ("logical_block_size", "physical_block_size")
    logical_block_size = Attr("@logical_block_size", UInt)
    physical_block_size = Attr("@physical_block_size", UInt)


class Disk(DeviceDef):
    TAG = "disk"
    ORDER = ("type", "device", "model", "rawio", "sgio", "snapshot", "driver", "auth",
             "source", "backing_store", "geometry", "blockio", "target", "iotune", "readonly",
             "shareable", "transient", "transient_share_backing", "serial", "wwn", "vendor",
             "product", "encryption", "boot", "boot_loadparm", "alias", "address")
    type = Attr("@type", STORAGE_TYPES)
    device = Attr("@device", Choice("disk", "cdrom", "floppy", "lun"))
    model = Attr("@model", Choice("virtio", "virtio-transitional", "virtio-non-transitional"))
    rawio = Attr("@rawio", YesNo)
    sgio = Attr("@sgio", Choice("filtered", "unfiltered"))
    snapshot = Attr("@snapshot", Choice("no", "internal", "external", "manual"))
    driver = Child(DiskDriver)
    auth = Child(Auth)
    source = Child(DiskSource)
    backing_store = Child(BackingStore)
    geometry = Child(Geometry)
    blockio = Child(BlockIO)
    target = Child(DiskTarget)
    iotune = Child(IOTune)
    readonly = Flag("readonly")
    shareable = Flag("shareable")
    transient = Flag("transient")
    transient_share_backing = Attr("transient/@shareBacking", YesNo)
    serial = Attr("serial")
    wwn = Attr("wwn")
    vendor = Attr("vendor")
    product = Attr("product")
    encryption = Child(Encryption)

    @property
    def dev(self) -> str:
        return self.target.dev if self.target is not None and self.target.dev else ""

    @property
    def bus(self) -> str | None:
        return self.target.bus if self.target is not None else None

    def source_path(self) -> str | None:
        """What libvirt names the disk by in messages (virDomainDiskGetSource)."""
        src = self.source
        if src is None:
            return None
        if self.type == "network":
            path = src.name
        elif self.type == "volume":
            path = src.volume
        else:
            path = src.file or src.dev or src.dir or src.path
        return None if path is None else str(path)

    def post_parse(self) -> None:
        if self.type is None:
            self.type = "file"
        if self.device is None:
            self.device = "disk"
        self._drop_foreign_source_fields()
        if self.source is None and self.type == "block":
            self.type = "file"
        if self.type == "vhostuser" and self.snapshot is None:
            self.snapshot = "no"
        for enc in (self.encryption, self.source.encryption if self.source else None):
            for part, present in (("cipher", enc and enc.cipher_name),
                                  ("ivgen", enc and enc.ivgen_name)):
                if present:
                    raise ConfigUnsupported(f"supplying <{part}> for domain disk definition "
                                            "is unnecessary")
        if self.sgio == "unfiltered":
            raise ConfigUnsupported("unfiltered sgio is no longer supported")
        if not self.dev:
            path = self.source_path()
            raise QvirtError(path, code=ErrorNumber.NO_TARGET)
        self._check_network()
        self._check_identity()
        if self.device == "lun" and self.type not in ("block", "network", "volume"):
            raise ConfigUnsupported("disk device='lun' is only valid for block type disk "
                                    "source")

    def _drop_foreign_source_fields(self) -> None:
        """libvirt reads only the source attributes of the disk's storage type."""
        src = self.source
        if src is None:
            return
        keep = {
            "file": ("file",), "block": ("dev",), "dir": ("dir",),
            "network": ("protocol", "name", "query", "tls", "hosts", "snapshot", "config",
                        "initiator_iqn", "ssl_verify", "readahead", "timeout", "reconnect"),
            "volume": ("pool", "volume", "mode"),
            "nvme": ("type", "managed", "namespace", "address"),
            "vhostuser": ("type", "path", "reconnect"),
        }[str(self.type)]
        common = ("startup_policy", "index", "seclabels", "auth", "encryption",
                  "reservations")
        for name, _ in src.fields():
            if name not in keep and name not in common:
                setattr(src, name, [] if name in ("hosts", "seclabels") else None)

    def _check_network(self) -> None:
        if self.type != "network" or self.source is None:
            return
        src = self.source
        if src.protocol is None:
            raise XMLError("missing network source protocol type")
        if src.protocol == "rbd" and src.name and "/" not in src.name:
            raise XMLError(f"can't split path '{src.name}' into pool name and image name")
        auth = self.auth or src.auth
        if auth is not None and src.protocol not in ("iscsi", "rbd"):
            raise ConfigUnsupported("authentication is not supported for protocol "
                                    f"'{src.protocol}'")

    def _check_identity(self) -> None:
        if self.wwn is not None and not re.fullmatch(r"(0x)?[0-9a-fA-F]{16}", self.wwn):
            raise InternalError(f"Malformed wwn: {self.wwn}")
        if self.vendor is not None and len(self.vendor) > 8:
            raise ConfigUnsupported("disk vendor is more than 8 characters")
        if self.product is not None and len(self.product) > 16:
            raise ConfigUnsupported("disk product is more than 16 characters")
