"""The <domain> document: identity, memory and vCPU sizing, and the top-level sections in
libvirt's output order (virDomainDefFormatInternal). Each section's classes live in a module of
their own (domain_os, domain_cpu, domain_tuning, domain_features, domain_clock,
domain_security, domain_qemu); <devices> belongs to qvirt.conf.devices."""

from __future__ import annotations

from qvirt.conf.devices import Devices
from qvirt.conf.domain_clock import Clock
from qvirt.conf.domain_cpu import CPU
from qvirt.conf.domain_features import Features
from qvirt.conf.domain_os import OS, Sysinfo
from qvirt.conf.domain_qemu import NAMESPACE, PREFIX, Capabilities, Commandline, Deprecation
from qvirt.conf.domain_security import KeyWrap, SecLabel
from qvirt.conf.domain_tuning import (
    Blkiotune,
    Cputune,
    IOThreadID,
    MemoryBacking,
    Memtune,
    Numatune,
    Resource,
)
from qvirt.conf.domain_units import CpuSet, Scaled, Strict
from qvirt.conf.xmlobject import UUID, Attr, Child, Choice, OnOff, Raw, UInt, XMLObject, YesNo
from qvirt.conf.xmltree import Node
from qvirt.errors import (
    ConfigUnsupported,
    ErrorDomain,
    ErrorNumber,
    InternalError,
    QvirtError,
    XMLDetail,
    XMLError,
)

VIRT_TYPES = ("qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware",
              "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "none")
LIFECYCLE = ("destroy", "restart", "rename-restart", "preserve")
CRASH = (*LIFECYCLE, "coredump-destroy", "coredump-restart")


def _lifecycle(event: str, actions: tuple[str, ...]) -> Strict[str]:
    return Strict(Choice(*actions), lambda text: ConfigUnsupported(
        f"unknown on_{event} action: {text}"))


class VcpuState(XMLObject):
    """One vCPU in <vcpus>: whether it is online at start and hot-pluggable."""

    TAG = "vcpu"
    ORDER = ("id", "enabled", "hotpluggable", "order")
    id = Attr("@id", UInt, required=True)
    enabled = Attr("@enabled", YesNo, required=True)
    hotpluggable = Attr("@hotpluggable", YesNo)
    order = Attr("@order", UInt)


class PerfEvent(XMLObject):
    TAG = "event"
    ORDER = ("name", "enabled")
    name = Attr("@name", required=True)
    enabled = Attr("@enabled", YesNo, required=True)


class Domain(XMLObject):
    ERROR_DOMAIN = ErrorDomain.DOMAIN
    TAG = "domain"
    ORDER = (
        "type", "id", "name", "uuid", "genid", "title", "description", "metadata",
        "max_memory_slots", "max_memory", "memory_dump_core", "memory", "current_memory",
        "blkiotune", "memtune", "memory_backing", "vcpu_placement", "vcpu_cpuset",
        "vcpu_current", "vcpu", "vcpus", "iothreads", "iothreadids", "cputune", "numatune",
        "resource", "sysinfo", "bootloader", "bootloader_args", "os", "features", "cpu",
        "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "suspend_to_mem",
        "suspend_to_disk", "perf", "devices", "seclabels", "keywrap", "qemu_commandline",
        "qemu_capabilities", "qemu_deprecation",
    )
    type = Attr("@type")
    # Only a running domain has an id; a definition drops it (post_parse).
    id = Attr("@id")
    name = Attr("name")
    uuid = Attr("uuid", Strict(UUID, lambda _: InternalError("malformed uuid element")))
    genid = Attr("genid")
    title = Attr("title")
    description = Attr("description")
    metadata = Raw("metadata")
    max_memory_slots = Attr("maxMemory/@slots", UInt)
    max_memory = Scaled("maxMemory")
    memory_dump_core = Attr("memory/@dumpCore", OnOff)
    memory = Scaled("memory")
    current_memory = Scaled("currentMemory")
    blkiotune = Child(Blkiotune)
    memtune = Child(Memtune)
    memory_backing = Child(MemoryBacking)
    vcpu_placement = Attr("vcpu/@placement", Choice("static", "auto"))
    vcpu_cpuset = Attr("vcpu/@cpuset", CpuSet)
    vcpu_current = Attr("vcpu/@current", UInt)
    vcpu = Attr("vcpu", Strict(UInt, lambda _: XMLError(
        "maximum vcpus count must be an integer")))
    vcpus = Child(VcpuState, single=False, path="vcpus")
    iothreads = Attr("iothreads", Strict(UInt, lambda text: XMLError(
        f"invalid iothreads count '{text}'")))
    iothreadids = Child(IOThreadID, single=False, path="iothreadids")
    cputune = Child(Cputune)
    numatune = Child(Numatune)
    resource = Child(Resource)
    sysinfo = Child(Sysinfo, single=False)
    bootloader = Attr("bootloader")
    bootloader_args = Attr("bootloader_args")
    os = Child(OS)
    features = Child(Features)
    cpu = Child(CPU)
    clock = Child(Clock)
    on_poweroff = Attr("on_poweroff", _lifecycle("poweroff", CRASH))
    on_reboot = Attr("on_reboot", _lifecycle("reboot", CRASH))
    on_crash = Attr("on_crash", _lifecycle("crash", CRASH))
    on_lockfailure = Attr("on_lockfailure", _lifecycle(
        "lockfailure", ("poweroff", "restart", "pause", "ignore")))
    suspend_to_mem = Attr("pm/suspend-to-mem/@enabled", YesNo)
    suspend_to_disk = Attr("pm/suspend-to-disk/@enabled", YesNo)
    perf = Child(PerfEvent, single=False, path="perf")
    devices = Child(Devices)
    seclabels = Child(SecLabel, single=False)
    keywrap = Child(KeyWrap)
    qemu_commandline = Child(Commandline)
    qemu_capabilities = Child(Capabilities)
    qemu_deprecation = Child(Deprecation)

    def post_parse(self) -> None:
        self.id = None
        if self.type is None:
            raise InternalError("missing domain type attribute")
        if self.type not in VIRT_TYPES:
            raise ConfigUnsupported(f"invalid domain type {self.type}")
        if not self.name:
            raise QvirtError(code=ErrorNumber.NO_NAME)
        if "/" in self.name:
            raise XMLError(f"name {self.name} cannot contain '/'")
        if self.title is not None and "\n" in self.title:
            raise XMLError("Domain title can't contain newlines")
        # Empty text is no text: libvirt writes neither element back.
        self.title = self.title or None
        self.description = self.description or None
        if self.genid is not None:
            self.genid = self._parse_genid(self.genid)
        if self.os is None:
            raise XMLError("an os <type> must be specified")
        self._check_memory()
        self._check_vcpus()
        self._check_sysinfo_uuid()
        self._complete_iothreads()
        if self.cputune is not None:
            self._check_vcpupins(self.cputune)
        for event in ("poweroff", "reboot"):
            # Only a crash can dump core: the other events share its parser, not its actions.
            action = getattr(self, f"on_{event}")
            if action is not None and action not in LIFECYCLE:
                raise ConfigUnsupported(
                    f"Lifecycle event '{event}' doesn't support '{action}' action")

    @staticmethod
    def _parse_genid(text: str) -> str:
        """An empty <genid/> asks for a generated one (defaults); otherwise a UUID."""
        if not text.strip():
            return ""
        try:
            return UUID.parse(text)
        except ValueError:
            raise InternalError("malformed genid element") from None

    def _check_memory(self) -> None:
        numa_total = sum(c.memory for c in self.cpu.numa.cells) if (
            self.cpu is not None and self.cpu.numa is not None) else 0
        if numa_total:
            # With guest NUMA cells the initial memory is their sum, whatever <memory> said,
            # and <memory> prints the total: that plus every memory device (hotplug DIMMs).
            hotplug = sum(m.target.size or 0 for m in self.devices.memories
                          if m.target is not None) if self.devices is not None else 0
            self.memory = numa_total + hotplug
        if not self.memory:
            raise XMLError("Memory size must be specified via <memory> or in the <numa> "
                           "configuration")
        if self.current_memory is None or self.current_memory > self.memory:
            self.current_memory = self.memory

    def _check_vcpus(self) -> None:
        if self.vcpu is None:
            self.vcpu = 1
        if self.vcpu == 0:
            raise InternalError("CPU IDs in <numa> exceed the <vcpu> count")
        if self.vcpu_current is not None:
            if self.vcpu_current > self.vcpu:
                raise ConfigUnsupported(
                    "maximum vCPU count must not be less than current vCPU count")
            if self.vcpu_current == self.vcpu:
                self.vcpu_current = None
        numa = self.cpu.numa if self.cpu is not None else None
        if numa is not None and sum(len(c.cpus or ()) for c in numa.cells) > self.vcpu:
            raise InternalError("Number of CPUs in <numa> exceeds the <vcpu> count")
        topology = self.cpu.topology if self.cpu is not None else None
        if topology is not None and topology.vcpus() != self.vcpu:
            raise ConfigUnsupported("CPU topology doesn't match maximum vcpu count")
        if self.vcpu_placement is None:
            self.vcpu_placement = "static"
        if self.vcpu_placement == "auto":
            # Automatic placement comes from numad; a cpuset given with it is ignored.
            self.vcpu_cpuset = None

    def _complete_iothreads(self) -> None:
        """The count covers every listed id; ids missing up to the count are numbered from 1,
        skipping those in use, and appended."""
        count = max(self.iothreads or 0, len(self.iothreadids))
        if not count:
            return
        self.iothreads = count
        if not self.iothreadids:
            return
        used = {t.id for t in self.iothreadids}
        candidate = 1
        while len(self.iothreadids) < count:
            if candidate not in used:
                self.iothreadids.append(IOThreadID(id=candidate))
                used.add(candidate)
            candidate += 1

    def _check_vcpupins(self, tune: Cputune) -> None:
        seen: set[int] = set()
        for pin in tune.vcpupins:
            if pin.vcpu in seen:
                raise InternalError(f"duplicate vcpupin for vcpu '{pin.vcpu}'")
            seen.add(pin.vcpu)
        # Pins of vCPUs the domain does not have are dropped.
        tune.vcpupins = [p for p in tune.vcpupins if p.vcpu < int(self.vcpu)]

    def _check_sysinfo_uuid(self) -> None:
        for info in self.sysinfo:
            system_uuid = info.system.get("uuid") if info.system is not None else None
            if system_uuid is None:
                continue
            try:
                parsed = UUID.parse(system_uuid)
            except ValueError:
                raise XMLError("malformed <sysinfo> uuid element") from None
            if self.uuid is None:
                self.uuid = parsed
            elif self.uuid != parsed:
                raise XMLDetail("UUID mismatch between <uuid> and <sysinfo>")

    def to_node(self) -> Node:
        node = super().to_node()
        if self.qemu_commandline or self.qemu_capabilities or self.qemu_deprecation:
            node.attrs[f"xmlns:{PREFIX}"] = NAMESPACE
        return node
