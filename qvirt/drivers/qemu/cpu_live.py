"""The guest CPU of a started x86 domain as QEMU made it (qemuProcessUpdateAndVerifyCPU): QEMU
is asked which CPUID features it enabled and which it had to filter out, and the live <cpu>
names the differences from libvirt's model definition, then says check='full'; a CPU defined
with check='full' that QEMU could not run as defined fails the start."""

from __future__ import annotations

from qvirt.conf.domain import Domain
from qvirt.conf.domain_cpu import Feature
from qvirt.drivers.qemu import cpu_x86
from qvirt.drivers.qemu.monitor import QemuMonitor

X86_ARCHES = frozenset({"x86_64", "i686"})
# Where the first vCPU lives when query-cpus-fast cannot say (libvirt's default QOM path).
DEFAULT_CPU_PATH = "/machine/unattached/device[0]"


async def update_guest_cpu(monitor: QemuMonitor, live: Domain) -> None:
    cpu = live.cpu
    arch = live.os.arch if live.os is not None else None
    if cpu is None or arch not in X86_ARCHES:
        return
    named = cpu.model.name if cpu.model is not None else None
    if cpu.mode not in (None, "custom") or not named:
        return  # libvirtd 9.0 leaves the other modes' live CPU as defined, check included
    path = await _cpu_path(monitor)
    enabled = cpu_x86.qemu_feature_words(await monitor.execute(
        "qom-get", {"path": path, "property": "feature-words"}))
    disabled = cpu_x86.qemu_feature_words(await monitor.execute(
        "qom-get", {"path": path, "property": "filtered-features"}))
    features = cpu_x86.update_live(
        named, cpu.check,
        [cpu_x86.GuestFeature(str(f.name), str(f.policy)) for f in cpu.features],
        enabled, disabled)
    if features is None:
        return
    cpu.features = [Feature(policy=f.policy, name=f.name) for f in features]
    cpu.check = "full"


async def _cpu_path(monitor: QemuMonitor) -> str:
    cpus = await monitor.execute("query-cpus-fast")
    return str(cpus[0]["qom-path"]) if cpus else DEFAULT_CPU_PATH
