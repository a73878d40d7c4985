"""Domain-level defaults, as libvirt's QEMU driver fills them at define time
(virDomainDefPostParse and qemuDomainDefPostParse): identity, sizes, machine type, boot order,
guest CPU, clock, lifecycle actions and the emulator."""

from __future__ import annotations

import uuid as uuidlib

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices import Devices
from qvirt.conf.domain import Domain
from qvirt.conf.domain_clock import Clock
from qvirt.conf.domain_cpu import CPU, Model
from qvirt.conf.domain_security import SecLabel
from qvirt.conf.domain_tuning import NumaMemory, Numatune
from qvirt.errors import ConfigUnsupported


def apply(dom: Domain, facts: GuestFacts) -> None:
    """Fill this stage's defaults in place."""
    _check_qemu_limits(dom)
    if dom.uuid is None:
        dom.uuid = str(uuidlib.uuid4())
    if dom.genid == "":
        dom.genid = str(uuidlib.uuid4())
    _os(dom, facts)
    _numatune(dom)
    _cpu(dom, facts)
    if dom.clock is None:
        dom.clock = Clock(offset="utc")
    dom.on_poweroff = dom.on_poweroff or "destroy"
    dom.on_reboot = dom.on_reboot or "restart"
    dom.on_crash = dom.on_crash or "destroy"
    for label in dom.seclabels:
        _seclabel_model(label, facts)
    if dom.devices is None:
        dom.devices = Devices()
    if dom.devices.emulator is None:
        dom.devices.emulator = facts.emulators.get(dom.os.arch, facts.emulator)


def _check_qemu_limits(dom: Domain) -> None:
    """What the QEMU driver refuses although the schema allows it."""
    for event in ("poweroff", "reboot"):
        if getattr(dom, f"on_{event}") == "preserve":
            raise ConfigUnsupported("qemu driver doesn't support the 'preserve' action for "
                                    "'on_reboot'/'on_poweroff'")
    if dom.on_reboot == "destroy" and dom.on_poweroff == "restart":
        # libvirt's own wording, unbalanced quote included.
        raise ConfigUnsupported("qemu driver doesn't support 'onReboot' set to 'destroy and "
                                "'onPoweroff' set to 'reboot'")
    if dom.memtune is not None and dom.memtune.min_guarantee is not None:
        raise ConfigUnsupported("Parameter 'min_guarantee' not supported by QEMU.")
    if dom.bootloader is not None or dom.bootloader_args is not None:
        raise ConfigUnsupported("bootloader is not supported by QEMU")
    if _is_uefi(dom) and (dom.features is None or not dom.features.acpi):
        raise ConfigUnsupported("UEFI requires ACPI on this architecture")
    if dom.max_memory and (dom.cpu is None or dom.cpu.numa is None):
        raise ConfigUnsupported("At least one numa node has to be configured when enabling "
                                "memory hotplug")


def _is_uefi(dom: Domain) -> bool:
    loader = dom.os.loader
    return dom.os.firmware == "efi" or (loader is not None and loader.type == "pflash")


def _os(dom: Domain, facts: GuestFacts) -> None:
    os = dom.os
    if os.arch is None:
        os.arch = facts.arch
    machine = os.machine or facts.default_machine
    os.machine = facts.machines.get(machine, machine)
    if os.arch != facts.arch and os.arch not in facts.emulators:
        raise ConfigUnsupported(f"No emulator found for arch '{os.arch}'")
    if os.type != "hvm":
        raise ConfigUnsupported(f"Emulator '{facts.emulator}' does not support os type "
                                f"'{os.type}'")
    if dom.features is not None:
        dom.features.refuse_foreign(os.arch, os.machine)
    orders = _device_boot_orders(dom)
    seen: set[int] = set()
    for order in orders:
        if order in seen:
            raise ConfigUnsupported(f"boot order '{order}' used for more than one device")
        seen.add(order)
    if orders and os.boot:
        raise ConfigUnsupported(
            "per-device boot elements cannot be used together with os/boot elements")
    if not os.boot and not orders:
        os.boot = ["hd"]


def _device_boot_orders(dom: Domain) -> list[int]:
    """Every per-device <boot order>, whatever the device kind."""
    devices = dom.devices
    if devices is None:
        return []
    orders: list[int] = []
    for name, _ in devices.fields():
        value = getattr(devices, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            order = getattr(item, "boot", None)
            if isinstance(order, int):
                orders.append(order)
    return orders


def _numatune(dom: Domain) -> None:
    """The memory policy follows vCPU placement unless it names its own nodes or placement;
    automatic vCPU placement implies automatic memory placement even without <numatune>."""
    if dom.vcpu_placement == "auto" and dom.numatune is None:
        dom.numatune = Numatune()
    tune = dom.numatune
    if tune is None:
        return
    if tune.memory is None and dom.vcpu_placement == "auto":
        tune.memory = NumaMemory()
    memory = tune.memory
    if memory is None:
        return
    if memory.mode is None:
        memory.mode = "strict"
    if memory.placement == "auto" and dom.vcpu_cpuset is None:
        # Automatic memory placement carries vCPUs along unless they are pinned.
        dom.vcpu_placement = "auto"
    if memory.placement is None and memory.nodeset is None:
        memory.placement = dom.vcpu_placement
    if memory.placement == "static":
        memory.placement = None


def _cpu(dom: Domain, facts: GuestFacts) -> None:
    cpu = dom.cpu
    if cpu is None:
        cpu = dom.cpu = CPU()
    if cpu.mode is None:
        cpu.mode = "custom"
    if cpu.mode == "custom" and (cpu.model is None or not cpu.model.name):
        # The machine's default CPU model, which QEMU must not silently replace.
        # QEMU's 32-bit x86 machines default to qemu32, whatever the binary's own default.
        name = "qemu32" if dom.os.arch == "i686" else facts.default_cpu_model
        cpu.model = Model(fallback="forbid", name=name)
        if cpu.check is None:
            cpu.check = "none"
    if cpu.mode == "custom":
        if cpu.match is None:
            cpu.match = "exact"
        if cpu.model is not None and cpu.model.fallback is None:
            cpu.model.fallback = "allow"
    else:
        cpu.match = None
        if cpu.model is not None and not cpu.model.name:
            cpu.model = None
    if cpu.check is None:
        cpu.check = _default_check(dom.type, cpu.mode)
    if cpu.numa is not None:
        # vCPUs no cell names join the first cell.
        named = frozenset().union(*(c.cpus or frozenset() for c in cpu.numa.cells))
        rest = frozenset(range(dom.vcpu)) - named
        if rest:
            first = cpu.numa.cells[0]
            first.cpus = (first.cpus or frozenset()) | rest
    if cpu.mode == "host-passthrough" and cpu.migratable is None:
        cpu.migratable = True


def _default_check(virt_type: str | None, mode: str | None) -> str:
    """Custom CPUs under TCG are not compared with the host; under KVM they partly are."""
    if mode in ("host-passthrough", "maximum"):
        return "none"
    if mode == "host-model":
        return "partial"
    return "none" if virt_type == "qemu" else "partial"


def _seclabel_model(label: SecLabel, facts: GuestFacts) -> None:
    """A label without a model belongs to the host's first security driver; under the "none"
    driver there is nothing to label, whatever type was asked for."""
    if label.model is None:
        label.model = facts.security_model
    if label.model == "none":
        label.type = "none"
        label.relabel = label.label = label.baselabel = None
