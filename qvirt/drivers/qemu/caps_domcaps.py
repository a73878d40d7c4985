"""The <domainCapabilities> of one binary, machine type and virtualization type
(qemu_capabilities.c virQEMUCapsFillDomainCaps).

Each enum is a table of (value, condition on the probed capabilities), in libvirt's order, so
what decides a value sits next to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qvirt.conf.domaincaps import (
    CPU,
    GIC,
    OS,
    SEV,
    SGX,
    BackingStoreInput,
    Backup,
    ChannelCaps,
    CPUMode,
    CPUModel,
    Devices,
    DiskCaps,
    DomainCapabilities,
    Enum,
    Features,
    FilesystemCaps,
    GenID,
    GraphicsCaps,
    HostdevCaps,
    HyperV,
    Loader,
    MemoryBacking,
    RedirdevCaps,
    RNGCaps,
    TPMCaps,
    VideoCaps,
    VMCoreInfo,
)
from qvirt.drivers.node import hostinfo
from qvirt.drivers.qemu import caps_arch
from qvirt.errors import ErrorDomain, InvalidArg

if TYPE_CHECKING:
    from qvirt.drivers.qemu.capabilities import MachineType, QemuCaps

# What a condition sees: the binary's capabilities and the machine type asked about.
Cond = Callable[["QemuCaps", "MachineType"], bool]
Table = tuple[tuple[str, Cond], ...]


def always(caps: QemuCaps, machine: MachineType) -> bool:
    return True


def qom(*types: str) -> Cond:
    """True when QEMU has any of these QOM types (devices, backends, objects)."""
    return lambda caps, machine: caps.has_type(*types)


def command(name: str) -> Cond:
    return lambda caps, machine: name in caps.commands


def display(name: str) -> Cond:
    return lambda caps, machine: name in caps.display_types


# Machine names by family, as qemu_domain.c tells them apart: exact names, and prefixes
# (ending in "-" or ".").
I440FX_MACHINES = ("pc", "pc-0.", "pc-1.", "pc-i440fx-")
# Machines of other arches with an IDE controller on board (qemuDomainMachineHasBuiltinIDE).
OTHER_IDE_MACHINES = ("malta", "sun4u", "g3beige")
PSERIES_MACHINES = ("pseries", "pseries-")


def _family(machine: MachineType, names: tuple[str, ...]) -> bool:
    return any(machine.name == n or (n.endswith(("-", ".")) and machine.name.startswith(n))
               for n in names)


def builtin_ide(caps: QemuCaps, machine: MachineType) -> bool:
    """The i440fx PC has its IDE controller on board; q35 has AHCI instead."""
    x86 = caps.arch in ("x86_64", "i686")
    return (x86 and _family(machine, I440FX_MACHINES)) or machine.name in OTHER_IDE_MACHINES


def floppy(caps: QemuCaps, machine: MachineType) -> bool:
    """Every machine takes a floppy controller but POWER's pseries."""
    return not (caps.arch.startswith("ppc64") and _family(machine, PSERIES_MACHINES))


DISK_DEVICES: Table = (("disk", always), ("cdrom", always), ("floppy", floppy),
                       ("lun", always))
DISK_BUSES: Table = (("ide", builtin_ide), ("fdc", floppy), ("scsi", always),
                     ("virtio", always), ("usb", qom("usb-storage")),
                     ("sata", qom("ich9-ahci")))
VIRTIO_MODELS: Table = (("virtio", always),
                        ("virtio-transitional", qom("virtio-blk-pci-transitional")),
                        ("virtio-non-transitional", qom("virtio-blk-pci-non-transitional")))
GRAPHICS_TYPES: Table = (("sdl", display("sdl")), ("vnc", command("query-vnc")),
                         ("spice", command("query-spice")),
                         ("egl-headless", display("egl-headless")),
                         ("dbus", display("dbus")))
VIDEO_MODELS: Table = (("vga", qom("VGA")), ("cirrus", qom("cirrus-vga")),
                       ("vmvga", qom("vmware-svga")), ("qxl", qom("qxl-vga")),
                       ("virtio", qom("virtio-vga", "virtio-gpu-pci")), ("none", always),
                       ("bochs", qom("bochs-display")), ("ramfb", qom("ramfb")))
HOSTDEV_SUBSYS: Table = (("usb", always), ("pci", always), ("scsi", qom("scsi-generic")))
STARTUP_POLICIES = ("default", "mandatory", "requisite", "optional")
RNG_MODELS: Table = (("virtio", always),
                     ("virtio-transitional", qom("virtio-rng-pci-transitional")),
                     ("virtio-non-transitional", qom("virtio-rng-pci-non-transitional")))
RNG_BACKENDS: Table = (("random", qom("rng-random")), ("egd", qom("rng-egd")),
                       ("builtin", qom("rng-builtin")))
FS_DRIVERS: Table = (("path", always), ("handle", always),
                     ("virtiofs", qom("vhost-user-fs-device")))


def tpm_model(name: str) -> Cond:
    return lambda caps, machine: name in caps.tpm_models


def tpm_backend(name: str) -> Cond:
    return lambda caps, machine: name in caps.tpm_types


def swtpm(caps: QemuCaps, machine: MachineType) -> bool:
    """The emulator backend needs swtpm on the host as well as QEMU's support."""
    return "emulator" in caps.tpm_types and shutil.which("swtpm") is not None


TPM_MODELS: Table = (("tpm-tis", tpm_model("tpm-tis")), ("tpm-crb", tpm_model("tpm-crb")),
                     ("tpm-spapr", tpm_model("tpm-spapr")))
TPM_BACKENDS: Table = (("passthrough", tpm_backend("passthrough")), ("emulator", swtpm))
REDIRDEV_BUSES: Table = (("usb", qom("usb-redir")),)
CHANNEL_TYPES: Table = (("pty", always), ("unix", always),
                        ("spicevmc", command("query-spice")))
MEMORY_SOURCES: Table = (("file", always), ("anonymous", always),
                         ("memfd", qom("memory-backend-memfd")))
LOADER_TYPES = ("rom", "pflash")
YES_NO = ("yes", "no")
ON_OFF = ("on", "off")
# The Hyper-V enlightenments libvirt can check for without KVM's answer.
HYPERV_FEATURES = ("spinlocks", "vendor_id")


def _values(table: Table, caps: QemuCaps, machine: MachineType) -> list[str]:
    return [value for value, cond in table if cond(caps, machine)]


def _enum(name: str, values: list[str] | tuple[str, ...]) -> Enum:
    return Enum(name=name, values=list(values))


def _vfio(caps: QemuCaps) -> bool:
    groups = Path("/sys/kernel/iommu_groups")
    return caps.has_type("vfio-pci") and groups.is_dir() and any(groups.iterdir())


# libvirt's virDomainVirtType names: any other virttype is not a virttype at all.
VIRT_TYPE_NAMES = ("none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test",
                   "vmware", "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz")

# The virttypes a QEMU binary can run at all, each with an accelerator of that name.
ACCEL_VIRT_TYPES = ("qemu", "kvm")


def domain_capabilities(caps: QemuCaps, machine: str | None, virttype: str | None,
                        arch: str | None, *,
                        kvm_max_vcpus: Callable[[], int] = hostinfo.kvm_max_vcpus,
                        ) -> DomainCapabilities:
    """Checked as qemuConnectGetDomainCapabilities checks: virttype, arch, then machine.
    A KVM guest's vCPUs are bounded by the machine type and by KVM itself."""
    if virttype is not None and virttype not in VIRT_TYPE_NAMES:
        raise InvalidArg(f"unknown virttype: {virttype}", domain=ErrorDomain.QEMU)
    virt = virttype or ("kvm" if caps.kvm_enabled else "qemu")
    if arch is not None and not caps_arch.serves(caps.arch, arch):
        raise InvalidArg(f"architecture from emulator '{caps.arch}' doesn't match given "
                         f"architecture '{arch}'", domain=ErrorDomain.QEMU)
    if virt not in ACCEL_VIRT_TYPES:
        raise InvalidArg(f"Emulator '{caps.binary}' does not support virt type '{virt}'",
                         domain=ErrorDomain.QEMU)
    if virt not in caps.virt_types():
        raise InvalidArg(f"the accel '{virt}' is not supported by '{caps.binary}' on this "
                         "host", domain=ErrorDomain.QEMU)
    found = caps.find_machine(machine, virt) if machine else caps.default_machine(virt)
    if found is None:
        raise InvalidArg(f"the machine '{machine}' is not supported by emulator "
                         f"'{caps.binary}'", domain=ErrorDomain.QEMU)
    m = found
    vcpu_max = m.max_cpus
    if virt == "kvm":
        vcpu_max = min(vcpu_max, kvm_max_vcpus())
    return DomainCapabilities(
        path=caps.binary, domain=virt, machine=m.name, arch=arch or caps.arch,
        vcpu_max=vcpu_max,
        iothreads=caps.has_type("iothread"),
        os=OS(supported=True, enums=[_enum("firmware", [])],
              loader=Loader(supported=True, enums=[_enum("type", LOADER_TYPES),
                                                   _enum("readonly", YES_NO),
                                                   _enum("secure", ("no",))])),
        cpu=_cpu(caps, virt),
        memory_backing=MemoryBacking(supported=True, enums=[
            _enum("sourceType", _values(MEMORY_SOURCES, caps, m))]),
        devices=_devices(caps, m),
        features=_features(caps))


def _cpu(caps: QemuCaps, virt: str) -> CPU:
    passthrough = CPUMode(name="host-passthrough", supported=virt == "kvm")
    if virt == "kvm":
        passthrough.enums = [_enum("hostPassthroughMigratable", ON_OFF)]
    custom = CPUMode(name="custom", supported=True, models=[
        CPUModel(usable="yes" if model.usable else "no", deprecated=model.deprecated or None,
                 vendor=vendor or "unknown", name=model.name)
        for model, vendor in caps.mapped_cpu_models(virt)])
    return CPU(modes=[passthrough,
                      CPUMode(name="maximum", supported=True,
                              enums=[_enum("maximumMigratable", ON_OFF)]),
                      # libvirt derives host-model by decoding CPUID against its CPU map;
                      # qvirt does not model that yet, so it offers none.
                      CPUMode(name="host-model", supported=False),
                      custom])


def _devices(caps: QemuCaps, m: MachineType) -> Devices:
    return Devices(
        disk=DiskCaps(supported=True, enums=[
            _enum("diskDevice", _values(DISK_DEVICES, caps, m)),
            _enum("bus", _values(DISK_BUSES, caps, m)),
            _enum("model", _values(VIRTIO_MODELS, caps, m))]),
        graphics=GraphicsCaps(supported=True, enums=[
            _enum("type", _values(GRAPHICS_TYPES, caps, m))]),
        video=VideoCaps(supported=True, enums=[
            _enum("modelType", _values(VIDEO_MODELS, caps, m))]),
        hostdev=HostdevCaps(supported=True, enums=[
            _enum("mode", ("subsystem",)),
            _enum("startupPolicy", STARTUP_POLICIES),
            _enum("subsysType", _values(HOSTDEV_SUBSYS, caps, m)),
            _enum("capsType", ()),
            _enum("pciBackend", ("default", "vfio") if _vfio(caps) else ())]),
        rng=RNGCaps(supported=True, enums=[
            _enum("model", _values(RNG_MODELS, caps, m)),
            _enum("backendModel", _values(RNG_BACKENDS, caps, m))]),
        filesystem=FilesystemCaps(supported=True, enums=[
            _enum("driverType", _values(FS_DRIVERS, caps, m))]),
        tpm=TPMCaps(supported=bool(caps.tpm_models), enums=[
            _enum("model", _values(TPM_MODELS, caps, m)),
            _enum("backendModel", _values(TPM_BACKENDS, caps, m))]),
        redirdev=RedirdevCaps(supported=caps.has_type("usb-redir"), enums=[
            _enum("bus", _values(REDIRDEV_BUSES, caps, m))]),
        channel=ChannelCaps(supported=True, enums=[
            _enum("type", _values(CHANNEL_TYPES, caps, m))]))


def _features(caps: QemuCaps) -> Features:
    x86 = caps.arch in ("x86_64", "i686")
    return Features(
        gic=GIC(supported=False),
        vmcoreinfo=VMCoreInfo(supported=caps.has_type("vmcoreinfo")),
        genid=GenID(supported=caps.has_type("vmgenid")),
        backing_store_input=BackingStoreInput(supported="blockdev-add" in caps.commands),
        backup=Backup(supported="block-dirty-bitmap-merge" in caps.commands),
        sev=SEV(supported=caps.sev),
        sgx=SGX(supported=caps.sgx),
        hyperv=HyperV(supported=x86, enums=[_enum("features", HYPERV_FEATURES)] if x86
                      else []))
