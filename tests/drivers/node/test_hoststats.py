"""hoststats on made-up hosts (a root directory with /proc and sysfs files): NUMA and not,
CPUs offline, the ranges libvirt refuses, and libvirt's field names and units."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qvirt.drivers.node import hoststats
from qvirt.errors import InternalError, InvalidArg

MEMINFO = "MemTotal:       8000 kB\nMemFree:        3000 kB\nBuffers:         100 kB\n" \
          "Cached:          500 kB\nSwapCached:        0 kB\n"
STAT = "cpu  10 2 30 400 5 6 7 8 0 0\ncpu0 5 1 15 200 2 3 3 4 0 0\n" \
       "cpu2 5 1 15 200 3 3 4 4 0 0\nintr 1 2 3\n"


def host(tmp_path: Path, *, cells: dict[int, int] | None = None) -> Path:
    """A root with /proc/meminfo, /proc/stat, CPUs 0-3 present (1 and 3 offline), and the
    NUMA cells given as {cell: free KiB}."""
    files = {"proc/meminfo": MEMINFO, "proc/stat": STAT,
             "sys/devices/system/cpu/present": "0-3\n",
             "sys/devices/system/cpu/online": "0,2\n"}
    if cells is not None:
        files["sys/devices/system/node/online"] = ",".join(map(str, cells)) + "\n"
        for cell, free in cells.items():
            files[f"sys/devices/system/node/node{cell}/meminfo"] = (
                f"Node {cell} MemTotal:       4000 kB\nNode {cell} MemFree:        {free} kB\n"
                f"Node {cell} MemUsed:        1 kB\n")
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_free_memory_sums_the_cells_in_bytes(tmp_path: Path) -> None:
    root = host(tmp_path, cells={0: 1000, 1: 2000})
    assert hoststats.free_memory(root) == 3000 * 1024
    assert hoststats.cells_free_memory(0, 8, root) == [1000 * 1024, 2000 * 1024]
    assert hoststats.cells_free_memory(1, 1, root) == [2000 * 1024]


def test_a_host_without_numa_is_one_cell(tmp_path: Path) -> None:
    root = host(tmp_path)
    assert hoststats.free_memory(root) == 3000 * 1024
    assert hoststats.cells_free_memory(0, 4, root) == [3000 * 1024]
    with pytest.raises(InternalError, match=r"^internal error: start cell 1 out of range \(0-0\)$"):
        hoststats.cells_free_memory(1, 1, root)


def test_cpu_stats_in_nanoseconds_by_libvirts_fields(tmp_path: Path) -> None:
    root = host(tmp_path)
    ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    assert list(hoststats.cpu_stats(-1, root).items()) == [
        ("kernel", (30 + 6 + 7) * ns), ("user", (10 + 2) * ns), ("idle", 400 * ns),
        ("iowait", 5 * ns)]
    assert hoststats.cpu_stats(2, root)["kernel"] == (15 + 3 + 4) * ns
    with pytest.raises(InvalidArg) as err:
        hoststats.cpu_stats(1, root)
    assert str(err.value) == "Invalid cpuNum in virHostCPUGetStatsLinux"
    with pytest.raises(InvalidArg) as err:
        hoststats.cpu_stats(-5, root)
    assert str(err.value) == "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value"


def test_memory_stats_of_the_host_and_of_a_cell(tmp_path: Path) -> None:
    root = host(tmp_path, cells={0: 1000})
    assert list(hoststats.memory_stats(-1, root).items()) == [
        ("total", 8000), ("free", 3000), ("buffers", 100), ("cached", 500)]
    assert hoststats.memory_stats(0, root) == {"total": 4000, "free": 1000}
    with pytest.raises(InvalidArg) as err:
        hoststats.memory_stats(3, root)
    assert str(err.value) == "cellNum in virHostMemGetStats must be less than or equal to 0"
    with pytest.raises(InvalidArg) as err:
        hoststats.memory_stats(-2, root)
    assert str(err.value) == "cellNum in virNodeGetMemoryStats only accepts -1 as a negative value"


def test_cpu_map_counts_present_and_online(tmp_path: Path) -> None:
    assert hoststats.cpu_map(host(tmp_path)) == (4, [True, False, True, False], 2)
