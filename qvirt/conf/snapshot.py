"""The <domainsnapshot> document (snapshot_conf.c). The domain inside it is the ordinary
Domain model; a snapshot that only names its domain carries <domain><uuid/></domain>."""

from __future__ import annotations

from typing import Any, Self

from qvirt.conf.domain import Domain
from qvirt.conf.domain_cpu import CPU
from qvirt.conf.xmlobject import (
    UUID,
    Attr,
    Child,
    Choice,
    Conv,
    Field,
    Flag,
    ParseContext,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ConfigUnsupported, ErrorDomain, QvirtError, XMLError

SNAPSHOT_STATES = ("nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed",
                   "pmsuspended", "disk-snapshot")
LOCATIONS = ("no", "internal", "external", "manual")
SOURCE_TYPES = ("file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vdpa")


class SourceHost(XMLObject):
    TAG = "host"
    ORDER = ("transport", "name", "port", "socket")
    transport = Attr("@transport")
    name = Attr("@name")
    port = Attr("@port")
    socket = Attr("@socket")


class DiskSource(XMLObject):
    """Where an external snapshot writes its overlay: a file, a block device or a network
    volume (the attributes of <source> a disk of that type takes)."""

    TAG = "source"
    ORDER = ("protocol", "name", "file", "dev", "dir", "pool", "volume", "hosts")
    protocol = Attr("@protocol")
    name = Attr("@name")
    file = Attr("@file")
    dev = Attr("@dev")
    dir = Attr("@dir")
    pool = Attr("@pool")
    volume = Attr("@volume")
    hosts = Child(SourceHost, single=False)


class SnapshotDisk(XMLObject):
    TAG = "disk"
    ORDER = ("name", "snapshot", "type", "driver_type", "metadata_cache_unit",
             "metadata_cache", "source")
    name = Attr("@name")
    snapshot = Attr("@snapshot", Choice(*LOCATIONS))
    type = Attr("@type", Choice(*SOURCE_TYPES))
    driver_type = Attr("driver/@type")
    metadata_cache_unit = Attr("driver/metadata_cache/max_size/@unit")
    metadata_cache = Attr("driver/metadata_cache/max_size", UInt)
    source = Child(DiskSource)

    def post_parse(self) -> None:
        if self.name is None:
            raise QvirtError("missing name from disk snapshot element")
        has_source = self.source is not None or self.driver_type is not None
        if has_source and self.type is None:
            self.type = "file"
        if not has_source:
            self.type = None
        if self.snapshot is None and has_source:
            self.snapshot = "external"


class _CreationTime(Conv[int]):
    """Seconds since the epoch; text that is not a number reads as no time at all, as
    libvirt's virXPathLongLong leaves it (a redefine then misses it)."""

    def parse(self, text: str) -> int:
        try:
            return int(text, 10)
        except ValueError:
            return 0


class DomainRef(XMLObject):
    """<domain><uuid>...</uuid></domain>: a snapshot that names its domain without a copy."""

    TAG = "domain"
    ORDER = ("uuid",)
    uuid = Attr("uuid", UUID)


class _SnapshotDomain(Field):
    """The full domain definition when <domain> has a type, the UUID reference otherwise."""

    def parse(self, node: Element, ctx: ParseContext) -> Domain | DomainRef | None:
        elem = next(node.iterchildren("domain"), None)
        if elem is None:
            return None
        if elem.get("type") is None:
            return DomainRef.from_element(elem, ctx)
        return Domain.from_element(elem, ctx)

    def format(self, value: Any, node: Node) -> None:
        if value is not None:
            node.children.append(value.to_node())


class _InactiveDomain(Field):
    """<inactiveDomain>: the next-boot definition of a running domain, written as a domain
    under another root name."""

    def parse(self, node: Element, ctx: ParseContext) -> Domain | None:
        elem = next(node.iterchildren("inactiveDomain"), None)
        if elem is None:
            return None
        ctx.element(elem)
        dom = Domain()
        for name, f in Domain.fields():
            dom.__dict__[name] = f.parse(elem, ctx)
        dom.post_parse()
        return dom

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        out = value.to_node()
        out.tag = "inactiveDomain"
        node.children.append(out)


class Cookie(XMLObject):
    """What QEMU's driver saves with a running snapshot to restore it faithfully: the guest
    CPU as it was, and whether a slirp helper ran."""

    TAG = "cookie"
    ORDER = ("cpu", "slirp_helper")
    cpu = Child(CPU)
    slirp_helper = Flag("slirpHelper")


class DomainSnapshot(XMLObject):
    ERROR_DOMAIN = ErrorDomain.DOMAIN_SNAPSHOT
    SCHEMA = "domainsnapshot"
    TAG = "domainsnapshot"
    ORDER = ("name", "description", "state", "parent", "creation_time", "memory",
             "memory_file", "disks", "domain", "inactive_domain", "cookie", "active")
    name = Attr("name")
    description = Attr("description")
    state = Attr("state")
    parent = Attr("parent/name")
    creation_time = Attr("creationTime", _CreationTime())
    memory = Attr("memory/@snapshot", Choice(*LOCATIONS))
    memory_file = Attr("memory/@file")
    disks = Child(SnapshotDisk, single=False, path="disks")
    domain = _SnapshotDomain()
    inactive_domain = _InactiveDomain()
    cookie = Child(Cookie)
    active = Attr("active", Choice("0", "1"))

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(domain_snapshot)")

    def post_parse(self) -> None:
        if self.state is not None and self.state not in SNAPSHOT_STATES:
            raise ConfigUnsupported(f"Invalid state '{self.state}' in domain snapshot XML")
        if self.memory_file is not None:
            if self.memory is None:
                self.memory = "external"
            elif self.memory != "external":
                raise XMLError(f"memory filename '{self.memory_file}' requires external "
                               "snapshot")
        if self.memory == "external" and self.memory_file is None:
            raise XMLError("external memory snapshots require a filename")
        if self.creation_time == 0:
            self.creation_time = None

    def check_redefine(self) -> None:
        """What libvirt demands of a snapshot given back with --redefine (its parser's
        REDEFINE flag): everything a taken snapshot records about itself."""
        if self.name is None:
            raise XMLError("a redefined snapshot must have a name")
        if self.state is None:
            raise XMLError("missing state from existing snapshot")
        if self.creation_time is None:
            raise QvirtError("missing creationTime from existing snapshot")
        if self.domain is None:
            raise QvirtError("missing domain in snapshot")
