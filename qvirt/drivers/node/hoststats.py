"""The host's live figures, read as libvirt's virhostmem.c and virhostcpu.c read them on
Linux: free memory per NUMA cell, CPU times from /proc/stat, memory from /proc/meminfo (or a
cell's sysfs meminfo), and which CPUs are online. Memory figures are KiB in the stats and
bytes in the free-memory calls, as libvirt gives them."""

from __future__ import annotations

import os
import re
from pathlib import Path

from qvirt.drivers.node.hostinfo import SYS_CPU, SYS_NODE, parse_cpu_list
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

# VIR_NODE_CPU_STATS_ALL_CPUS, VIR_NODE_MEMORY_STATS_ALL_CELLS.
ALL_CPUS = -1
ALL_CELLS = -1

# virHostCPUGetStats: each field and the /proc/stat columns (user nice system idle iowait
# irq softirq, from 0) summed into it, in libvirt's order.
CPU_FIELDS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("kernel", (2, 5, 6)),
    ("user", (0, 1)),
    ("idle", (3,)),
    ("iowait", (4,)),
)
# virHostMemGetStats: meminfo's keys and libvirt's names for them, in libvirt's order.
MEMORY_FIELDS = (("MemTotal", "total"), ("MemFree", "free"), ("Buffers", "buffers"),
                 ("Cached", "cached"))
_MEMINFO = re.compile(r"^(?:Node \d+ )?(\w+):\s+(\d+)", re.MULTILINE)


def _invalid_arg(function: str, arg: str, text: str,
                 domain: ErrorDomain = ErrorDomain.NONE) -> InvalidArg:
    """virReportInvalidArg: its text is the whole message, with no "invalid argument: "."""
    err = InvalidArg(text, domain=domain, str1=function, str2=arg)
    err.message = text
    err.args = (text,)
    return err


def check_flags(function: str, flags: int) -> None:
    """virCheckFlags in these functions: none is known."""
    if flags:
        raise _invalid_arg(function, "flags",
                           f"unsupported flags (0x{flags:x}) in function {function}")


def _read(root: Path, rel: str) -> str:
    """A file, or virFileReadAll's error (a cell that is in range but not online)."""
    path = root / rel
    try:
        return path.read_text()
    except OSError as err:
        raise QvirtError(f"Failed to open file '{path}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.NONE) from err


def _meminfo(text: str) -> dict[str, int]:
    return {key: int(value) for key, value in _MEMINFO.findall(text)}


def cells(root: Path = Path("/")) -> list[int]:
    """The NUMA cells the host has online; none where sysfs shows no NUMA."""
    try:
        return parse_cpu_list((root / SYS_NODE / "online").read_text().strip())
    except OSError:
        return []


def _cell_free(root: Path, cell: int) -> int:
    return _meminfo(_read(root, f"{SYS_NODE}/node{cell}/meminfo"))["MemFree"] * 1024


def free_memory(root: Path = Path("/")) -> int:
    """virHostMemGetFreeMemory: the sum over the cells, else MemFree of the whole host."""
    found = cells(root)
    if found:
        return sum(_cell_free(root, c) for c in found)
    return _meminfo(_read(root, "proc/meminfo"))["MemFree"] * 1024


def cells_free_memory(start: int, count: int, root: Path = Path("/")) -> list[int]:
    """virHostMemGetCellsFree: bytes free in cells ``start`` on, at most ``count`` of them;
    a host without NUMA is one cell."""
    found = cells(root)
    last = max(found) if found else 0
    if start < 0 or start > last:
        raise InternalError(f"start cell {start} out of range (0-{last})",
                            domain=ErrorDomain.NONE)
    wanted = range(start, min(last, start + count - 1) + 1)
    if not found:
        return [free_memory(root) for _ in wanted]
    return [_cell_free(root, c) if c in found else 0 for c in wanted]


def cpu_stats(cpu: int, root: Path = Path("/")) -> dict[str, int]:
    """virHostCPUGetStats: the host's (or one CPU's) times in ns, from /proc/stat ticks."""
    if cpu < ALL_CPUS:
        # libvirt.c's own check (its argument named cpuNum in both calls).
        raise _invalid_arg("virNodeGetCPUStats", "cpuNum", "cpuNum in virNodeGetCPUStats "
                           "only accepts -1 as a negative value", ErrorDomain.DOMAIN)
    label = "cpu" if cpu == ALL_CPUS else f"cpu{cpu}"
    tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    for line in _read(root, "proc/stat").splitlines():
        name, _, rest = line.partition(" ")
        if name == label:
            ticks = [int(v) for v in rest.split()]
            return {field: sum(ticks[i] for i in cols if i < len(ticks)) * tick_ns
                    for field, cols in CPU_FIELDS}
    raise _invalid_arg("virHostCPUGetStatsLinux", "cpuNum",
                       "Invalid cpuNum in virHostCPUGetStatsLinux")


def memory_stats(cell: int, root: Path = Path("/")) -> dict[str, int]:
    """virHostMemGetStats: /proc/meminfo for the host, a cell's own meminfo for a cell (which
    has no buffers or cached lines), KiB."""
    if cell < ALL_CELLS:
        raise _invalid_arg("virNodeGetMemoryStats", "cpuNum", "cellNum in "
                           "virNodeGetMemoryStats only accepts -1 as a negative value",
                           ErrorDomain.DOMAIN)
    if cell == ALL_CELLS:
        info = _meminfo(_read(root, "proc/meminfo"))
    else:
        last = max(cells(root) or [0])
        if cell > last:
            raise _invalid_arg("virHostMemGetStats", "cellNum",
                               f"cellNum in virHostMemGetStats must be less than or equal "
                               f"to {last}")
        info = _meminfo(_read(root, f"{SYS_NODE}/node{cell}/meminfo"))
    return {name: info[key] for key, name in MEMORY_FIELDS if key in info}


def cpu_map(root: Path = Path("/")) -> tuple[int, list[bool], int]:
    """virHostCPUGetMap: CPUs present (the highest present + 1), which are online, how many."""
    present = max(parse_cpu_list(_read(root, f"{SYS_CPU}/present").strip())) + 1
    online = set(parse_cpu_list(_read(root, f"{SYS_CPU}/online").strip()))
    bits = [cpu in online for cpu in range(present)]
    return present, bits, sum(bits)
