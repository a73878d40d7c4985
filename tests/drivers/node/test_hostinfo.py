"""Node info and the host part of capabilities, read from made-up /proc and sysfs trees
(the shapes libvirt's virhostcpu.c handles), and compared with real libvirt on this host."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from qvirt.drivers.node import node_info
from qvirt.drivers.node.hostinfo import (
    format_cpu_list,
    host_cache,
    host_cpu,
    host_topology,
    host_uuid,
    parse_cpu_list,
)

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
stepping\t: 7
microcode\t: 0x5003604
cpu MHz\t\t: 2199.998
flags\t\t: fpu vme tsc_known_freq
address sizes\t: 46 bits physical, 48 bits virtual

processor\t: 1
vendor_id\t: GenuineIntel
cpu MHz\t\t: 1000.000
"""


def put(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_host(root: Path, *, nodes: int, sockets: int, cores: int, threads: int,
              node_kib: int = 1048576) -> None:
    """A host whose CPUs are numbered node, socket, core, thread (outermost first); with no
    nodes, sysfs has no NUMA directory and the CPUs are those of one node."""
    put(root, "proc/cpuinfo", CPUINFO)
    put(root, "proc/meminfo", "MemTotal:       99999999 kB\n")
    total = max(nodes, 1) * sockets * cores * threads
    put(root, "sys/devices/system/cpu/online", f"0-{total - 1}\n")
    if nodes:
        put(root, "sys/devices/system/node/online", f"0-{nodes - 1}\n")
    per_node = sockets * cores * threads
    for cpu in range(total):
        node, rest = divmod(cpu, per_node)
        socket, rest = divmod(rest, cores * threads)
        core, _ = divmod(rest, threads)
        first = cpu - cpu % threads
        topo = f"sys/devices/system/cpu/cpu{cpu}/topology"
        put(root, f"{topo}/physical_package_id", f"{node * sockets + socket}\n")
        put(root, f"{topo}/core_id", f"{core}\n")
        put(root, f"{topo}/die_id", "0\n")
        put(root, f"{topo}/thread_siblings_list",
            format_cpu_list(list(range(first, first + threads))) + "\n")
        cache = f"sys/devices/system/cpu/cpu{cpu}/cache"
        put(root, f"{cache}/index0/level", "1\n")
        put(root, f"{cache}/index0/size", "32K\n")
        put(root, f"{cache}/index3/level", "3\n")
        put(root, f"{cache}/index3/type", "Unified\n")
        put(root, f"{cache}/index3/id", f"{node}\n")
        put(root, f"{cache}/index3/size", "36608K\n")
        put(root, f"{cache}/index3/shared_cpu_list",
            f"{node * per_node}-{node * per_node + per_node - 1}\n")
    for node in range(nodes):
        base = f"sys/devices/system/node/node{node}"
        put(root, f"{base}/cpulist", f"{node * per_node}-{node * per_node + per_node - 1}\n")
        put(root, f"{base}/meminfo", f"Node {node} MemTotal:       {node_kib} kB\n")
        put(root, f"{base}/distance",
            " ".join("10" if n == node else "21" for n in range(nodes)) + "\n")


def test_cpu_lists() -> None:
    assert parse_cpu_list("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11]
    assert format_cpu_list([11, 0, 1, 2, 8, 10]) == "0-2,8,10-11"


def test_two_nodes_with_hyperthreads(tmp_path: Path) -> None:
    make_host(tmp_path, nodes=2, sockets=1, cores=4, threads=2)
    info = node_info(tmp_path)
    assert (info.cpus, info.nodes, info.sockets, info.cores, info.threads) == (16, 2, 1, 4, 2)
    assert info.memory == 2 * 1048576
    assert info.mhz == 2199
    assert info.model == os.uname().machine


def test_irregular_topology_is_reported_flat(tmp_path: Path) -> None:
    make_host(tmp_path, nodes=1, sockets=1, cores=4, threads=1)
    # One CPU offline leaves 3 of 4 cores: libvirt then gives up on the topology.
    put(tmp_path, "sys/devices/system/cpu/online", "0-2\n")
    put(tmp_path, "sys/devices/system/cpu/cpu1/topology/core_id", "0\n")
    info = node_info(tmp_path)
    assert (info.cpus, info.nodes, info.sockets, info.cores, info.threads) == (3, 1, 1, 3, 1)


def test_without_numa_memory_comes_from_meminfo(tmp_path: Path) -> None:
    make_host(tmp_path, nodes=0, sockets=2, cores=2, threads=1)
    info = node_info(tmp_path)
    assert (info.cpus, info.nodes, info.sockets, info.cores) == (4, 1, 2, 2)
    assert info.memory == 99999999


def test_host_cpu_topology_and_cache(tmp_path: Path) -> None:
    make_host(tmp_path, nodes=2, sockets=1, cores=2, threads=2)
    cpu = host_cpu(tmp_path)
    assert (cpu.vendor, cpu.microcode) == ("Intel", 0x5003604)
    assert (cpu.sig_family, cpu.sig_model, cpu.sig_stepping) == (6, 85, 7)
    assert cpu.counter is not None and cpu.counter.frequency == 2199998000
    assert (cpu.sockets, cpu.dies, cpu.cores, cpu.threads) == (1, 1, 2, 2)
    assert cpu.maxphysaddr_bits == 46
    topo = host_topology(tmp_path)
    assert topo.cells_num == 2
    cell = topo.cells[1]
    assert [(s.id, s.value) for s in cell.distances] == [(0, 21), (1, 10)]
    assert [(c.id, c.socket_id, c.core_id, c.siblings) for c in cell.cpus] == [
        (4, 1, 0, "4-5"), (5, 1, 0, "4-5"), (6, 1, 1, "6-7"), (7, 1, 1, "6-7")]
    cache = host_cache(tmp_path)
    assert cache is not None
    assert [(b.id, b.level, b.type, b.size, b.unit, b.cpus) for b in cache.banks] == [
        (0, 3, "both", 36608, "KiB", "0-3"), (1, 3, "both", 36608, "KiB", "4-7")]


def test_uuid_from_machine_id_without_smbios(tmp_path: Path) -> None:
    put(tmp_path, "etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
    assert host_uuid(tmp_path) == "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4"
    put(tmp_path, "sys/class/dmi/id/product_uuid", "4C4C4544-0042-3510-8052-B4C04F4E4E32\n")
    assert host_uuid(tmp_path) == "4c4c4544-0042-3510-8052-b4c04f4e4e32"


@pytest.mark.compat
def test_node_info_equals_virsh_nodeinfo() -> None:
    """Every number `virsh nodeinfo` prints for this host."""
    from tests.support.oracle import URI, ensure_libvirtd

    ensure_libvirtd()
    out = subprocess.run(["virsh", "-c", URI, "nodeinfo"], capture_output=True, text=True,
                         check=True).stdout
    fields = dict(re.findall(r"^([^:]+):\s+(.*?)\s*$", out, re.M))
    info = node_info()
    assert fields == {
        "CPU model": info.model, "CPU(s)": str(info.cpus),
        "CPU frequency": f"{info.mhz} MHz", "CPU socket(s)": str(info.sockets),
        "Core(s) per socket": str(info.cores), "Thread(s) per core": str(info.threads),
        "NUMA cell(s)": str(info.nodes), "Memory size": f"{info.memory} KiB"}
