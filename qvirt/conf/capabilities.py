"""The <capabilities> document (capabilities.c): what the host is and which guests it runs.
qvirt's driver builds it from host facts; this model reads and writes libvirt's layout."""

from __future__ import annotations

from typing import Any, Self

from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Field,
    Flag,
    Int,
    ParseContext,
    UInt,
    XMLObject,
    YesNo,
)
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ErrorDomain


class NamedElement(XMLObject):
    """An element whose tag is its value (<pae/>, <acpi default='on' toggle='yes'/>)."""

    TAG = "*"
    ORDER = ("default", "toggle")
    default = Attr("@default")
    toggle = Attr("@toggle")

    def __init__(self, name: str = "", **values: Any) -> None:
        super().__init__(**values)
        self.name = name

    def to_node(self) -> Node:
        node = super().to_node()
        node.tag = self.name
        return node

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedElement) and other.name == self.name and super().__eq__(
            other)

    __hash__ = None


class NamedElements(Field):
    """Every child of a container element, each kept with its tag as its name (guest
    features, the host CPU's old-style <features>). The container is left out when empty."""

    def __init__(self, path: str) -> None:
        self.path = path

    def default(self) -> list[NamedElement]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[NamedElement]:
        box = next(node.iterchildren(self.path), None)
        if box is None:
            return []
        ctx.element(box)
        items = []
        for child in box:
            if isinstance(child.tag, str):
                item = NamedElement.from_element(child, ctx)
                item.name = child.tag
                items.append(item)
        return items

    def format(self, value: Any, node: Node) -> None:
        if value:
            node.child(self.path).children.extend(v.to_node() for v in value)


class Counter(XMLObject):
    TAG = "counter"
    ORDER = ("name", "frequency", "scaling")
    name = Attr("@name")
    frequency = Attr("@frequency", UInt)
    scaling = Attr("@scaling", YesNo)


class HostPages(XMLObject):
    TAG = "pages"
    ORDER = ("unit", "size", "count")
    unit = Attr("@unit")
    size = Attr("@size", UInt)
    # Free pages of a NUMA cell; the CPU's list of page sizes has no text.
    count = Attr(".")

    def post_parse(self) -> None:
        self.count = int(self.count) if self.count else None


class HostCPU(XMLObject):
    """The host CPU as libvirt detected it: features are plain names, with no policy."""

    TAG = "cpu"
    ORDER = ("arch", "old_features", "model", "vendor", "microcode", "sig_family",
             "sig_model", "sig_stepping", "counter", "sockets", "dies", "cores", "threads",
             "maxphysaddr_mode", "maxphysaddr_bits", "features", "pages")
    arch = Attr("arch")
    old_features = NamedElements("features")
    model = Attr("model")
    vendor = Attr("vendor")
    microcode = Attr("microcode/@version", UInt)
    sig_family = Attr("signature/@family", UInt)
    sig_model = Attr("signature/@model", UInt)
    sig_stepping = Attr("signature/@stepping", UInt)
    counter = Child(Counter)
    sockets = Attr("topology/@sockets", UInt)
    dies = Attr("topology/@dies", UInt)
    cores = Attr("topology/@cores", UInt)
    threads = Attr("topology/@threads", UInt)
    maxphysaddr_mode = Attr("maxphysaddr/@mode")
    maxphysaddr_bits = Attr("maxphysaddr/@bits", UInt)
    features = Attr("feature/@name", multi=True)
    pages = Child(HostPages, single=False)


class PowerManagement(XMLObject):
    TAG = "power_management"
    KEEP_EMPTY = True
    ORDER = ("suspend_mem", "suspend_disk", "suspend_hybrid")
    suspend_mem = Flag("suspend_mem")
    suspend_disk = Flag("suspend_disk")
    suspend_hybrid = Flag("suspend_hybrid")


class MigrationFeatures(XMLObject):
    TAG = "migration_features"
    KEEP_EMPTY = True
    ORDER = ("live", "uri_transports")
    live = Flag("live")
    uri_transports = Attr("uri_transports/uri_transport", multi=True)


class Sibling(XMLObject):
    TAG = "sibling"
    ORDER = ("id", "value")
    id = Attr("@id", UInt)
    value = Attr("@value", UInt)


class CellCPU(XMLObject):
    TAG = "cpu"
    ORDER = ("id", "socket_id", "die_id", "core_id", "siblings")
    id = Attr("@id", UInt)
    socket_id = Attr("@socket_id", Int)
    die_id = Attr("@die_id", Int)
    core_id = Attr("@core_id", Int)
    siblings = Attr("@siblings")


class CacheSize(XMLObject):
    TAG = "size"
    ORDER = ("value", "unit")
    value = Attr("@value", UInt)
    unit = Attr("@unit")


class NumaCache(XMLObject):
    """A memory-side cache of a NUMA cell (HMAT)."""

    TAG = "cache"
    ORDER = ("level", "associativity", "policy", "size_value", "size_unit", "line_value",
             "line_unit")
    level = Attr("@level", UInt)
    associativity = Attr("@associativity")
    policy = Attr("@policy")
    size_value = Attr("size/@value", UInt)
    size_unit = Attr("size/@unit")
    line_value = Attr("line/@value", UInt)
    line_unit = Attr("line/@unit")


class HostCell(XMLObject):
    TAG = "cell"
    ORDER = ("id", "memory_unit", "memory", "pages", "distances", "caches", "cpus_num",
             "cpus")
    id = Attr("@id", UInt)
    memory_unit = Attr("memory/@unit")
    memory = Attr("memory", UInt)
    pages = Child(HostPages, single=False)
    distances = Child(Sibling, single=False, path="distances")
    caches = Child(NumaCache, single=False)
    cpus_num = Attr("cpus/@num", UInt)
    cpus = Child(CellCPU, single=False, path="cpus")


class Interconnect(XMLObject):
    TAG = "*"
    ORDER = ("initiator", "target", "cache", "type", "value", "unit")
    initiator = Attr("@initiator", UInt)
    target = Attr("@target", UInt)
    cache = Attr("@cache", UInt)
    type = Attr("@type")
    value = Attr("@value", UInt)
    unit = Attr("@unit")


class Latency(Interconnect):
    TAG = "latency"


class Bandwidth(Interconnect):
    TAG = "bandwidth"


class HostTopology(XMLObject):
    TAG = "topology"
    ORDER = ("cells_num", "cells", "latencies", "bandwidths")
    cells_num = Attr("cells/@num", UInt)
    cells = Child(HostCell, single=False, path="cells")
    latencies = Child(Latency, single=False, path="interconnects")
    bandwidths = Child(Bandwidth, single=False, path="interconnects")


class CacheControl(XMLObject):
    TAG = "control"
    ORDER = ("granularity", "min", "unit", "type", "max_allocs")
    granularity = Attr("@granularity", UInt)
    min = Attr("@min", UInt)
    unit = Attr("@unit")
    type = Attr("@type")
    max_allocs = Attr("@maxAllocs", UInt)


class CacheBank(XMLObject):
    TAG = "bank"
    ORDER = ("id", "level", "type", "size", "unit", "cpus", "controls")
    id = Attr("@id", UInt)
    level = Attr("@level", UInt)
    type = Attr("@type")
    size = Attr("@size", UInt)
    unit = Attr("@unit")
    cpus = Attr("@cpus")
    controls = Child(CacheControl, single=False)


class Monitor(XMLObject):
    TAG = "monitor"
    ORDER = ("level", "reuse_threshold", "max_monitors", "features")
    level = Attr("@level", UInt)
    reuse_threshold = Attr("@reuseThreshold", UInt)
    max_monitors = Attr("@maxMonitors", UInt)
    features = Attr("feature/@name", multi=True)


class HostCache(XMLObject):
    TAG = "cache"
    ORDER = ("banks", "monitor")
    banks = Child(CacheBank, single=False)
    monitor = Child(Monitor)


class BandwidthControl(XMLObject):
    TAG = "control"
    ORDER = ("granularity", "min", "max_allocs")
    granularity = Attr("@granularity", UInt)
    min = Attr("@min", UInt)
    max_allocs = Attr("@maxAllocs", UInt)


class BandwidthNode(XMLObject):
    TAG = "node"
    ORDER = ("id", "cpus", "control")
    id = Attr("@id", UInt)
    cpus = Attr("@cpus")
    control = Child(BandwidthControl)


class MemoryBandwidth(XMLObject):
    TAG = "memory_bandwidth"
    ORDER = ("nodes", "monitor")
    nodes = Child(BandwidthNode, single=False)
    monitor = Child(Monitor)


class BaseLabel(XMLObject):
    TAG = "baselabel"
    ORDER = ("type", "label")
    type = Attr("@type")
    label = Attr(".")


class SecModel(XMLObject):
    TAG = "secmodel"
    ORDER = ("model", "doi", "baselabels")
    model = Attr("model")
    doi = Attr("doi")
    baselabels = Child(BaseLabel, single=False)


class Host(XMLObject):
    TAG = "host"
    ORDER = ("uuid", "cpu", "power_management", "iommu", "migration_features", "netprefix",
             "topology", "cache", "memory_bandwidth", "secmodels")
    uuid = Attr("uuid")
    cpu = Child(HostCPU)
    power_management = Child(PowerManagement)
    iommu = Attr("iommu/@support", YesNo)
    migration_features = Child(MigrationFeatures)
    netprefix = Attr("netprefix")
    topology = Child(HostTopology)
    cache = Child(HostCache)
    memory_bandwidth = Child(MemoryBandwidth)
    secmodels = Child(SecModel, single=False)


class Machine(XMLObject):
    TAG = "machine"
    ORDER = ("canonical", "max_cpus", "deprecated", "name")
    canonical = Attr("@canonical")
    max_cpus = Attr("@maxCpus", Int)
    deprecated = Attr("@deprecated", YesNo)
    name = Attr(".")

    def post_parse(self) -> None:
        if self.deprecated is False:
            self.deprecated = None


class GuestDomain(XMLObject):
    """A virtualization type a guest arch runs under, with its own emulator if it differs."""

    TAG = "domain"
    ORDER = ("type", "emulator", "loader", "machines")
    type = Attr("@type")
    emulator = Attr("emulator")
    loader = Attr("loader")
    machines = Child(Machine, single=False)


class Guest(XMLObject):
    TAG = "guest"
    ORDER = ("os_type", "arch", "wordsize", "emulator", "loader", "machines", "domains",
             "features")
    os_type = Attr("os_type")
    arch = Attr("arch/@name")
    wordsize = Attr("arch/wordsize", Int)
    emulator = Attr("arch/emulator")
    loader = Attr("arch/loader")
    machines = Child(Machine, single=False, path="arch")
    domains = Child(GuestDomain, single=False, path="arch")
    features = NamedElements("features")


class Enum(XMLObject):
    TAG = "enum"
    ORDER = ("name", "values")
    name = Attr("@name")
    values = Attr("value", multi=True)


class Capabilities(XMLObject):
    ERROR_DOMAIN = ErrorDomain.CAPABILITIES
    SCHEMA = "capability"
    TAG = "capabilities"
    ORDER = ("host", "guests", "pool_types")
    host = Child(Host)
    guests = Child(Guest, single=False)
    pool_types = Child(Enum, path="pool")

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(capabilities)")

    def to_xml(self) -> str:
        """libvirt follows the opening tag and each top-level section with a blank line."""
        lines = self.to_node().to_string().splitlines(keepends=True)
        out = []
        for line in lines:
            out.append(line)
            if line in ("<capabilities>\n", "  </host>\n", "  </guest>\n", "  </pool>\n"):
                out.append("\n")
        return "".join(out)
