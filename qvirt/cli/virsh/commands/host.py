"""Host and Hypervisor: what the connection says of itself and of the node (virsh-host.c)."""

from __future__ import annotations

from lxml import etree

from qvirt.cli.virsh.control import Control
from qvirt.cli.virsh.grammar import Args, Command, CommandGroup, Handler, Opt, OptType
from qvirt.client.api import LIB_VERSION
from qvirt.errors import QvirtError

BOOL, STRING = OptType.BOOL, OptType.STRING


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
        model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = \
            ctl.connection().getInfo()
        # libvirt-python's getInfo rounds memory to MiB; virsh prints the KiB virNodeInfo
        # holds, which the raw entry point gives.
        memory = ctl.connection()._call("virNodeGetInfo").memory
    del memory_mib
    for label, value in (("CPU model:", model), ("CPU(s):", cpus),
                         ("CPU frequency:", f"{mhz} MHz"), ("CPU socket(s):", sockets),
                         ("Core(s) per socket:", cores), ("Thread(s) per core:", threads),
                         ("NUMA cell(s):", nodes), ("Memory size:", f"{memory} KiB")):
        ctl.print(f"{label:<20} {value}\n")
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
    Command("hostname", _print_call("{}\n", "failed to get hostname", "getHostname"),
            "print the hypervisor hostname"),
    Command("maxvcpus", cmd_maxvcpus, "connection vcpu maximum",
            "Show maximum number of virtual CPUs for guests on this connection.",
            (Opt("type", STRING, "domain type"),)),
    Command("nodeinfo", cmd_nodeinfo, "node information",
            "Returns basic information about the node."),
    Command("sysinfo", _print_call("{}", "failed to get sysinfo", "getSysinfo"),
            "print the hypervisor sysinfo",
            "output an XML string for the hypervisor sysinfo, if available"),
    Command("uri", _print_call("{}\n", "failed to get URI", "getURI"),
            "print the hypervisor canonical URI"),
    Command("version", cmd_version, "show version", "Display the system version information.",
            (Opt("daemon", BOOL, "report daemon version too"),)),
))
