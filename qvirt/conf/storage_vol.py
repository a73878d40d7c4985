"""The <volume> document (storage_conf.c). Volumes get no defaults at define: the pool's backend
fills key, path, format and sizes when it creates them, so this model only reads and writes,
with sizes normalized to bytes as libvirt normalizes them while parsing."""

from __future__ import annotations

import re
from typing import Any, Self

from qvirt.conf.storage_common import (
    ULLONG_MAX,
    Permissions,
    scale_size,
)
from qvirt.conf.xmlobject import Attr, Child, Choice, Field, Flag, ParseContext, UInt, XMLObject
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError, XMLError

VOLUME_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")
FILE_FEATURES = ("lazy_refcounts", "extended_l2")


class Extent(XMLObject):
    TAG = "extent"
    ORDER = ("start", "end")
    start = Attr("@start", UInt)
    end = Attr("@end", UInt)


class ExtentDevice(XMLObject):
    """The physical device holding some of a (logical) volume's extents."""

    TAG = "device"
    ORDER = ("path", "extents")
    path = Attr("@path")
    extents = Child(Extent, single=False)


class Timestamps(XMLObject):
    """File times as the backend read them ("seconds.nanoseconds"), kept as written."""

    TAG = "timestamps"
    ORDER = ("atime", "mtime", "ctime", "btime")
    atime = Attr("atime")
    mtime = Attr("mtime")
    ctime = Attr("ctime")
    btime = Attr("btime")


class EncryptionSecret(XMLObject):
    TAG = "secret"
    ORDER = ("type", "uuid", "usage")
    type = Attr("@type")
    uuid = Attr("@uuid")
    usage = Attr("@usage")

    def post_parse(self) -> None:
        if self.type is None:
            raise XMLError("missing volume encryption secret type")
        if self.type != "passphrase":
            raise QvirtError(f"unknown volume encryption secret type {self.type}",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)


class Encryption(XMLObject):
    TAG = "encryption"
    ORDER = ("format", "engine", "secrets", "cipher_name", "cipher_size", "cipher_mode",
             "cipher_hash", "ivgen_name", "ivgen_hash")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    format = Attr("@format", Choice("default", "qcow", "luks", "luks2"))
    engine = Attr("@engine", Choice("qemu", "librbd"))
    secrets = Child(EncryptionSecret, single=False)
    cipher_name = Attr("cipher/@name")
    cipher_size = Attr("cipher/@size", UInt)
    cipher_mode = Attr("cipher/@mode")
    cipher_hash = Attr("cipher/@hash")
    ivgen_name = Attr("ivgen/@name")
    ivgen_hash = Attr("ivgen/@hash")


class _FeatureSet(Field):
    """<features> of a qcow2 target: present (possibly empty) or absent; every child must be
    a feature libvirt knows."""

    def default(self) -> None:
        return None

    def parse(self, node: Element, ctx: ParseContext) -> list[str] | None:
        box = next(node.iterchildren("features"), None)
        if box is None:
            return None
        ctx.element(box)
        names = []
        for child in box:
            if not isinstance(child.tag, str):
                continue
            ctx.element(child)
            if child.tag not in FILE_FEATURES:
                raise QvirtError(f"unsupported feature {child.tag}",
                                 code=ErrorNumber.CONFIG_UNSUPPORTED)
            names.append(child.tag)
        return [f for f in FILE_FEATURES if f in names]

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        box = Node("features")
        box.children.extend(Node(name) for name in value)
        node.children.append(box)


class _CreateOnlyFlag(Flag):
    """Read and kept for the backend, never written back (libvirt's <nocow/>)."""

    def format(self, value: Any, node: Node) -> None:
        return None


def _size(text: str | None, unit: str | None) -> int | None:
    """virStorageSize: a non-negative decimal (strtoull, so leading blanks only) scaled by
    its unit; libvirt names the capacity in the error whichever size it was."""
    if text is None:
        return None
    found = re.fullmatch(r"\s*\+?([0-9]+)", text)
    if found is None:
        raise XMLError("malformed capacity element")
    return scale_size(int(found.group(1)), unit)


class VolumeTarget(XMLObject):
    """<target> or <backingStore>: the file, its format and ownership."""

    TAG = "target"
    ORDER = ("path", "format", "permissions", "timestamps", "encryption", "compat",
             "cluster_size_unit", "cluster_size", "nocow", "features")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    path = Attr("path")
    format = Attr("format/@type")
    permissions = Child(Permissions)
    timestamps = Child(Timestamps)
    encryption = Child(Encryption)
    compat = Attr("compat")
    cluster_size_unit = Attr("clusterSize/@unit")
    cluster_size = Attr("clusterSize")
    nocow = _CreateOnlyFlag("nocow")
    features = _FeatureSet()

    def post_parse(self) -> None:
        if self.compat is not None:
            major, dot, minor = self.compat.partition(".")
            if not dot or not major.isdigit() or not minor.split(".")[0].isdigit():
                raise XMLError("forbidden characters in 'compat' attribute")
        if self.cluster_size is not None:
            try:
                value = int(self.cluster_size.strip(), 10)
            except ValueError:
                raise XMLError(f"Invalid value '{self.cluster_size}' for element or attribute "
                               "'./target/clusterSize'") from None
            self.cluster_size = scale_size(value, self.cluster_size_unit, ULLONG_MAX)
            self.cluster_size_unit = "B"
            if self.cluster_size == 0:
                self.cluster_size = self.cluster_size_unit = None
        if self.features is not None and self.compat is None:
            self.compat = "1.1"
        if self.permissions is not None and self.permissions == Permissions():
            self.permissions = None


class BackingStore(VolumeTarget):
    TAG = "backingStore"

    def post_parse(self) -> None:
        super().post_parse()
        # libvirt reads only path, format and permissions of a backing store.
        self.encryption = None
        self.compat = self.cluster_size = self.cluster_size_unit = None
        self.features = None
        self.nocow = False


class StorageVol(XMLObject):
    ERROR_DOMAIN = ErrorDomain.STORAGE
    SCHEMA = "storagevol"
    TAG = "volume"
    ORDER = ("type", "name", "key", "extents", "capacity_unit", "capacity",
             "allocation_unit", "allocation", "physical_unit", "physical", "target",
             "backing_store")
    type = Attr("@type")
    name = Attr("name")
    key = Attr("key")
    extents = Child(ExtentDevice, single=False, path="source")
    # Read as text and scaled by their unit in post_parse; integers (bytes) after that.
    capacity_unit = Attr("capacity/@unit")
    capacity = Attr("capacity")
    allocation_unit = Attr("allocation/@unit")
    allocation = Attr("allocation")
    physical_unit = Attr("physical/@unit")
    physical = Attr("physical")
    target = Child(VolumeTarget)
    backing_store = Child(BackingStore)

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(storage_volume_definition)")

    def post_parse(self) -> None:
        if self.name is None:
            raise XMLError("missing volume name element")
        if self.type is None:
            self.type = "file"
        elif self.type not in VOLUME_TYPES:
            raise QvirtError(f"unknown volume type '{self.type}'",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)
        if self.backing_store is not None and self.backing_store.path is None:
            self.backing_store = None
        capacity = _size(self.capacity, self.capacity_unit)
        if capacity is None:
            raise XMLError("missing capacity element")
        allocation = _size(self.allocation, self.allocation_unit)
        physical = _size(self.physical, self.physical_unit)
        self.capacity, self.capacity_unit = capacity, "bytes"
        self.allocation = capacity if allocation is None else allocation
        self.allocation_unit = "bytes"
        if physical:
            self.physical, self.physical_unit = physical, "bytes"
        else:
            self.physical = self.physical_unit = None
        if self.target is None:
            self.target = VolumeTarget()


# Volume formats a pool type takes (storage_conf.c volOptions): file formats for the pools
# that hold files, partition types for disk pools, none at all for the rest.
FILE_FORMATS = ("raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd",
                "ploop", "cow", "qcow", "qcow2", "qed", "vmdk")
PARTITION_FORMATS = ("none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm",
                     "linux-raid", "extended")
VOLUME_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    **dict.fromkeys(("dir", "fs", "netfs", "gluster", "vstorage", "rbd"), (FILE_FORMATS, "raw")),
    "disk": (PARTITION_FORMATS, "none"),
}


def apply_defaults(vol: StorageVol, pool_type: str) -> None:
    """What libvirt's volume parser does with the pool in hand: the pool type's default
    format for the volume and its backing store, a check of a given one, and no format at
    all where the pool type has none (logical, iscsi, scsi, mpath, zfs, ...)."""
    formats, default = VOLUME_FORMATS.get(pool_type, ((), ""))
    for target in (vol.target, vol.backing_store):
        if target is None:
            continue
        if not formats:
            target.format = None
        elif target.format is None:
            target.format = default
        elif target.format not in formats:
            raise QvirtError(f"unknown volume format type {target.format}",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)
