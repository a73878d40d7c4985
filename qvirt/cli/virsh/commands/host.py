"""Host and Hypervisor: what the connection says of itself and of the node (virsh-host.c)."""

from __future__ import annotations

import time

from lxml import etree

from qvirt.cli.virsh.control import Control
from qvirt.cli.virsh.grammar import Args, Command, CommandGroup, Handler, Opt, OptType
from qvirt.client.api import LIB_VERSION
from qvirt.errors import QvirtError

BOOL, STRING, INT = OptType.BOOL, OptType.STRING, OptType.INT


def dotted(version: int) -> str:
    return f"{version // 1_000_000}.{version // 1000 % 1000}.{version % 1000}"


def _print_call(fmt: str, failure: str, method: str) -> Handler:
    """uri, hostname, capabilities, sysinfo: one connection call, printed."""

    def handler(ctl: Control, args: Args) -> bool:
        with ctl.failing(failure):
            value = getattr(ctl.connection(), method)()
        ctl.print(fmt.format(value))
        return True

    return handler


def cmd_version(ctl: Control, args: Args) -> bool:
    conn = ctl.connection()
    ctl.print(f"Compiled against library: libvirt {dotted(LIB_VERSION)}\n")
    ctl.print(f"Using library: libvirt {dotted(LIB_VERSION)}\n")
    with ctl.failing("failed to get the library version"):
        hv_type = conn.getType()
    ctl.print(f"Using API: {hv_type} {dotted(LIB_VERSION)}\n")
    with ctl.failing("failed to get the hypervisor version"):
        hv_version = conn.getVersion()
    if hv_version == 0:
        ctl.print(f"Cannot extract running {hv_type} hypervisor version\n")
    else:
        ctl.print(f"Running hypervisor: {hv_type} {dotted(hv_version)}\n")
    if args.get("daemon"):
        try:
            ctl.print(f"Running against daemon: {dotted(conn.getLibVersion())}\n")
        except QvirtError as err:
            ctl.last_error = err
            ctl.error("failed to get the daemon version")
            return False
    return True


def cmd_nodeinfo(ctl: Control, args: Args) -> bool:
    with ctl.failing("failed to get node information"):
        info = ctl.connection().nodeInfo()
    for label, value in (("CPU model:", info.model), ("CPU(s):", info.cpus),
                         ("CPU frequency:", f"{info.mhz} MHz"),
                         ("CPU socket(s):", info.sockets),
                         ("Core(s) per socket:", info.cores),
                         ("Thread(s) per core:", info.threads), ("NUMA cell(s):", info.nodes),
                         ("Memory size:", f"{info.memory} KiB")):
        ctl.print(f"{label:<20} {value}\n")
    return True


def cmd_freecell(ctl: Control, args: Args) -> bool:
    conn = ctl.connection()
    ctl.exclusive(args, "all", "cellno")
    cell = ctl.opt_int(args, "cellno")
    if not args.get("all"):
        with ctl.failing(None):
            if cell is not None:
                free = conn.getCellsFreeMemory(cell, 1)[0]
                ctl.print(f"{cell}: {free // 1024} KiB\n")
            else:
                ctl.print(f"Total: {conn.getFreeMemory() // 1024} KiB\n")
        return True
    with ctl.failing("unable to get node capabilities"):
        caps = conn.getCapabilities()
    cells = etree.fromstring(caps.encode()).findall("./host/topology/cells/cell")
    ids = [cell.get("id", "") for cell in cells]
    if not ids:
        raise ctl.fail("could not get information about NUMA topology")
    total = 0
    lines = []
    for text in ids:
        if not text.isdigit():
            raise ctl.fail("conversion from string failed")
        number = int(text)
        with ctl.failing(f"failed to get free memory for NUMA node number: {number}"):
            free = conn.getCellsFreeMemory(number, 1)[0]
        lines.append(f"{number:>5}: {free // 1024:>10} KiB\n")
        total += free
    ctl.print("".join(lines))
    ctl.print_extra("--------------------\n")
    ctl.print_extra(f"{'Total':>5}: {total // 1024:>10} KiB\n")
    return True


def _ranges(bits: list[bool]) -> str:
    """virBitmapDataFormat: set bits as ranges, '0-3,5'."""
    parts, i = [], 0
    while i < len(bits):
        if bits[i]:
            start = i
            while i + 1 < len(bits) and bits[i + 1]:
                i += 1
            parts.append(str(start) if start == i else f"{start}-{i}")
        i += 1
    return ",".join(parts)


def cmd_nodecpumap(ctl: Control, args: Args) -> bool:
    with ctl.failing("Unable to get cpu map"):
        present, online_map, online = ctl.connection().getCPUMap(0)
    ctl.print(f"{'CPUs present:':<15} {present}\n{'CPUs online:':<15} {online}\n")
    ctl.print(f"{'CPU map:':<15} ")
    if args.get("pretty"):
        ctl.print(_ranges(online_map))
    else:
        ctl.print("".join("y" if used else "-" for used in online_map[:present]))
    ctl.print("\n")
    return True


# virshCPUOutput: virsh's names for libvirt's CPU time fields, in its order.
CPU_FIELDS = (("user", "user:"), ("kernel", "system:"), ("idle", "idle:"),
              ("iowait", "iowait:"), ("intr", "intr:"), ("utilization", "usage:"))


def _percent(value: float) -> str:
    """printf's %5.1lf of a ratio: 0/0 is -nan on x86, as virsh prints it."""
    return " -nan" if value != value else f"{value:5.1f}"


def cmd_nodecpustats(ctl: Control, args: Args) -> bool:
    cpu = ctl.opt_int(args, "cpu")
    conn = ctl.connection()
    percent = bool(args.get("percent"))
    samples: list[dict[str, int]] = []
    for _ in range(2):
        with ctl.failing("Unable to get node cpu stats" if samples
                         else "Unable to get number of cpu stats"):
            stats = conn.getCPUStats(-1 if cpu is None else cpu, 0)
        if not stats:
            return True
        samples.append({field: stats[field] for field, _ in CPU_FIELDS if field in stats})
        if "utilization" in stats or not percent:
            break
        time.sleep(1)
    first = samples[0]
    if not percent:
        for field, label in CPU_FIELDS:
            if field in first:
                ctl.print(f"{label:<15} {first[field]:>20}\n")
        return True
    if "utilization" in first:
        usage = float(first["utilization"])
        ctl.print(f"{'usage:':<15} {usage:5.1f}%\n{'idle:':<15} {100 - usage:5.1f}%\n")
        return True
    second = samples[1]
    times = [(second.get(f, 0) - first.get(f, 0)) for f, _ in CPU_FIELDS[:5]]
    total = float(sum(times))
    busy = times[0] + times[1]

    def ratio(part: float) -> float:
        return part / total * 100 if total else float("nan")

    ctl.print(f"{'usage:':<15} {_percent(ratio(busy))}%\n")
    for (field, label), part in zip(CPU_FIELDS[:5], times, strict=True):
        if field in first:
            ctl.print(f"{label:<15} {_percent(ratio(part))}%\n")
    return True


def cmd_nodememstats(ctl: Control, args: Args) -> bool:
    cell = ctl.opt_int(args, "cell")
    with ctl.failing("Unable to get number of memory stats"):
        stats = ctl.connection().getMemoryStats(-1 if cell is None else cell, 0)
    for field, value in stats.items():
        ctl.print(f"{field:<7} {value:>20} KiB\n")
    return True


def cmd_domcapabilities(ctl: Control, args: Args) -> bool:
    opts = [ctl.opt_str(args, name) for name in ("virttype", "emulatorbin", "arch", "machine")]
    virttype, emulatorbin, arch, machine = opts
    with ctl.failing("failed to get emulator capabilities"):
        caps = ctl.connection().getDomainCapabilities(emulatorbin, arch, machine, virttype, 0)
    ctl.print(f"{caps}\n")
    return True


def cmd_maxvcpus(ctl: Control, args: Args) -> bool:
    """Domain capabilities' vcpu maximum first, virConnectGetMaxVcpus where there are none."""
    kind = ctl.opt_str(args, "type")
    conn = ctl.connection()
    vcpus = -1
    try:
        caps = conn.getDomainCapabilities(None, None, None, kind, 0)
        found = etree.fromstring(caps.encode()).xpath("string(./vcpu[1]/@max)")
        if str(found).isdigit():
            vcpus = int(str(found))
    except QvirtError:
        ctl.last_error = None
    if vcpus < 0:
        with ctl.failing(None):
            vcpus = conn.getMaxVcpus(kind)
    ctl.print(f"{vcpus}\n")
    return True


GROUP = CommandGroup("Host and Hypervisor", "host", (
    Command("capabilities", _print_call("{}\n", "failed to get capabilities", "getCapabilities"),
            "capabilities", "Returns capabilities of hypervisor/driver."),
    Command("domcapabilities", cmd_domcapabilities, "domain capabilities",
            "Returns capabilities of emulator with respect to host and libvirt.", (
                Opt("virttype", STRING, "virtualization type (/domain/@type)"),
                Opt("emulatorbin", STRING,
                    "path to emulator binary (/domain/devices/emulator)"),
                Opt("arch", STRING, "domain architecture (/domain/os/type/@arch)"),
                Opt("machine", STRING, "machine type (/domain/os/type/@machine)"))),
    Command("freecell", cmd_freecell, "NUMA free memory",
            "display available free memory for the NUMA cell.", (
                Opt("cellno", INT, "NUMA cell number"),
                Opt("all", BOOL, "show free memory for all NUMA cells"))),
    Command("hostname", _print_call("{}\n", "failed to get hostname", "getHostname"),
            "print the hypervisor hostname"),
    Command("maxvcpus", cmd_maxvcpus, "connection vcpu maximum",
            "Show maximum number of virtual CPUs for guests on this connection.",
            (Opt("type", STRING, "domain type"),)),
    Command("nodecpumap", cmd_nodecpumap, "node cpu map",
            "Displays the node's total number of CPUs, the number of online CPUs and the list "
            "of online CPUs.", (Opt("pretty", BOOL, "return human readable output"),)),
    Command("nodecpustats", cmd_nodecpustats, "Prints cpu stats of the node.",
            "Returns cpu stats of the node, in nanoseconds.", (
                Opt("cpu", INT, "prints specified cpu statistics only."),
                Opt("percent", BOOL, "prints by percentage during 1 second."))),
    Command("nodeinfo", cmd_nodeinfo, "node information",
            "Returns basic information about the node."),
    Command("nodememstats", cmd_nodememstats, "Prints memory stats of the node.",
            "Returns memory stats of the node, in kilobytes.",
            (Opt("cell", INT, "prints specified cell statistics only."),)),
    Command("sysinfo", _print_call("{}", "failed to get sysinfo", "getSysinfo"),
            "print the hypervisor sysinfo",
            "output an XML string for the hypervisor sysinfo, if available"),
    Command("uri", _print_call("{}\n", "failed to get URI", "getURI"),
            "print the hypervisor canonical URI"),
    Command("version", cmd_version, "show version", "Display the system version information.",
            (Opt("daemon", BOOL, "report daemon version too"),)),
))
