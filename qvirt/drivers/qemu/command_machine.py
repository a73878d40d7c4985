"""The machine-wide options of the command line: identity, machine type and accelerator, CPU,
memory and NUMA, SMBIOS, the monitor, clock, lifecycle, boot and the direct kernel, and the
fixed options libvirt always passes (-no-user-config, -nodefaults, -sandbox, -msg)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from qvirt.conf.domain import Domain
from qvirt.conf.domain_cpu import Cell
from qvirt.drivers.qemu.command_context import Context
from qvirt.drivers.qemu.command_devices import machine_memory_flags
from qvirt.drivers.qemu.command_net import spawns_helper
from qvirt.drivers.qemu.command_props import Props, escape, keyval, to_json

SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
MIB = 1024 * 1024


def name(ctx: Context) -> list[str]:
    return ["-name", f"guest={escape(str(ctx.dom.name))},debug-threads=on"]


# <qemu:deprecation behavior> -> -compat, as libvirt maps it.
DEPRECATION = {"omit": {"deprecated-output": "hide"},
               "reject": {"deprecated-input": "reject", "deprecated-output": "hide"},
               "crash": {"deprecated-input": "crash", "deprecated-output": "hide"}}


def compat(ctx: Context) -> list[str]:
    deprecation = ctx.dom.qemu_deprecation
    behavior = DEPRECATION.get(str(deprecation.behavior)) if deprecation is not None else None
    return ["-compat", to_json(behavior)] if behavior else []


def paused(_ctx: Context) -> list[str]:
    """Always -S: the driver sets the guest up over QMP, then sends cont."""
    return ["-S"]


def pflash(ctx: Context) -> list[str]:
    """A pflash loader (and its NVRAM varstore) are block nodes the machine points to."""
    loader = ctx.dom.os.loader
    if loader is None or loader.type != "pflash" or not loader.path:
        return []
    argv = ["-blockdev", to_json({"driver": "file", "filename": loader.path,
                                  "node-name": "libvirt-pflash0-storage",
                                  "auto-read-only": True, "discard": "unmap"}),
            "-blockdev", to_json({"node-name": "libvirt-pflash0-format",
                                  "read-only": bool(loader.readonly), "driver": "raw",
                                  "file": "libvirt-pflash0-storage"})]
    nvram = ctx.dom.os.nvram
    if nvram is not None and nvram.path:
        argv += ["-blockdev", to_json({"driver": "file", "filename": nvram.path,
                                       "node-name": "libvirt-pflash1-storage",
                                       "auto-read-only": True, "discard": "unmap"}),
                 "-blockdev", to_json({"node-name": "libvirt-pflash1-format",
                                       "read-only": False,
                                       "driver": nvram.format or "raw",
                                       "file": "libvirt-pflash1-storage"})]
    return argv


def _uses_memory_backend(dom: Domain) -> bool:
    """Without guest NUMA the whole RAM is one backend object the machine names."""
    return not _numa_cells(dom)


def _numa_cells(dom: Domain) -> list[Cell]:
    cpu = dom.cpu
    return list(cpu.numa.cells) if cpu is not None and cpu.numa is not None else []


def machine(ctx: Context) -> list[str]:
    dom = ctx.dom
    features = dom.features
    pairs: list[tuple[str, object | None]] = [("usb", False)]
    if features is not None:
        if features.vmport is not None:
            pairs.append(("vmport", features.vmport.state))
        if features.smm is not None:
            pairs.append(("smm", features.smm.state))
        if features.ioapic == "qemu":
            pairs.append(("kernel_irqchip", "split"))
    pairs.append(("dump-guest-core", bool(dom.memory_dump_core)))
    if dom.memory_backing is not None and dom.memory_backing.nosharepages:
        pairs.append(("mem-merge", False))
    pairs += machine_memory_flags(dom)
    if _uses_memory_backend(dom):
        pairs.append(("memory-backend", _ram_id(dom)))
    loader = dom.os.loader
    if loader is not None and loader.type == "pflash" and loader.path:
        pairs.append(("pflash0", "libvirt-pflash0-format"))
        if dom.os.nvram is not None and dom.os.nvram.path:
            pairs.append(("pflash1", "libvirt-pflash1-format"))
    return ["-machine", keyval(str(dom.os.machine), *pairs)]


def _ram_id(dom: Domain) -> str:
    """QEMU's name for the machine's RAM region: pc.ram on x86."""
    return "pc.ram"


def accel(ctx: Context) -> list[str]:
    dom = ctx.dom
    kind = "kvm" if dom.type == "kvm" else "tcg"
    pairs: list[tuple[str, object | None]] = []
    features = dom.features
    if kind == "tcg" and features is not None and features.tcg is not None \
            and features.tcg.tb_cache:
        pairs.append(("tb-size", int(features.tcg.tb_cache) // 1024))
    if kind == "kvm" and features is not None and features.kvm is not None \
            and features.kvm.dirty_ring is not None and features.kvm.dirty_ring.state:
        pairs.append(("dirty-ring-size", features.kvm.dirty_ring.size))
    return ["-accel", keyval(kind, *pairs)]


def tseg(ctx: Context) -> list[str]:
    """A q35 machine's extended TSEG for SMM, in MiB."""
    features = ctx.dom.features
    smm = features.smm if features is not None else None
    if smm is None or not smm.state or smm.tseg is None:
        return []
    return ["-global", f"mch.extended-tseg-mbytes={int(smm.tseg)}"]


def bios(ctx: Context) -> list[str]:
    loader = ctx.dom.os.loader
    if loader is None or not loader.path or loader.type == "pflash":
        return []
    return ["-bios", loader.path]


def _kib(value: object) -> int:
    return int(str(value))


def memory(ctx: Context) -> list[str]:
    dom = ctx.dom
    total_kib = _kib(dom.memory)
    hotplug = sum(_kib(m.target.size) for m in dom.devices.memories
                  if m.target is not None and m.target.size)
    # QEMU sizes RAM in whole MiB: libvirt rounds the initial memory up to one.
    initial_kib = -(-(total_kib - hotplug) // 1024) * 1024
    size = f"{initial_kib // 1024}"
    if dom.max_memory:
        size = f"size={initial_kib}k,slots={dom.max_memory_slots or 0},maxmem={dom.max_memory}k"
    argv = ["-m", size]
    if _uses_memory_backend(dom):
        argv += ["-object", to_json(_ram_backend(ctx, _ram_id(dom), initial_kib * 1024, None))]
    locked = dom.memory_backing is not None and dom.memory_backing.locked
    argv += ["-overcommit", f"mem-lock={'on' if locked else 'off'}"]
    return argv


def _ram_backend(ctx: Context, backend_id: str, size: int, cell: int | None) -> Props:
    """memory-backend-ram, -file or -memfd as <memoryBacking> asks, with NUMA policy.
    File-backed RAM lives in the domain's directory, where QEMU makes (and unlinks) its
    own file."""
    dom = ctx.dom
    ram_dir = ctx.paths.domain_dir
    backing = dom.memory_backing
    source = backing.source if backing is not None else None
    shared = None
    if cell is not None:
        access = _numa_cells(dom)[cell].mem_access
        shared = access == "shared" if access else None
    if shared is None and backing is not None and backing.access is not None:
        shared = backing.access == "shared"
    props: Props
    if source == "memfd":
        props = {"qom-type": "memory-backend-memfd", "id": backend_id,
                 "share": bool(shared),
                 "x-use-canonical-path-for-ramblock-id": False}
    elif source == "file" or shared:
        props = {"qom-type": "memory-backend-file", "id": backend_id,
                 "mem-path": str(ram_dir), "share": bool(shared)}
        if backend_id == "pc.ram":
            props["x-use-canonical-path-for-ramblock-id"] = False
    else:
        props = {"qom-type": "memory-backend-ram", "id": backend_id}
    if backing is not None and backing.allocation == "immediate":
        props["prealloc"] = True
        if backing.allocation_threads:
            props["prealloc-threads"] = backing.allocation_threads
    props["size"] = size
    policy = _numa_policy(dom, cell)
    if policy is not None:
        props["host-nodes"], props["policy"] = policy
    return props


_POLICIES = {"strict": "bind", "preferred": "preferred", "interleave": "interleave",
             "restrictive": "bind"}


def _numa_policy(dom: Domain, cell: int | None) -> tuple[list[int], str] | None:
    tune = dom.numatune
    if tune is None:
        return None
    mode, nodeset = (tune.memory.mode, tune.memory.nodeset) if tune.memory else (None, None)
    if cell is not None:
        node = next((m for m in tune.memnodes if m.cellid == cell), None)
        if node is not None:
            mode, nodeset = node.mode or mode, node.nodeset
    if not nodeset or mode == "restrictive":
        return None
    return sorted(nodeset), _POLICIES[str(mode or "strict")]


def smp(ctx: Context) -> list[str]:
    dom = ctx.dom
    maximum = int(dom.vcpu or 1)
    current = int(dom.vcpu_current or maximum)
    if dom.vcpus:
        # Hot-pluggable vCPUs are plugged over QMP after start: -smp counts only the others.
        current = sum(1 for v in dom.vcpus if v.enabled and not v.hotpluggable)
    topo = dom.cpu.topology if dom.cpu is not None else None
    pairs: list[tuple[str, object | None]] = []
    if current != maximum:
        pairs.append(("maxcpus", maximum))
    if topo is not None:
        pairs += [("sockets", topo.sockets or 1), ("dies", topo.dies or 1),
                  ("cores", topo.cores or 1), ("threads", topo.threads or 1)]
    else:
        pairs += [("sockets", maximum), ("cores", 1), ("threads", 1)]
    return ["-smp", keyval(str(current), *pairs)]


def iothreads(ctx: Context) -> list[str]:
    argv: list[str] = []
    for thread in ctx.dom.iothreadids:
        argv += ["-object", to_json({"qom-type": "iothread", "id": f"iothread{thread.id}"})]
    if not ctx.dom.iothreadids:
        for index in range(1, int(ctx.dom.iothreads or 0) + 1):
            argv += ["-object", to_json({"qom-type": "iothread", "id": f"iothread{index}"})]
    return argv


def _ranges(cpus: frozenset[int] | None) -> list[str]:
    """1,2,3,5 -> ['1-3', '5']: QEMU takes one cpus= per range."""
    runs: list[list[int]] = []
    for value in sorted(cpus or ()):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]


def numa(ctx: Context) -> list[str]:
    dom = ctx.dom
    cells = dom.cpu.numa.cells if dom.cpu is not None and dom.cpu.numa is not None else []
    argv: list[str] = []
    for index, cell in enumerate(cells):
        size = _kib(cell.memory) * 1024
        argv += ["-object", to_json(_ram_backend(ctx, f"ram-node{index}", size, index))]
        parts = [f"node,nodeid={cell.id if cell.id is not None else index}"]
        parts += [f"cpus={r}" for r in _ranges(cell.cpus)]
        parts.append(f"memdev=ram-node{index}")
        argv += ["-numa", ",".join(parts)]
    for index, cell in enumerate(cells):
        for sibling in cell.distances:
            src = cell.id if cell.id is not None else index
            argv += ["-numa", f"dist,src={src},dst={sibling.id},val={sibling.value}"]
    return argv


def uuid(ctx: Context) -> list[str]:
    return ["-uuid", str(ctx.dom.uuid)]


_SMBIOS_FIELDS = {
    "bios": (0, {"vendor": "vendor", "version": "version", "date": "date",
                 "release": "release"}),
    "system": (1, {"manufacturer": "manufacturer", "product": "product",
                   "version": "version", "serial": "serial", "uuid": "uuid",
                   "sku": "sku", "family": "family"}),
    "chassis": (3, {"manufacturer": "manufacturer", "version": "version",
                    "serial": "serial", "asset": "asset", "sku": "sku"}),
}


def smbios(ctx: Context) -> list[str]:
    dom = ctx.dom
    if dom.os.smbios != "sysinfo":
        return []
    info = next((s for s in dom.sysinfo if s.type == "smbios"), None)
    if info is None:
        return []
    argv: list[str] = []
    for block_name in ("bios", "system"):
        block = getattr(info, block_name)
        if block is not None and block.entries:
            number, keys = _SMBIOS_FIELDS[block_name]
            argv += ["-smbios", keyval(f"type={number}", *[(keys[e.name], e.value)
                                                          for e in block.entries])]
    for board in info.base_boards:
        keys2 = {n: n for n in ("manufacturer", "product", "version", "serial", "asset",
                                "location")}
        argv += ["-smbios", keyval("type=2", *[(keys2[e.name], e.value)
                                               for e in board.entries])]
    if info.chassis is not None and info.chassis.entries:
        number, keys = _SMBIOS_FIELDS["chassis"]
        argv += ["-smbios", keyval(f"type={number}", *[(keys[e.name], e.value)
                                                      for e in info.chassis.entries])]
    if info.oem_strings is not None and info.oem_strings.entries:
        argv += ["-smbios", keyval("type=11", *[("value", e.value)
                                                for e in info.oem_strings.entries])]
    return argv


def fw_cfg(ctx: Context) -> list[str]:
    argv: list[str] = []
    for info in ctx.dom.sysinfo:
        if info.type != "fwcfg":
            continue
        for entry in info.entries:
            argv += ["-fw_cfg", keyval(f"name={escape(str(entry.name))}",
                                       ("file", entry.file), ("string", entry.value))]
    return argv


def vmgenid(ctx: Context) -> list[str]:
    if not ctx.dom.genid:
        return []
    return ["-device", to_json({"driver": "vmgenid", "guid": ctx.dom.genid,
                                "id": "vmgenid0"})]


def defaults(_ctx: Context) -> list[str]:
    return ["-no-user-config", "-nodefaults"]


def monitor(ctx: Context) -> list[str]:
    return ["-chardev", keyval("socket", ("id", "charmonitor"),
                               ("path", str(ctx.paths.monitor)), ("server", True),
                               ("wait", False)),
            "-mon", "chardev=charmonitor,id=monitor,mode=control"]


def clock(ctx: Context) -> list[str]:
    clk = ctx.dom.clock
    offset = clk.offset if clk is not None else "utc"
    if offset == "localtime":
        base = "localtime"
    elif offset == "variable" and clk is not None:
        basis = clk.basis or "utc"
        now = time.time() + int(clk.adjustment or 0)
        stamp = datetime.fromtimestamp(now, UTC) if basis == "utc" else \
            datetime.fromtimestamp(now)
        base = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    elif offset == "timezone":
        base = "localtime"
    else:
        base = "utc"
    pairs: list[tuple[str, object | None]] = []
    timers = {t.name: t for t in clk.timers} if clk is not None else {}
    rtc = timers.get("rtc")
    if rtc is not None:
        if rtc.track in ("guest", "realtime"):
            pairs.append(("clock", "vm" if rtc.track == "guest" else "rt"))
        elif rtc.track == "wall":
            pairs.append(("clock", "host"))
        if rtc.tickpolicy == "catchup":
            pairs.append(("driftfix", "slew"))
    argv = ["-rtc", keyval(f"base={base}", *pairs)]
    pit = timers.get("pit")
    if pit is not None and pit.tickpolicy is not None:
        policy = {"delay": "delay", "catchup": "slew", "discard": "discard"}.get(
            str(pit.tickpolicy))
        if policy is not None:
            argv += ["-global", f"kvm-pit.lost_tick_policy={policy}"]
    hpet = timers.get("hpet")
    if hpet is not None and hpet.present is False:
        argv += ["-no-hpet"]
    return argv


def lifecycle(ctx: Context) -> list[str]:
    """-no-shutdown always: the driver acts on poweroff itself. -no-acpi for a pc guest
    without <acpi/>."""
    argv = ["-no-shutdown"]
    features = ctx.dom.features
    if features is None or not features.acpi:
        argv.append("-no-acpi")
    return argv


def pm(ctx: Context) -> list[str]:
    dom = ctx.dom
    argv: list[str] = []
    q35 = "q35" in str(dom.os.machine)
    prefix = "ICH9-LPC" if q35 else "PIIX4_PM"
    for attr, name in (("suspend_to_mem", "disable_s3"), ("suspend_to_disk", "disable_s4")):
        value = getattr(dom, attr)
        if value is not None:
            argv += ["-global", f"{prefix}.{name}={0 if value else 1}"]
    return argv


def boot(ctx: Context) -> list[str]:
    """-boot: the menu, the reboot timeout, and strict=on (boot only from bootindex
    devices, never fall back)."""
    os_def = ctx.dom.os
    pairs: list[tuple[str, object | None]] = []
    if os_def.bootmenu is not None:
        pairs.append(("menu", os_def.bootmenu))
    pairs.append(("reboot-timeout", os_def.bios_reboot_timeout))
    if os_def.bootmenu:
        pairs.append(("splash-time", os_def.bootmenu_timeout))
    pairs.append(("strict", True))
    head, *rest = [(k, v) for k, v in pairs if v is not None]
    return ["-boot", keyval(f"{head[0]}={_onoff_value(head[1])}", *rest)]


def _onoff_value(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def kernel(ctx: Context) -> list[str]:
    os_def = ctx.dom.os
    argv: list[str] = []
    for option, value in (("-kernel", os_def.kernel), ("-initrd", os_def.initrd),
                          ("-append", os_def.cmdline), ("-dtb", os_def.dtb)):
        if value:
            argv += [option, value]
    for table in os_def.acpi_tables:
        argv += ["-acpitable", keyval(f"sig={str(table.type).upper()}", ("file", table.path))]
    return argv


def sandbox(ctx: Context) -> list[str]:
    """QEMU's seccomp sandbox as libvirt sets it, except that a guest whose QEMU must run a
    helper (qemu-bridge-helper, an ethernet script) keeps the right to spawn it."""
    if any(spawns_helper(net) for net in ctx.dom.devices.interfaces
           if str(net.mac) not in ctx.paths.net_fds):
        return ["-sandbox", SANDBOX.replace(",spawn=deny", "")]
    return ["-sandbox", SANDBOX]


def msg(_ctx: Context) -> list[str]:
    return ["-msg", "timestamp=on"]
