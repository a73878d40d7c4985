"""<cpu>: the guest CPU model, its topology and features, and the guest NUMA cells."""

from __future__ import annotations

from qvirt.conf.domain_units import CpuSet, Scaled, Strict
from qvirt.conf.xmlobject import Attr, Child, Choice, OnOff, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, XMLError

LOCAL_DISTANCE = 10
CPU_MODES = Choice("custom", "host-model", "host-passthrough", "maximum")


class Model(XMLObject):
    TAG = "model"
    ORDER = ("fallback", "vendor_id", "name")
    fallback = Attr("@fallback", Choice("allow", "forbid"))
    vendor_id = Attr("@vendor_id")
    name = Attr(".")

    def post_parse(self) -> None:
        if not self.name:
            self.name = None
        if self.vendor_id is not None and len(self.vendor_id) != 12:
            raise XMLError("vendor_id must be exactly 12 characters long")


class Topology(XMLObject):
    TAG = "topology"
    ORDER = ("sockets", "dies", "cores", "threads")
    sockets = Attr("@sockets", UInt)
    dies = Attr("@dies", UInt)
    cores = Attr("@cores", UInt)
    threads = Attr("@threads", UInt)

    def post_parse(self) -> None:
        for name in ("sockets", "dies", "cores", "threads"):
            if getattr(self, name) == 0:
                raise XMLError(f"Invalid value for attribute '{name}' in element 'topology': "
                               "Zero is not permitted")
        # Dies came later than the other three: an absent one means a single die.
        if self.dies is None:
            self.dies = 1

    def vcpus(self) -> int:
        return int(self.sockets or 1) * int(self.dies) * int(self.cores or 1) * int(
            self.threads or 1)


class Cache(XMLObject):
    TAG = "cache"
    ORDER = ("level", "mode")
    level = Attr("@level", UInt)
    mode = Attr("@mode", Choice("emulate", "passthrough", "disable"), required=True)


class MaxPhysAddr(XMLObject):
    TAG = "maxphysaddr"
    ORDER = ("mode", "bits")
    mode = Attr("@mode", Choice("emulate", "passthrough"), required=True)
    bits = Attr("@bits", UInt)


class Feature(XMLObject):
    TAG = "feature"
    ORDER = ("policy", "name")
    policy = Attr("@policy", Choice("force", "require", "optional", "disable", "forbid"))
    name = Attr("@name")

    def post_parse(self) -> None:
        # A guest CPU feature without a policy is a required one.
        if self.policy is None:
            self.policy = "require"


class Sibling(XMLObject):
    TAG = "sibling"
    ORDER = ("id", "value")
    id = Attr("@id", UInt, required=True)
    value = Attr("@value", UInt, required=True)


class Cell(XMLObject):
    TAG = "cell"
    ORDER = ("id", "cpus", "memory", "mem_access", "discard", "distances")
    id = Attr("@id", UInt)
    cpus = Attr("@cpus", CpuSet)
    memory = Scaled("@memory")
    mem_access = Attr("@memAccess", Choice("shared", "private"))
    discard = Attr("@discard", YesNo)
    distances = Child(Sibling, single=False, path="distances")

    def post_parse(self) -> None:
        if self.memory is None:
            raise XMLError("missing element or attribute './@memory'")


class Numa(XMLObject):
    TAG = "numa"
    ORDER = ("cells",)
    cells = Child(Cell, single=False)

    def post_parse(self) -> None:
        for index, cell in enumerate(self.cells):
            if cell.id is None:
                cell.id = index
        self._complete_distances()

    def _complete_distances(self) -> None:
        """Fill the matrix as libvirt does once any cell names a distance: each cell is at
        LOCAL_DISTANCE from itself, and a distance given one way holds the other way too."""
        count = len(self.cells)
        if not any(cell.distances for cell in self.cells):
            return
        matrix = [[0] * count for _ in range(count)]
        for cell in self.cells:
            row = matrix[cell.id]
            if row[cell.id] == 0:
                row[cell.id] = LOCAL_DISTANCE
            for sib in cell.distances:
                if sib.id >= count:
                    continue
                row[sib.id] = sib.value
                if matrix[sib.id][cell.id] == 0:
                    matrix[sib.id][cell.id] = sib.value
                if matrix[sib.id][sib.id] == 0:
                    matrix[sib.id][sib.id] = LOCAL_DISTANCE
        for cell in self.cells:
            row = matrix[cell.id]
            cell.distances = [Sibling(id=i, value=v) for i, v in enumerate(row) if v]


class CPU(XMLObject):
    TAG = "cpu"
    ORDER = ("mode", "match", "check", "migratable", "model", "vendor", "topology", "cache",
             "maxphysaddr", "features", "numa")
    mode = Attr("@mode", Strict(CPU_MODES, lambda text: ConfigUnsupported(
        f"Invalid mode attribute '{text}'")))
    match = Attr("@match", Choice("minimum", "exact", "strict"))
    check = Attr("@check", Choice("none", "partial", "full"))
    migratable = Attr("@migratable", OnOff)
    model = Child(Model)
    vendor = Attr("vendor")
    topology = Child(Topology)
    cache = Child(Cache)
    maxphysaddr = Child(MaxPhysAddr)
    features = Child(Feature, single=False)
    numa = Child(Numa)

    def post_parse(self) -> None:
        named = self.model is not None and bool(self.model.name)
        if self.vendor is not None and not named:
            raise XMLError("CPU vendor specified without CPU model")
        if self.features and not named and self.mode in (None, "custom"):
            raise XMLError("Non-empty feature list specified without CPU model")
        if self.numa is not None and not self.numa.cells:
            self.numa = None
