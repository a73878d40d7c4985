"""The <pool> document (storage_conf.c): one class for every pool type, with the per-type rules
of libvirt's poolTypeInfo table (which source parts a type takes, its formats) as data."""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any, Self

from qvirt.conf.pciaddr import BarePCIAddress
from qvirt.conf.storage_common import (
    Auth,
    Permissions,
    TriState,
    sanitize_path,
)
from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Choice,
    Field,
    Int,
    ParseContext,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ErrorDomain, ErrorNumber, NoSupport, QvirtError, XMLDetail, XMLError

# Which parts of <source> a pool type reads and writes (VIR_STORAGE_POOL_SOURCE_*).
HOST, DEVICE, DIR, ADAPTER, NAME, IQN, NETWORK = (
    "host", "device", "dir", "adapter", "name", "iqn", "network")

FS_FORMATS = ("auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat",
              "hfs+", "xfs", "ocfs2", "vmfs")
NETFS_FORMATS = ("auto", "nfs", "glusterfs", "cifs")
DISK_FORMATS = ("unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2")
LOGICAL_FORMATS = ("unknown", "lvm2")


@dataclass(frozen=True)
class PoolType:
    """One row of libvirt's poolTypeInfo: the source parts and formats of a pool type."""

    parts: frozenset[str]
    formats: tuple[str, ...] = ()
    default_format: str | None = None


POOL_TYPES: dict[str, PoolType] = {
    "dir": PoolType(frozenset()),
    "fs": PoolType(frozenset({DEVICE}), FS_FORMATS, "auto"),
    "netfs": PoolType(frozenset({HOST, DIR}), NETFS_FORMATS, "auto"),
    "logical": PoolType(frozenset({NAME, DEVICE}), LOGICAL_FORMATS, "lvm2"),
    "disk": PoolType(frozenset({DEVICE}), DISK_FORMATS, "unknown"),
    "iscsi": PoolType(frozenset({HOST, DEVICE, IQN})),
    "iscsi-direct": PoolType(frozenset({HOST, DEVICE, NETWORK, IQN})),
    "scsi": PoolType(frozenset({ADAPTER})),
    "mpath": PoolType(frozenset()),
    "rbd": PoolType(frozenset({HOST, NETWORK, NAME})),
    "sheepdog": PoolType(frozenset({HOST, NETWORK, NAME})),
    "gluster": PoolType(frozenset({HOST, NETWORK, NAME, DIR})),
    "zfs": PoolType(frozenset({NAME, DEVICE})),
    "vstorage": PoolType(frozenset({NAME})),
}

FS_NS = "http://libvirt.org/schemas/storagepool/fs/1.0"
RBD_NS = "http://libvirt.org/schemas/storagepool/rbd/1.0"


class SourceHost(XMLObject):
    TAG = "host"
    ORDER = ("name", "port")
    name = Attr("@name")
    port = Attr("@port", Int)

    def post_parse(self) -> None:
        if self.name is None:
            raise XMLError("missing storage pool host name")
        if self.port == 0:
            self.port = None


class FreeExtent(XMLObject):
    """Free space on a disk pool's device: written by a running pool, never read back."""

    TAG = "freeExtent"
    ORDER = ("start", "end")
    start = Attr("@start", UInt)
    end = Attr("@end", UInt)


class SourceDevice(XMLObject):
    TAG = "device"
    ORDER = ("path", "part_separator", "free_extents")
    path = Attr("@path")
    part_separator = Attr("@part_separator", TriState)
    free_extents = Child(FreeExtent, single=False)

    def post_parse(self) -> None:
        if self.path is None:
            raise XMLError("missing storage pool source device path")
        self.free_extents = []


class Adapter(XMLObject):
    """<adapter> of a scsi pool: a SCSI host by name or parent PCI address, or an NPIV
    (fc_host) vHBA by its WWNs."""

    TAG = "adapter"
    ORDER = ("type", "name", "parent", "parent_wwnn", "parent_wwpn", "parent_fabric_wwn",
             "managed", "wwnn", "wwpn", "unique_id", "parentaddr")
    FC_ONLY = ("parent", "parent_wwnn", "parent_wwpn", "parent_fabric_wwn", "managed", "wwnn",
               "wwpn")
    type = Attr("@type", Choice("scsi_host", "fc_host"))
    name = Attr("@name")
    parent = Attr("@parent")
    parent_wwnn = Attr("@parent_wwnn")
    parent_wwpn = Attr("@parent_wwpn")
    parent_fabric_wwn = Attr("@parent_fabric_wwn")
    managed = Attr("@managed", TriState)
    wwnn = Attr("@wwnn")
    wwpn = Attr("@wwpn")
    unique_id = Attr("parentaddr/@unique_id", Int)
    parentaddr = Child(BarePCIAddress, path="parentaddr")

    def post_parse(self) -> None:
        if self.type is None:
            if self.wwnn or self.wwpn or self.parent:
                raise XMLError("Use of 'wwnn', 'wwpn', and 'parent' attributes requires use "
                               "of the adapter 'type'")
            if self.unique_id is not None or self.parentaddr is not None:
                raise XMLError("Use of 'parentaddr' element requires use of the adapter "
                               "'type'")
            if self.name is not None:
                self.type = "scsi_host"
            return
        if self.type == "fc_host":
            self.name = None
            self.unique_id = self.parentaddr = None
            return
        for name in self.FC_ONLY:
            setattr(self, name, None)

    def validate(self) -> None:
        """virStorageAdapterValidate, run only for the pool types that take an adapter."""
        if self.type is None:
            raise XMLError("missing storage pool source adapter")
        if self.type == "fc_host":
            self._validate_fc()
            return
        if self.parentaddr is None and self.unique_id is not None:
            raise XMLError("Missing scsi_host PCI address element")
        if self.parentaddr is not None and (self.unique_id is None or self.unique_id < 0):
            raise XMLError("Missing or invalid scsi adapter 'unique_id' value")
        if self.name is None and self.parentaddr is None:
            raise XMLError("Either 'name' or 'parent' must be specified for the 'scsi_host' "
                           "adapter")
        if self.name is not None and self.parentaddr is not None:
            raise XMLError("Both 'name' and 'parent' cannot be specified for the "
                           "'scsi_host' adapter")

    def _validate_fc(self) -> None:
        if not self.wwnn or not self.wwpn:
            raise XMLError("'wwnn' and 'wwpn' must be specified for adapter type 'fchost'")
        for wwn in (self.wwnn, self.wwpn):
            _check_wwn(wwn)
        if self.parent_wwnn and not self.parent_wwpn:
            raise XMLError(f"when providing parent_wwnn='{self.parent_wwnn}', the "
                           "parent_wwpn must also be provided")
        if self.parent_wwpn and not self.parent_wwnn:
            raise XMLError(f"when providing parent_wwpn='{self.parent_wwpn}', the "
                           "parent_wwnn must also be provided")
        for wwn in (self.parent_wwnn, self.parent_wwpn, self.parent_fabric_wwn):
            if wwn:
                _check_wwn(wwn)


def _check_wwn(wwn: str) -> None:
    """virValidateWWN: 16 hex digits, optionally after a (lower-case) "0x"."""
    digits = wwn.removeprefix("0x")
    if not re.fullmatch(r"[0-9a-fA-F]{16}", digits):
        raise QvirtError("Malformed wwn: " + wwn, code=ErrorNumber.INTERNAL_ERROR)


class PoolSource(XMLObject):
    """<source>: always written, empty or not. Parts a pool type does not take are dropped
    by StoragePool.post_parse, as libvirt's formatter leaves them out."""

    TAG = "source"
    ORDER = ("hosts", "devices", "dir", "adapter", "name", "initiator_iqn", "format", "auth",
             "protocol_ver", "vendor", "product")
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    hosts = Child(SourceHost, single=False)
    devices = Child(SourceDevice, single=False)
    dir = Attr("dir/@path")
    adapter = Child(Adapter)
    name = Attr("name")
    initiator_iqn = Attr("initiator/iqn/@name")
    format = Attr("format/@type")
    auth = Child(Auth)
    protocol_ver = Attr("protocol/@ver")
    vendor = Attr("vendor/@name")
    product = Attr("product/@name")

    def post_parse(self) -> None:
        if self.dir is not None:
            self.dir = sanitize_path(self.dir)
        if self.auth is not None and self.auth.type is None:
            raise QvirtError("storage pool missing auth type", code=ErrorNumber.CONFIG_UNSUPPORTED)


class PoolTarget(XMLObject):
    TAG = "target"
    ORDER = ("path", "permissions")
    path = Attr("path")
    permissions = Child(Permissions)

    def post_parse(self) -> None:
        if self.permissions is not None and self.permissions == Permissions():
            self.permissions = None


class _NamespaceOptions(Field):
    """A backend's own XML namespace (<fs:mount_opts>, <rbd:config_opts>): a list of option
    attribute tuples, with the xmlns declaration written on the root element."""

    def __init__(self, prefix: str, uri: str, container: str, attrs: tuple[str, ...],
                 missing: str) -> None:
        self.prefix, self.uri, self.container, self.attrs = prefix, uri, container, attrs
        self.missing = missing

    def default(self) -> list[tuple[str, ...]]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[tuple[str, ...]]:
        options: list[tuple[str, ...]] = []
        for box in node.iterchildren(f"{{{self.uri}}}{self.container}"):
            ctx.element(box)
            for opt in box.iterchildren(f"{{{self.uri}}}option"):
                ctx.element(opt)
                values = []
                for attr in self.attrs:
                    ctx.attr(opt, attr)
                    value = opt.get(attr)
                    if value is None:
                        raise XMLError(self.missing.format(attr))
                    values.append(value)
                options.append(tuple(values))
        return options

    def format(self, value: Any, node: Node) -> None:
        if not value:
            return
        node.attrs[f"xmlns:{self.prefix}"] = self.uri
        box = node.child(f"{self.prefix}:{self.container}")
        for values in value:
            opt = Node(f"{self.prefix}:option")
            opt.attrs.update(zip(self.attrs, values, strict=True))
            box.children.append(opt)


class StoragePool(XMLObject):
    ERROR_DOMAIN = ErrorDomain.STORAGE
    SCHEMA = "storagepool"
    TAG = "pool"
    ORDER = ("type", "name", "uuid", "capacity_unit", "capacity", "allocation_unit",
             "allocation", "available_unit", "available", "cow", "source", "target",
             "refresh_allocation", "mount_opts", "rbd_config_opts")
    type = Attr("@type", Choice(*POOL_TYPES), required=True)
    name = Attr("name")
    uuid = Attr("uuid")
    # Written by a running pool; libvirt never reads them back, so they are taken as text
    # (never rejected) and apply_defaults zeroes them.
    capacity_unit = Attr("capacity/@unit")
    capacity = Attr("capacity")
    allocation_unit = Attr("allocation/@unit")
    allocation = Attr("allocation")
    available_unit = Attr("available/@unit")
    available = Attr("available")
    cow = Attr("features/cow/@state", TriState)
    source = Child(PoolSource)
    target = Child(PoolTarget)
    refresh_allocation = Attr("refresh/volume/@allocation")
    mount_opts = _NamespaceOptions("fs", FS_NS, "mount_opts", ("name",),
                                   "no fs mount option {} specified")
    rbd_config_opts = _NamespaceOptions("rbd", RBD_NS, "config_opts", ("name", "value"),
                                        "no rbd option {} specified")

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(storage_pool_definition)")

    @property
    def info(self) -> PoolType:
        return POOL_TYPES[str(self.type)]

    def post_parse(self) -> None:
        info = self.info
        source = self.source if self.source is not None else PoolSource()
        self.source = source
        if self.type == "rbd" and source.name is None:
            raise XMLError("element 'name' is mandatory for RBD pool")
        if source.format is not None and source.format not in info.formats and info.formats:
            raise QvirtError(f"unknown pool format type {source.format}",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)
        self._check_protocol(source)
        if self.name is None and NAME in info.parts:
            self.name = source.name
        if self.name is None:
            raise XMLError("missing pool source name element")
        if "/" in self.name:
            raise XMLError(f"name {self.name} cannot contain '/'")
        if self.uuid is not None:
            self.uuid = _parse_uuid(self.uuid)
        if self.cow is not None and self.type not in ("fs", "dir"):
            raise NoSupport("cow feature may only be used for 'fs' and 'dir' pools")
        if HOST in info.parts and not source.hosts:
            raise XMLError("missing storage pool source host name")
        if DIR in info.parts and source.dir is None and self.type != "gluster":
            raise XMLError("missing storage pool source path")
        if ADAPTER in info.parts:
            (source.adapter or Adapter()).validate()
        if info.parts == {DEVICE} and not source.devices:
            raise XMLError("missing storage pool source device name")
        self._parse_target()
        if self.type == "iscsi-direct" and source.initiator_iqn is None:
            raise QvirtError("missing initiator IQN", code=ErrorNumber.CONFIG_UNSUPPORTED)
        if self.refresh_allocation not in (None, "default", "capacity"):
            raise QvirtError("unknown storage pool volume refresh allocation type "
                             f"{self.refresh_allocation}", code=ErrorNumber.CONFIG_UNSUPPORTED)
        self._drop_foreign_parts(source)

    def _check_protocol(self, source: PoolSource) -> None:
        """libvirt compares the format's number with netfs' "auto" and "nfs" whatever the pool
        type, and names it from the netfs table: kept, since it decides what is accepted."""
        ver = source.protocol_ver
        if ver is None:
            return
        formats = self.info.formats
        index = formats.index(source.format) if source.format in formats else 0
        if index > 1:
            shown = NETFS_FORMATS[index] if index < len(NETFS_FORMATS) else "(null)"
            raise QvirtError(f"storage pool protocol ver unsupported for pool type '{shown}'",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)
        if "," in ver:
            raise XMLDetail(f"storage pool protocol ver '{ver}' must not contain ','")

    def _parse_target(self) -> None:
        """Network pools have no local target; logical and zfs ones derive theirs."""
        info = self.info
        if NETWORK in info.parts:
            self.target = None
            return
        target = self.target if self.target is not None else PoolTarget()
        assert self.source is not None
        source_name = self.source.name if self.source.name is not None else self.name
        if self.type == "logical":
            target.path = f"/dev/{source_name}"
        elif self.type == "zfs":
            target.path = f"/dev/zvol/{source_name}"
        elif not target.path:
            raise XMLError("missing storage pool target path")
        target.path = sanitize_path(target.path)
        self.target = target

    def _drop_foreign_parts(self, source: PoolSource) -> None:
        """What libvirt's formatter leaves out for this type, and namespaces it does not
        register for it."""
        parts = self.info.parts
        if HOST not in parts:
            source.hosts = []
        if DEVICE not in parts:
            source.devices = []
        if DIR not in parts:
            source.dir = None
        if ADAPTER not in parts or (source.adapter is not None and source.adapter.type is None):
            source.adapter = None
        if NAME not in parts:
            source.name = None
        if IQN not in parts:
            source.initiator_iqn = None
        if not self.info.formats:
            source.format = None
        if self.type not in ("fs", "netfs"):
            self.mount_opts = []
        if self.type != "rbd":
            self.rbd_config_opts = []


def _parse_uuid(text: str) -> str:
    compact = text.strip().replace("-", "")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", compact):
        raise XMLError("malformed uuid element")
    return str(uuidlib.UUID(compact))


def apply_defaults(pool: StoragePool) -> None:
    """What virStoragePoolDefParseXML fills in for an inactive pool: a generated UUID, zero
    sizes in bytes (libvirt never reads sizes from input), the type's default source format,
    the source name (defaulting to the pool's own) and gluster's root directory."""
    if pool.uuid is None:
        pool.uuid = str(uuidlib.uuid4())
    for name in ("capacity", "allocation", "available"):
        setattr(pool, name, 0)
        setattr(pool, f"{name}_unit", "bytes")
    info = pool.info
    source = pool.source if pool.source is not None else PoolSource()
    pool.source = source
    if info.formats and source.format is None:
        source.format = info.default_format
    if NAME in info.parts and source.name is None:
        source.name = pool.name
    if pool.type == "gluster" and source.dir is None:
        source.dir = "/"
