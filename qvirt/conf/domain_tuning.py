"""Host resource tuning: <blkiotune>, <memtune>, <memoryBacking>, <cputune>, <numatune>,
<resource> and <iothreadids>. These shape how the host runs QEMU, not what the guest sees."""

from __future__ import annotations

from qvirt.conf.domain_units import CpuSet, Scaled
from qvirt.conf.xmlobject import Attr, Child, Choice, Flag, Int, UInt, XMLObject
from qvirt.errors import ConfigUnsupported, XMLError

# cputune's period and quota limits (virDomainDefCputuneValidate).
PERIOD_MIN, PERIOD_MAX = 1000, 1000000
QUOTA_MIN, QUOTA_MAX = 1000, 17592186044415


class BlkioDevice(XMLObject):
    TAG = "device"
    ORDER = ("path", "weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec",
             "write_bytes_sec")
    path = Attr("path")
    weight = Attr("weight", UInt)
    read_iops_sec = Attr("read_iops_sec", UInt)
    write_iops_sec = Attr("write_iops_sec", UInt)
    read_bytes_sec = Attr("read_bytes_sec", UInt)
    write_bytes_sec = Attr("write_bytes_sec", UInt)


class Blkiotune(XMLObject):
    TAG = "blkiotune"
    ORDER = ("weight", "devices")
    weight = Attr("weight", UInt)
    devices = Child(BlkioDevice, single=False)


class Memtune(XMLObject):
    TAG = "memtune"
    ORDER = ("hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit")
    hard_limit = Scaled("hard_limit")
    soft_limit = Scaled("soft_limit")
    min_guarantee = Scaled("min_guarantee")
    swap_hard_limit = Scaled("swap_hard_limit")


class HugePage(XMLObject):
    TAG = "page"
    ORDER = ("size", "nodeset")
    size = Scaled("@size")
    nodeset = Attr("@nodeset", CpuSet)


class MemoryBacking(XMLObject):
    TAG = "memoryBacking"
    ORDER = ("hugepages", "pages", "nosharepages", "locked", "source", "access",
             "allocation", "allocation_threads", "discard")
    hugepages = Flag("hugepages")
    pages = Child(HugePage, single=False, path="hugepages")
    nosharepages = Flag("nosharepages")
    locked = Flag("locked")
    source = Attr("source/@type", Choice("file", "anonymous", "memfd"))
    access = Attr("access/@mode", Choice("shared", "private"))
    allocation = Attr("allocation/@mode", Choice("immediate", "ondemand"))
    allocation_threads = Attr("allocation/@threads", UInt)
    discard = Flag("discard")


class VcpuPin(XMLObject):
    TAG = "vcpupin"
    ORDER = ("vcpu", "cpuset")
    vcpu = Attr("@vcpu", UInt, required=True)
    cpuset = Attr("@cpuset", CpuSet, required=True)


class IOThreadPin(XMLObject):
    TAG = "iothreadpin"
    ORDER = ("iothread", "cpuset")
    iothread = Attr("@iothread", UInt, required=True)
    cpuset = Attr("@cpuset", CpuSet, required=True)


SCHEDULERS = Choice("batch", "idle", "fifo", "rr")


class VcpuSched(XMLObject):
    """libvirt keeps one scheduler per vCPU and writes one element per vCPU: a range given on
    input comes back split (see Cputune.post_parse)."""

    TAG = "vcpusched"
    ORDER = ("vcpus", "scheduler", "priority")
    vcpus = Attr("@vcpus", CpuSet, required=True)
    scheduler = Attr("@scheduler", SCHEDULERS, required=True)
    priority = Attr("@priority", Int)


class IOThreadSched(XMLObject):
    TAG = "iothreadsched"
    ORDER = ("iothreads", "scheduler", "priority")
    iothreads = Attr("@iothreads", CpuSet, required=True)
    scheduler = Attr("@scheduler", SCHEDULERS, required=True)
    priority = Attr("@priority", Int)


class EmulatorSched(XMLObject):
    TAG = "emulatorsched"
    ORDER = ("scheduler", "priority")
    scheduler = Attr("@scheduler", SCHEDULERS, required=True)
    priority = Attr("@priority", Int)


def _split_sched(items: list[VcpuSched] | list[IOThreadSched], attr: str) -> list[object]:
    """One element per thread id, in id order, as libvirt stores and writes them."""
    out: dict[int, object] = {}
    for item in items:
        for ident in sorted(getattr(item, attr)):
            single = item.copy()
            setattr(single, attr, frozenset({ident}))
            out[ident] = single
    return [out[i] for i in sorted(out)]


class Cputune(XMLObject):
    TAG = "cputune"
    ORDER = ("shares", "period", "quota", "global_period", "global_quota", "emulator_period",
             "emulator_quota", "iothread_period", "iothread_quota", "vcpupins", "emulatorpin",
             "iothreadpins", "emulatorsched", "vcpuscheds", "iothreadscheds")
    shares = Attr("shares", UInt)
    period = Attr("period", UInt)
    quota = Attr("quota", Int)
    global_period = Attr("global_period", UInt)
    global_quota = Attr("global_quota", Int)
    emulator_period = Attr("emulator_period", UInt)
    emulator_quota = Attr("emulator_quota", Int)
    iothread_period = Attr("iothread_period", UInt)
    iothread_quota = Attr("iothread_quota", Int)
    vcpupins = Child(VcpuPin, single=False)
    emulatorpin = Attr("emulatorpin/@cpuset", CpuSet)
    iothreadpins = Child(IOThreadPin, single=False)
    vcpuscheds = Child(VcpuSched, single=False)
    iothreadscheds = Child(IOThreadSched, single=False)
    emulatorsched = Child(EmulatorSched)

    def post_parse(self) -> None:
        for name in ("period", "global_period", "emulator_period", "iothread_period"):
            value = getattr(self, name)
            if value is not None and value != 0 and not PERIOD_MIN <= value <= PERIOD_MAX:
                raise ConfigUnsupported(f"Value of cputune '{name}' must be in range "
                                        f"[{PERIOD_MIN}, {PERIOD_MAX}]")
        for name in ("quota", "global_quota", "emulator_quota", "iothread_quota"):
            value = getattr(self, name)
            if value is not None and value > 0 and not QUOTA_MIN <= value <= QUOTA_MAX:
                raise ConfigUnsupported(f"Value of cputune '{name}' must be in range "
                                        f"[{QUOTA_MIN}, {QUOTA_MAX}]")
        self.vcpupins = sorted(self.vcpupins, key=lambda p: p.vcpu)
        self.vcpuscheds = _split_sched(self.vcpuscheds, "vcpus")
        self.iothreadscheds = _split_sched(self.iothreadscheds, "iothreads")


class NumaMemory(XMLObject):
    TAG = "memory"
    ORDER = ("mode", "nodeset", "placement")
    mode = Attr("@mode", Choice("strict", "preferred", "interleave", "restrictive"))
    nodeset = Attr("@nodeset", CpuSet)
    placement = Attr("@placement", Choice("static", "auto"))


class MemNode(XMLObject):
    TAG = "memnode"
    ORDER = ("cellid", "mode", "nodeset")
    cellid = Attr("@cellid", UInt, required=True)
    mode = Attr("@mode", Choice("strict", "preferred", "interleave", "restrictive"))
    nodeset = Attr("@nodeset", CpuSet)


class Numatune(XMLObject):
    TAG = "numatune"
    ORDER = ("memory", "memnodes")
    memory = Child(NumaMemory)
    memnodes = Child(MemNode, single=False)


class Resource(XMLObject):
    TAG = "resource"
    ORDER = ("partition", "fibrechannel")
    partition = Attr("partition")
    fibrechannel = Attr("fibrechannel/@appid")


class IOThreadID(XMLObject):
    TAG = "iothread"
    ORDER = ("id",)
    id = Attr("@id", UInt, required=True)

    def post_parse(self) -> None:
        if self.id == 0:
            raise XMLError("Invalid value for attribute 'id' in element 'iothread': "
                           "Zero is not permitted")
