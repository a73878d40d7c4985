"""What a QEMU binary can do (libvirt's qemu_capabilities.c): probed once over QMP, kept on disk
until the binary or the host's KVM access changes, and turned into the facts defaults need and
the <capabilities> document.

A ``QemuCaps`` is built only from the raw QMP replies, whether they come fresh from the probe,
from the disk cache or from recorded test data, so one parser serves all three.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import qvirt
from qvirt.conf.capabilities import (
    Capabilities,
    Guest,
    GuestDomain,
    Host,
    HostCPU,
    Machine,
    MigrationFeatures,
    NamedElement,
    PowerManagement,
)
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.drivers.node import hostinfo
from qvirt.drivers.qemu import caps_arch, caps_probe, cpu_x86
from qvirt.drivers.qemu.caps_domcaps import domain_capabilities
from qvirt.errors import ConfigUnsupported, ErrorDomain, ErrorNumber, InvalidArg, QvirtError

# The architectures libvirt's CPU map covers (its x86 map), whose CPU models it filters.
MAPPED_ARCHES = frozenset({"x86_64", "i686"})

# Guest <features> per arch (virQEMUCapsInitGuestFromBinary): (name, default, toggle).
GUEST_FEATURES: dict[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "i686": (("pae", None, None), ("nonpae", None, None), ("acpi", "on", "yes"),
             ("apic", "on", "no"), ("cpuselection", None, None), ("deviceboot", None, None),
             ("disksnapshot", "on", "no")),
    "x86_64": (("acpi", "on", "yes"), ("apic", "on", "no"), ("cpuselection", None, None),
               ("deviceboot", None, None), ("disksnapshot", "on", "no")),
}
_OTHER_FEATURES = (("cpuselection", None, None), ("deviceboot", None, None),
                   ("disksnapshot", "on", "no"))

# Migration transports every QEMU build offers (libvirt lists rdma when built with it).
MIGRATION_TRANSPORTS = ("tcp", "rdma")

# Bumped whenever what is probed changes, so older cache files are probed again.
CACHE_FORMAT = 1


@dataclass(frozen=True)
class MachineType:
    """One query-machines entry; the command line needs the last three (the RAM backend's id
    that keeps migration compatible, and whether vCPUs and NUMA memory are configurable)."""

    name: str
    alias: str | None
    max_cpus: int
    deprecated: bool
    is_default: bool
    default_cpu_type: str | None
    default_ram_id: str | None = None
    hotpluggable_cpus: bool = False
    numa_mem_supported: bool = False


@dataclass(frozen=True)
class CpuModel:
    name: str
    usable: bool
    deprecated: bool


def _ok(replies: Mapping[str, Any], key: str) -> Any:
    """A reply's "return", or None when the command failed or was not asked."""
    reply = replies.get(key) or {}
    return reply.get("return")


def _machines(replies: Mapping[str, Any]) -> tuple[MachineType, ...]:
    """query-machines with the default machine first, as libvirt orders them."""
    found = [MachineType(name=m["name"], alias=m.get("alias"), max_cpus=int(m.get("cpu-max", 1)),
                         deprecated=bool(m.get("deprecated", False)),
                         is_default=bool(m.get("is-default", False)),
                         default_cpu_type=m.get("default-cpu-type"),
                         default_ram_id=m.get("default-ram-id"),
                         hotpluggable_cpus=bool(m.get("hotpluggable-cpus", False)),
                         numa_mem_supported=bool(m.get("numa-mem-supported", False)))
             for m in _ok(replies, "query-machines") or []
             if m["name"] != "none"]
    return tuple(sorted(found, key=lambda m: not m.is_default))


def _cpu_models(replies: Mapping[str, Any]) -> tuple[CpuModel, ...]:
    return tuple(CpuModel(name=c["name"], usable=not c.get("unavailable-features"),
                          deprecated=bool(c.get("deprecated", False)))
                 for c in _ok(replies, "query-cpu-definitions") or [])


def _schema_enum(replies: Mapping[str, Any], command: str, member: str) -> frozenset[str]:
    """The values of an enum member of a command's reply, found through the QMP schema (whose
    type names are opaque numbers, so only the command's name leads to them)."""
    by_name = {e.get("name"): e for e in _ok(replies, "query-qmp-schema") or []}
    ret = by_name.get(by_name.get(command, {}).get("ret-type"), {})
    member_type = next((m.get("type") for m in ret.get("members", [])
                        if m.get("name") == member), None)
    return frozenset(str(v) for v in by_name.get(member_type, {}).get("values", []))


@dataclass(frozen=True)
class QemuCaps:
    """One binary's answers, as read from its raw QMP replies (see from_replies). The replies
    themselves are not kept: a few megabytes of JSON objects nobody reads again."""

    binary: str
    version: int = 0
    package: str = ""
    arch: str = ""
    kvm_enabled: bool = False
    machines: Mapping[str, tuple[MachineType, ...]] = field(default_factory=dict)
    cpu_models: Mapping[str, tuple[CpuModel, ...]] = field(default_factory=dict)
    types: frozenset[str] = frozenset()
    commands: frozenset[str] = frozenset()
    tpm_models: frozenset[str] = frozenset()
    tpm_types: frozenset[str] = frozenset()
    display_types: frozenset[str] = frozenset()
    sev: bool = False
    sgx: bool = False

    @classmethod
    def from_replies(cls, binary: str, replies: Mapping[str, Mapping[str, Any]]) -> QemuCaps:
        """``replies`` maps an accelerator probe ("kvm", "tcg") to its QMP replies; the first
        probe also holds what does not depend on the accelerator."""
        main = replies["kvm"]
        version = _ok(main, "query-version") or {}
        q = version.get("qemu", {})
        target = str((_ok(main, "query-target") or {}).get("arch", ""))
        kvm = _ok(main, "query-kvm") or {}
        kvm_enabled = bool(kvm.get("enabled")) and bool(kvm.get("present"))
        # Without KVM the one probe ran under TCG and serves both.
        per_virt = {"kvm": main, "qemu": replies.get("tcg", main)}
        return cls(
            binary=binary,
            version=int(q.get("major", 0)) * 1_000_000 + int(q.get("minor", 0)) * 1_000
            + int(q.get("micro", 0)),
            package=str(version.get("package", "")),
            arch=caps_arch.from_qemu(target),
            kvm_enabled=kvm_enabled,
            machines={v: _machines(r) for v, r in per_virt.items()},
            cpu_models={v: _cpu_models(r) for v, r in per_virt.items()},
            types=frozenset(t["name"] for t in _ok(main, "qom-list-types") or []),
            commands=frozenset(c["name"] for c in _ok(main, "query-commands") or []),
            tpm_models=frozenset(_ok(main, "query-tpm-models") or []),
            tpm_types=frozenset(_ok(main, "query-tpm-types") or []),
            display_types=_schema_enum(main, "query-display-options", "type"),
            sev=_ok(main, "query-sev-capabilities") is not None,
            sgx=_ok(main, "query-sgx-capabilities") is not None,
        )

    def virt_types(self) -> tuple[str, ...]:
        """The <domain type>s this binary runs: TCG always, KVM when it worked in the probe."""
        return ("qemu", "kvm") if self.kvm_enabled else ("qemu",)

    def machine_types(self, virttype: str = "qemu") -> tuple[MachineType, ...]:
        return self.machines.get(virttype) or self.machines["qemu"]

    def cpu_definitions(self, virttype: str = "qemu") -> tuple[CpuModel, ...]:
        return self.cpu_models.get(virttype) or self.cpu_models["qemu"]

    def default_machine(self, virttype: str = "qemu") -> MachineType | None:
        machines = self.machine_types(virttype)
        return next((m for m in machines if m.is_default), machines[0] if machines else None)

    def find_machine(self, name: str, virttype: str = "qemu") -> MachineType | None:
        """A machine by its name or its alias ("pc" finds pc-i440fx-7.2)."""
        return next((m for m in self.machine_types(virttype)
                     if name in (m.name, m.alias)), None)

    def has_type(self, *names: str) -> bool:
        return any(n in self.types for n in names)

    def mapped_cpu_models(self, virttype: str = "qemu") -> list[tuple[CpuModel, str]]:
        """The CPU models libvirt offers, with their vendor: those its CPU map knows."""
        if self.arch not in MAPPED_ARCHES:
            return [(m, "") for m in self.cpu_definitions(virttype)]
        cpu_map = cpu_x86.model_vendors()
        return [(m, cpu_map[m.name]) for m in self.cpu_definitions(virttype)
                if m.name in cpu_map]

    def guest_facts(self) -> GuestFacts:
        machines: dict[str, str] = {}
        for m in self.machine_types("qemu"):
            machines[m.name] = m.name
            if m.alias:
                machines[m.alias] = m.name
        default = self.default_machine("qemu")
        cpu_model = "qemu64"
        if default is not None and default.default_cpu_type:
            cpu_model = default.default_cpu_type.rsplit("-", 2)[0]
        return GuestFacts(
            emulator=self.binary, arch=self.arch,
            emulators=_sibling_emulators(self.binary, self.arch),
            machines=machines,
            default_machine=(default.alias or default.name) if default is not None else "none",
            default_cpu_model=cpu_model)


def _sibling_emulators(binary: str, arch: str) -> dict[str, str]:
    """The binaries that run the other arches this one serves, chosen as libvirt chooses
    among the binaries installed beside it (i686: qemu-system-i386, else this one)."""
    found = {}
    for other in caps_arch.ALSO_SERVES.get(arch, ()):
        emulator = caps_arch.find_binary_for_arch(other, arch, path=str(Path(binary).parent))
        found[other] = emulator or binary
    return found


# The cache ---------------------------------------------------------------------------------

Prober = Callable[[str, str], dict[str, Any]]


def kvm_access() -> dict[str, bool]:
    """What libvirt re-checks before trusting cached capabilities: whether /dev/kvm exists and
    whether we may open it."""
    exists = os.path.exists(hostinfo.KVM_DEVICE)
    return {"exists": exists,
            "rw": exists and os.access(hostinfo.KVM_DEVICE, os.R_OK | os.W_OK)}


def binary_stamp(binary: str) -> dict[str, Any]:
    st = os.stat(binary)
    return {"mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "size": st.st_size,
            "kvm": kvm_access(), "format": CACHE_FORMAT, "qvirt": qvirt.__version__}


def probe_binary(binary: str, prober: Prober = caps_probe.probe) -> dict[str, Any]:
    """The probes libvirt makes: under KVM if it works, and then once more under TCG."""
    replies = {"kvm": prober(binary, caps_probe.ACCELS["kvm"])}
    kvm = _ok(replies["kvm"], "query-kvm") or {}
    if kvm.get("enabled") and kvm.get("present"):
        replies["tcg"] = prober(binary, caps_probe.ACCELS["tcg"])
    return replies


class QemuCapsCache:
    """Capabilities per emulator, probed once and kept in ``cache_dir`` (one JSON file per
    binary) until the binary's mtime, ctime or size, or the host's /dev/kvm access, change."""

    def __init__(self, cache_dir: Path, prober: Prober = caps_probe.probe_apart) -> None:
        self.cache_dir = Path(cache_dir)
        self._prober = prober
        self._memo: dict[str, tuple[dict[str, Any], QemuCaps]] = {}
        # One probe at a time: callers on other threads wait for it rather than repeat it.
        self._lock = threading.Lock()

    def _path(self, binary: str) -> Path:
        # The path itself names the file (no digest: hashlib would load OpenSSL's libcrypto
        # into every daemon); _load checks the binary, as two paths may flatten alike.
        return self.cache_dir / (binary.strip("/").replace("/", "_") + ".json")

    def get(self, emulator: str) -> QemuCaps:
        binary = _resolve(emulator)
        with self._lock:
            return self._get(binary)

    def _get(self, binary: str) -> QemuCaps:
        stamp = binary_stamp(binary)
        memo = self._memo.get(binary)
        if memo is not None and memo[0] == stamp:
            return memo[1]
        path = self._path(binary)
        caps = self._load(path, binary, stamp)
        if caps is None:
            replies = probe_binary(binary, self._prober)
            caps = QemuCaps.from_replies(binary, replies)
            _atomic_write(path, json.dumps({"binary": binary, "stamp": stamp,
                                            "replies": replies}))
        self._memo[binary] = (stamp, caps)
        return caps

    def _load(self, path: Path, binary: str, stamp: dict[str, Any]) -> QemuCaps | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("stamp") != stamp \
                or data.get("binary") != binary:
            return None
        return QemuCaps.from_replies(binary, data["replies"])

    def for_arch(self, arch: str | None = None) -> QemuCaps:
        """The emulator libvirt picks for guests of ``arch`` (the host's by default)."""
        host = os.uname().machine
        arch = arch or host
        if arch not in caps_arch.ARCHES:
            raise InvalidArg(f"unknown architecture: {arch}", domain=ErrorDomain.QEMU)
        binary = caps_arch.find_binary_for_arch(arch, host)
        if binary is None:
            raise ConfigUnsupported(f"unable to find any emulator to serve '{arch}' "
                                    "architecture", domain=ErrorDomain.QEMU)
        return self.get(binary)

    def all_guests(self) -> list[tuple[str, QemuCaps]]:
        """Each guest arch this host runs, with its emulator's capabilities, in libvirt's
        arch order (virQEMUCapsInit tries every arch it knows)."""
        host = os.uname().machine
        found = []
        for arch in caps_arch.ARCHES:
            binary = caps_arch.find_binary_for_arch(arch, host)
            if binary is None:
                continue
            caps = self.get(binary)
            if caps_arch.serves(caps.arch, arch):
                found.append((arch, caps))
        return found


def _resolve(emulator: str) -> str:
    """An emulator given by name is looked up in PATH; errors say libvirt's words."""
    if os.sep not in emulator:
        found = shutil.which(emulator)
        if found is not None:
            return found
    if not os.path.exists(emulator):
        raise QvirtError(f"Cannot check QEMU binary {emulator}: No such file or directory",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.QEMU)
    return emulator


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


# The <capabilities> document ---------------------------------------------------------------

def guest_machines(caps: QemuCaps, virttype: str) -> list[Machine]:
    """Each machine type, its alias right after it naming it as canonical."""
    out: list[Machine] = []
    for m in caps.machine_types(virttype):
        out.append(Machine(name=m.name, max_cpus=m.max_cpus, deprecated=m.deprecated or None))
        if m.alias:
            out.append(Machine(name=m.alias, canonical=m.name, max_cpus=m.max_cpus,
                               deprecated=m.deprecated or None))
    return out


def guest_section(caps: QemuCaps, arch: str | None = None) -> Guest:
    """The <guest> for ``arch`` (the binary's own by default) run by ``caps``' binary."""
    arch = arch or caps.arch
    qemu_machines = guest_machines(caps, "qemu")
    domains = []
    for virttype in caps.virt_types():
        machines = guest_machines(caps, virttype)
        domains.append(GuestDomain(type=virttype,
                                   machines=[] if machines == qemu_machines else machines))
    features = [NamedElement(name, default=default, toggle=toggle)
                for name, default, toggle in GUEST_FEATURES.get(arch, _OTHER_FEATURES)]
    return Guest(os_type="hvm", arch=arch, wordsize=caps_arch.ARCHES.get(arch, 64),
                 emulator=caps.binary, machines=qemu_machines, domains=domains,
                 features=features)


def host_section(root: Path = Path("/"), dac_label: str | None = None) -> Host:
    return Host(uuid=hostinfo.host_uuid(root), cpu=_host_cpu(root),
                power_management=PowerManagement(), iommu=_iommu(root),
                migration_features=MigrationFeatures(live=True,
                                                     uri_transports=list(MIGRATION_TRANSPORTS)),
                topology=hostinfo.host_topology(root), cache=hostinfo.host_cache(root),
                secmodels=hostinfo.security_models(dac_label))


def _host_cpu(root: Path) -> HostCPU:
    """hostinfo's host CPU, named as libvirt names it: its CPUID decoded against libvirt's
    CPU map to the closest model and the features the host has beyond it."""
    cpu = hostinfo.host_cpu(root)
    if cpu.arch in MAPPED_ARCHES:
        decoded = _decoded_host(root / "dev/cpu/0/cpuid")
        if decoded is not None:
            cpu.model, cpu.features = decoded.name, decoded.features
    return cpu


@functools.cache
def _decoded_host(device: Path) -> cpu_x86.HostModel | None:
    """Once per device: the CPU does not change under a running daemon."""
    data = cpu_x86.read_host_cpuid(device)
    return cpu_x86.decode_host(data) if data is not None else None


def _iommu(root: Path) -> bool:
    groups = root / "sys/kernel/iommu_groups"
    return groups.is_dir() and any(groups.iterdir())


def capabilities_xml(guests: Iterable[tuple[str, QemuCaps]], *, dac_label: str | None = None,
                     root: Path = Path("/")) -> str:
    """`virsh capabilities`: the host, then one <guest> per (arch, emulator caps) pair (pass
    ``QemuCapsCache.all_guests()``). ``dac_label`` is "+uid:+gid" of the user QEMU runs as."""
    doc = Capabilities(host=host_section(root, dac_label),
                       guests=[guest_section(caps, arch) for arch, caps in guests])
    return doc.to_xml()


# The vCPU limit libvirt's QEMU driver states for a TCG guest (QEMUD_MAX_VCPUS' old value).
TCG_MAX_VCPUS = 16


def max_vcpus(virttype: str | None) -> int:
    """virConnectGetMaxVcpus of the QEMU driver: a fixed 16 for TCG, KVM's own limit for KVM."""
    if virttype is None or virttype.lower() == "qemu":
        return TCG_MAX_VCPUS
    if virttype.lower() == "kvm":
        return hostinfo.kvm_max_vcpus()
    raise InvalidArg(f"unknown type '{virttype}'", domain=ErrorDomain.QEMU)


def domain_capabilities_xml(caps: QemuCaps, machine: str | None, virttype: str | None,
                            arch: str | None, *,
                            kvm_max_vcpus: Callable[[], int] = hostinfo.kvm_max_vcpus) -> str:
    """`virsh domcapabilities` for one binary, machine type and virtualization type."""
    return domain_capabilities(caps, machine, virttype, arch,
                               kvm_max_vcpus=kvm_max_vcpus).to_xml()
