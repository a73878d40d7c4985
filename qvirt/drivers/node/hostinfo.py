"""Host CPU, memory and NUMA facts read from /proc and sysfs, as libvirt's virhostcpu.c,
virhostmem.c, virnuma.c and capabilities.c read them: `virsh nodeinfo` and the <host> part of
`virsh capabilities`.

Every reader takes the file-system root, so a test can hand in a recorded tree.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qvirt.conf.capabilities import (
    BaseLabel,
    CacheBank,
    CellCPU,
    Counter,
    HostCache,
    HostCell,
    HostCPU,
    HostPages,
    HostTopology,
    SecModel,
    Sibling,
)
from qvirt.drivers.base import NodeInfo
from qvirt.errors import ErrorNumber, QvirtError

SYS_CPU = "sys/devices/system/cpu"
SYS_NODE = "sys/devices/system/node"

KVM_DEVICE = "/dev/kvm"
# ioctl KVM_CHECK_EXTENSION (_IO(0xAE, 0x03)) and the two capabilities that bound vCPUs.
KVM_CHECK_EXTENSION = 0xAE03
KVM_CAP_NR_VCPUS = 9
KVM_CAP_MAX_VCPUS = 66
# What the kernel documents as the limit when KVM states none.
KVM_DEFAULT_MAX_VCPUS = 4

# /proc/cpuinfo vendor_id -> the vendor name libvirt's cpu_map gives it (x86_vendors.xml).
CPU_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon",
               "CentaurHauls": "VIA", "  Shanghai  ": "Zhaoxin"}

# sysfs cache type -> capabilities <bank type>.
CACHE_TYPES = {"Unified": "both", "Data": "data", "Instruction": "code"}

# Units virFormatIntPretty picks from, largest first: the largest that divides exactly.
SIZE_UNITS = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
              ("B", 1))

_SIZE = re.compile(r"^(\d+)([KMG]?)$")


def parse_cpu_list(text: str) -> list[int]:
    """The kernel's CPU list format ("0-3,8,10-11")."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def format_cpu_list(cpus: list[int]) -> str:
    """The inverse of parse_cpu_list, with ranges where libvirt's virBitmapFormat puts them."""
    parts: list[str] = []
    ordered = sorted(set(cpus))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


@dataclass(frozen=True)
class CPUTopo:
    """One online logical CPU's place in the machine."""

    id: int
    socket_id: int
    die_id: int
    core_id: int
    siblings: str


class HostReader:
    """Reads the host's files below ``root`` ("/" on a real host)."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root

    def read(self, rel: str) -> str | None:
        try:
            return (self.root / rel).read_text()
        except OSError:
            return None

    def read_int(self, rel: str, default: int = 0) -> int:
        text = self.read(rel)
        try:
            return int(text.strip()) if text is not None else default
        except ValueError:
            return default

    # CPUs and NUMA nodes -------------------------------------------------------------------

    def online_cpus(self) -> list[int]:
        text = self.read(f"{SYS_CPU}/online")
        if text is not None:
            return parse_cpu_list(text)
        return sorted(int(p.name[3:]) for p in (self.root / SYS_CPU).glob("cpu[0-9]*"))

    def nodes(self) -> list[int]:
        """NUMA node ids; a host without NUMA in sysfs is one node holding every CPU."""
        text = self.read(f"{SYS_NODE}/online")
        return parse_cpu_list(text) if text is not None else []

    def node_cpus(self, node: int | None) -> list[int]:
        online = set(self.online_cpus())
        if node is None:
            return sorted(online)
        text = self.read(f"{SYS_NODE}/node{node}/cpulist") or ""
        return [c for c in parse_cpu_list(text) if c in online]

    def cpu_topo(self, cpu: int) -> CPUTopo:
        base = f"{SYS_CPU}/cpu{cpu}/topology"
        siblings = (self.read(f"{base}/thread_siblings_list") or str(cpu)).strip()
        return CPUTopo(id=cpu, socket_id=self.read_int(f"{base}/physical_package_id"),
                       die_id=self.read_int(f"{base}/die_id"),
                       core_id=self.read_int(f"{base}/core_id"),
                       siblings=format_cpu_list(parse_cpu_list(siblings)))

    def topology_counts(self) -> tuple[int, int, int, int, int]:
        """(cpus, nodes, sockets, cores, threads) as virHostCPUGetInfoPopulateLinux counts
        them: per node the sockets, per socket the cores, per core the threads, each the
        largest seen; a topology that does not multiply out is reported flat."""
        node_ids: list[int | None] = list(self.nodes()) or [None]
        cpus = sockets = cores = threads = 0
        for node in node_ids:
            members = [self.cpu_topo(c) for c in self.node_cpus(node)]
            cpus += len(members)
            by_socket: dict[int, dict[int, int]] = {}
            for topo in members:
                socket = by_socket.setdefault(topo.socket_id, {})
                socket[topo.core_id] = socket.get(topo.core_id, 0) + 1
            sockets = max(sockets, len(by_socket))
            for socket in by_socket.values():
                cores = max(cores, len(socket))
                threads = max([threads, *socket.values()])
        nodes = len(node_ids)
        if cpus == 0 or nodes * sockets * cores * threads != cpus:
            return max(cpus, 1), 1, 1, max(cpus, 1), 1
        return cpus, nodes, sockets, cores, threads

    # /proc/cpuinfo -----------------------------------------------------------------------

    def cpuinfo(self) -> dict[str, str]:
        """The first processor's fields."""
        fields: dict[str, str] = {}
        for line in (self.read("proc/cpuinfo") or "").splitlines():
            if not line.strip():
                if fields:
                    break
                continue
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        return fields

    def mhz(self) -> int:
        """libvirt scans "cpu MHz" as an unsigned integer: the fraction is dropped."""
        match = re.match(r"\d+", self.cpuinfo().get("cpu MHz", ""))
        return int(match.group()) if match else 0

    # Memory ------------------------------------------------------------------------------

    def node_memory(self, node: int) -> int:
        """A node's MemTotal in KiB."""
        for line in (self.read(f"{SYS_NODE}/node{node}/meminfo") or "").splitlines():
            if "MemTotal:" in line:
                return int(line.split("MemTotal:")[1].split()[0])
        return 0

    def memory(self) -> int:
        """Total memory in KiB; libvirt sums the NUMA nodes' when there are nodes, which is
        less than /proc/meminfo's MemTotal where memory is outside every node."""
        nodes = self.nodes()
        if nodes:
            return sum(self.node_memory(n) for n in nodes)
        for line in (self.read("proc/meminfo") or "").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
        return 0

    def huge_page_sizes(self) -> list[int]:
        """Huge page sizes in KiB, smallest first."""
        sizes = []
        for path in (self.root / "sys/kernel/mm/hugepages").glob("hugepages-*kB"):
            sizes.append(int(path.name[len("hugepages-"):-2]))
        return sorted(sizes)


def node_info(root: Path = Path("/")) -> NodeInfo:
    """virNodeGetInfo: the model is the host's machine (uname), not the CPU's marketing name."""
    host = HostReader(root)
    cpus, nodes, sockets, cores, threads = host.topology_counts()
    return NodeInfo(model=os.uname().machine, memory=host.memory(), cpus=cpus, mhz=host.mhz(),
                    nodes=nodes, sockets=sockets, cores=cores, threads=threads)


def kvm_max_vcpus() -> int:
    """The most vCPUs KVM runs in one guest (virHostCPUGetKVMMaxVCPUs)."""
    try:
        fd = os.open(KVM_DEVICE, os.O_RDONLY)
    except OSError as err:
        raise QvirtError(f"Unable to open {KVM_DEVICE}: {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR) from err
    try:
        for cap in (KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS):
            value = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, cap)
            if value > 0:
                return value
        return KVM_DEFAULT_MAX_VCPUS
    finally:
        os.close(fd)


def host_cpu(root: Path = Path("/")) -> HostCPU:
    """The host <cpu> as far as it can be read without decoding CPUID against libvirt's CPU
    map: arch, vendor, microcode, signature, TSC, topology, address width and page sizes.
    (libvirt's <model> and <feature> list come from that decoding; qvirt leaves them out.)"""
    host = HostReader(root)
    info = host.cpuinfo()
    cpu = HostCPU(arch=os.uname().machine)
    if info.get("vendor_id") in CPU_VENDORS:
        cpu.vendor = CPU_VENDORS[info["vendor_id"]]
    if info.get("microcode", "").startswith("0x"):
        cpu.microcode = int(info["microcode"], 16)
    if "cpu family" in info:
        cpu.sig_family = int(info["cpu family"])
        cpu.sig_model = int(info.get("model", "0"))
        cpu.sig_stepping = int(info.get("stepping", "0"))
    flags = info.get("flags", "").split()
    if "tsc_known_freq" in flags and "cpu MHz" in info:
        cpu.counter = Counter(name="tsc", frequency=round(float(info["cpu MHz"]) * 1_000_000),
                              scaling=False)
    _, _, sockets, cores, threads = host.topology_counts()
    cpu.sockets, cpu.dies, cpu.cores, cpu.threads = sockets, 1, cores, threads
    match = re.search(r"(\d+) bits physical", info.get("address sizes", ""))
    if match:
        cpu.maxphysaddr_mode, cpu.maxphysaddr_bits = "emulate", int(match.group(1))
    cpu.pages = [HostPages(unit="KiB", size=size) for size in _page_sizes(host)]
    return cpu


def _page_sizes(host: HostReader) -> list[int]:
    return [os.sysconf("SC_PAGE_SIZE") // 1024, *host.huge_page_sizes()]


def host_topology(root: Path = Path("/")) -> HostTopology:
    """The NUMA cells: memory, free pages per size, distances and CPUs."""
    host = HostReader(root)
    node_ids = host.nodes()
    small = os.sysconf("SC_PAGE_SIZE") // 1024
    cells = []
    for node in node_ids or [0]:
        memory = host.node_memory(node) if node_ids else host.memory()
        pages = [HostPages(unit="KiB", size=small, count=memory // small)]
        for size in host.huge_page_sizes():
            count = host.read_int(
                f"{SYS_NODE}/node{node}/hugepages/hugepages-{size}kB/nr_hugepages")
            pages.append(HostPages(unit="KiB", size=size, count=count))
        distances = (host.read(f"{SYS_NODE}/node{node}/distance") or "10").split()
        cpus = [host.cpu_topo(c) for c in host.node_cpus(node if node_ids else None)]
        cells.append(HostCell(
            id=node, memory_unit="KiB", memory=memory, pages=pages,
            distances=[Sibling(id=(node_ids or [0])[i], value=int(v))
                       for i, v in enumerate(distances)],
            cpus_num=len(cpus),
            cpus=[CellCPU(id=t.id, socket_id=t.socket_id, die_id=t.die_id, core_id=t.core_id,
                          siblings=t.siblings) for t in cpus]))
    return HostTopology(cells_num=len(cells), cells=cells)


def host_cache(root: Path = Path("/")) -> HostCache | None:
    """The CPU caches from level 3 up, one bank per cache id and level (virCapabilitiesInitCaches
    leaves out the per-core L1 and L2)."""
    host = HostReader(root)
    banks: dict[tuple[int, int], CacheBank] = {}
    for cpu in host.online_cpus():
        for index in sorted((root / SYS_CPU / f"cpu{cpu}/cache").glob("index*")):
            rel = f"{SYS_CPU}/cpu{cpu}/cache/{index.name}"
            level = host.read_int(f"{rel}/level")
            if level < 3:
                continue
            key = (level, host.read_int(f"{rel}/id"))
            if key in banks:
                continue
            size, unit = _pretty_size(_cache_bytes((host.read(f"{rel}/size") or "0").strip()))
            cpus = parse_cpu_list(host.read(f"{rel}/shared_cpu_list") or str(cpu))
            banks[key] = CacheBank(id=key[1], level=level,
                                   type=CACHE_TYPES.get((host.read(f"{rel}/type") or "").strip(),
                                                        "both"),
                                   size=size, unit=unit, cpus=format_cpu_list(cpus))
    if not banks:
        return None
    return HostCache(banks=[banks[k] for k in sorted(banks)])


def _cache_bytes(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        return 0
    return int(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)]


def _pretty_size(size: int) -> tuple[int, str]:
    for unit, factor in SIZE_UNITS:
        if size and size % factor == 0:
            return size // factor, unit
    return size, "B"


def host_uuid(root: Path = Path("/")) -> str:
    """The host's SMBIOS UUID; without one, a stable UUID from the machine id (libvirt then
    makes up a random one per daemon start)."""
    host = HostReader(root)
    dmi = (host.read("sys/class/dmi/id/product_uuid") or "").strip().lower()
    if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", dmi) and len(set(dmi)) > 2:
        return dmi
    mid = (host.read("etc/machine-id") or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", mid):
        mid = "0" * 32
    return f"{mid[:8]}-{mid[8:12]}-{mid[12:16]}-{mid[16:20]}-{mid[20:]}"


def security_models(dac_label: str | None) -> list[SecModel]:
    """The <secmodel>s: "none" when no MAC driver is active, then DAC with the label QEMU
    processes get ("+uid:+gid"), for both domain types."""
    models = [SecModel(model="none", doi="0")]
    if dac_label is not None:
        models.append(SecModel(model="dac", doi="0",
                               baselabels=[BaseLabel(type=t, label=dac_label)
                                           for t in ("kvm", "qemu")]))
    return models
