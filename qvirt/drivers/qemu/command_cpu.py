"""-cpu: the guest CPU model and every CPU property the domain XML sets, in the order
libvirt's qemuBuildCpuCommandLine appends them (model features, timers, paravirt features,
Hyper-V enlightenments, KVM features, PMU, cache and address width)."""

from __future__ import annotations

from qvirt.conf.domain import Domain
from qvirt.conf.domain_features import HyperV, Spinlocks, STimer, Switch, TLBFlush, VendorID
from qvirt.drivers.qemu.command_context import Context

FEATURE_POLICY = {"force": "on", "require": "on", "optional": "on", "disable": "off",
                  "forbid": "off"}

# Hyper-V switches with their QEMU property, in libvirt's order. spinlocks, vendor_id,
# stimer and tlbflush carry values and are written by _hyperv itself.
HYPERV_SWITCHES = ("relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
                   "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",
                   "evmcs", "avic", "emsr_bitmap", "xmm_input")
KVM_SWITCHES = (("hidden", "kvm"), ("hint_dedicated", "kvm-hint-dedicated"),
                ("poll_control", "kvm-poll-control"), ("pv_ipi", "kvm-pv-ipi"))


# libvirt's CPU feature names that QEMU spells differently; otherwise '_' becomes '-'.
QEMU_FEATURE_NAMES = {"sse4.1": "sse4.1", "sse4.2": "sse4.2", "sse4_1": "sse4.1",
                      "sse4_2": "sse4.2", "pclmuldq": "pclmulqdq"}


def qemu_feature(name: str) -> str:
    return QEMU_FEATURE_NAMES.get(name, name.replace("_", "-"))


def _onoff(value: bool | None) -> str:
    return "on" if value else "off"


def _model(dom: Domain) -> list[str] | None:
    cpu = dom.cpu
    if cpu is None:
        return None
    if cpu.mode in ("host-passthrough", "host-model"):
        parts = ["host" if dom.type == "kvm" else "max"]
        if cpu.mode == "host-passthrough" and cpu.migratable is False:
            parts.append("migratable=off")
        return parts
    if cpu.mode == "maximum":
        return ["max"]
    if cpu.model is None or not cpu.model.name:
        return None
    parts = [str(cpu.model.name)]
    if cpu.model.vendor_id:
        parts.append(f"vendor={cpu.model.vendor_id}")
    return parts


def _hyperv(hyperv: HyperV) -> list[str]:
    if hyperv.mode == "passthrough":
        return ["hv-passthrough=on"]
    parts: list[str] = []
    for name in HYPERV_SWITCHES:
        switch: Switch | None = getattr(hyperv, name)
        if switch is None or not switch.state:
            continue
        prop = "hv-" + name.replace("_", "-")
        if isinstance(switch, Spinlocks):
            parts.append(f"hv-spinlocks=0x{int(switch.retries or 0):x}")
        elif isinstance(switch, VendorID):
            parts.append(f"hv-vendor-id={switch.value or ''}")
        else:
            parts.append(f"{prop}=on")
            if isinstance(switch, STimer | TLBFlush) and switch.direct:
                parts.append(f"{prop}-direct=on")
            if isinstance(switch, TLBFlush) and switch.extended:
                parts.append(f"{prop}-extended=on")
    return parts


def cpu(ctx: Context) -> list[str]:
    dom = ctx.dom
    parts = _model(dom)
    if parts is None:
        return []
    cpu_def = dom.cpu
    assert cpu_def is not None
    for feature in cpu_def.features:
        value = FEATURE_POLICY.get(str(feature.policy), "on")
        parts.append(f"{qemu_feature(str(feature.name))}={value}")
    timers = {t.name: t for t in dom.clock.timers} if dom.clock is not None else {}
    for name, prop in (("kvmclock", "kvmclock"), ("hypervclock", "hv-time")):
        timer = timers.get(name)
        if timer is not None and timer.present is not None:
            parts.append(f"{prop}={_onoff(timer.present)}")
    features = dom.features
    if features is not None:
        if features.apic_eoi is not None:
            parts.append(f"kvm-pv-eoi={_onoff(features.apic_eoi)}")
        if features.pvspinlock is not None:
            parts.append(f"kvm-pv-unhalt={_onoff(features.pvspinlock.state)}")
        if features.hyperv is not None:
            parts += _hyperv(features.hyperv)
    if any(p.model == "hyperv" for p in dom.devices.panics):
        parts.append("hv-crash")
    if features is not None:
        if features.kvm is not None:
            for name, prop in KVM_SWITCHES:
                switch = getattr(features.kvm, name)
                if switch is not None:
                    # <hidden state='on'/> hides KVM: the property is kvm=off.
                    state = not switch.state if name == "hidden" else switch.state
                    parts.append(f"{prop}={_onoff(state)}")
        if features.pmu is not None:
            parts.append(f"pmu={_onoff(features.pmu.state)}")
    cache = cpu_def.cache
    if cache is not None:
        if cache.mode == "passthrough":
            parts.append("host-cache-info=on")
        elif cache.level == 3 and cache.mode == "emulate":
            parts.append("l3-cache=on")
        elif cache.mode == "disable":
            parts.append("l3-cache=off")
    phys = cpu_def.maxphysaddr
    if phys is not None:
        if phys.mode == "passthrough":
            parts.append("host-phys-bits=on")
            if phys.bits:
                parts.append(f"host-phys-bits-limit={phys.bits}")
        elif phys.bits:
            parts.append(f"phys-bits={phys.bits}")
    return ["-cpu", ",".join(parts)]
