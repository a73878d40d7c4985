"""Implicit devices and device defaults, as libvirt 9.0's QEMU driver fills them at define time
(virDomainDefPostParse with the QEMU callbacks: qemuDomainDefPostParse,
qemuDomainDeviceDefPostParse and the common virDomainDefAddImplicitDevices).

Runs after the domain-level stage and before address assignment, which must see every device
this stage adds (the balloon, the default video, the serial port a console asks for).
"""

from __future__ import annotations

from collections.abc import Sequence

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices import Devices
from qvirt.conf.devices.chardev import Channel, Console, Parallel, Serial
from qvirt.conf.devices.graphics import Listen, Video
from qvirt.conf.devices.input import Input
from qvirt.conf.devices.iommu import IOMMU
from qvirt.conf.devices.memballoon import Memballoon
from qvirt.conf.devices.shmem import Shmem
from qvirt.conf.devices.sound import Audio
from qvirt.conf.domain import Domain
from qvirt.errors import ConfigUnsupported, InternalError

# The target model each serial target type implies (qemuDomainChrTargetDefPostParse).
_SERIAL_MODELS = {"isa-serial": "isa-serial", "usb-serial": "usb-serial",
                  "pci-serial": "pci-serial", "spapr-vio-serial": "spapr-vty",
                  "system-serial": "pl011", "sclp-serial": "sclpconsole",
                  "isa-debug": "isa-debugcon"}

# Video memory defaults in KiB, per model (virDomainVideoDefaultRAM, QEMU's QXL defaults).
_VIDEO_VRAM = {"vga": 16384, "cirrus": 16384, "vmvga": 16384, "bochs": 16384, "qxl": 65536}
_QXL_RAM = 65536
_QXL_VGAMEM = 16384


def _is_x86(facts: GuestFacts) -> bool:
    return facts.arch in ("x86_64", "i686")


def apply(dom: Domain, facts: GuestFacts) -> None:
    """Fill this stage's defaults in place."""
    if dom.devices is None:
        dom.devices = Devices()
    devices = dom.devices
    _chardevs(devices)
    _inputs(devices, facts)
    _graphics(devices)
    _audio(devices)
    _videos(devices)
    if devices.memballoon is None:
        devices.memballoon = Memballoon(model="virtio")
    _forget_storage_ids(devices)
    _misc(devices)
    _check_spice(devices)
    _check_support(dom, devices, facts)


# Character devices ------------------------------------------------------------------------

def _number_ports(chrs: Sequence[Serial | Parallel]) -> None:
    """virDomainChrDefPostParse: a device without a port takes one past the highest port
    of its kind, in document order."""
    for chr_ in chrs:
        if chr_.target_port is None:
            ports = [c.target_port for c in chrs if c.target_port is not None]
            chr_.target_port = max(ports, default=-1) + 1


def _chardevs(devices: Devices) -> None:
    for console in devices.consoles[1:]:
        if console.target_type in (None, "serial"):
            raise ConfigUnsupported("Only the first console can be a serial port")
    _number_ports(devices.serials)
    _number_ports(devices.parallels)
    for index, console in enumerate(devices.consoles):
        # libvirt's parser numbers consoles by position, whatever port was written.
        console.target_port = index
    for serial in devices.serials:
        if serial.target_type is None:
            serial.target_type = "isa-serial"
        if serial.target_model is None:
            serial.target_model = _SERIAL_MODELS.get(serial.target_type)
    _console_compat(devices)
    for channel in devices.channels:
        # The connection state is runtime information, forgotten at define.
        channel.target_state = None
    for console in devices.consoles:
        console.tty = None


def _forget_storage_ids(devices: Devices) -> None:
    """The ids a start gives a disk's images are runtime information, forgotten at define
    (the chain itself is kept: libvirt reads a given <backingStore> as the user's)."""
    for disk in devices.disks:
        if disk.source is not None:
            disk.source.index = None
        layer = disk.backing_store
        while layer is not None:
            layer.index = None
            layer = layer.backing_store


def _console_compat(devices: Devices) -> None:
    """virDomainDefAddConsoleCompat: the first console of an HVM guest, if it is of target type
    serial, is the first serial port under another name; and a first serial port on the ISA
    bus gets such a console even when none was written."""
    consoles, serials = devices.consoles, devices.serials
    if consoles and consoles[0].target_type in (None, "serial"):
        first = consoles[0]
        first.target_type = "serial"
        if not serials:
            serial = Serial(type=first.type, sources=first.sources, protocol=first.protocol,
                            log_file=first.log_file, log_append=first.log_append,
                            target_type="isa-serial", target_port=0,
                            target_model="isa-serial", alias=first.alias,
                            address=first.address)
            serials.append(serial)
        first.serial = serials[0]
    elif serials and serials[0].target_type == "isa-serial":
        stub = Console(target_type="serial")
        stub.serial = serials[0]
        consoles.insert(0, stub)


# Input, graphics, audio, video ---------------------------------------------------------

def _inputs(devices: Devices, facts: GuestFacts) -> None:
    for dev in devices.inputs:
        if dev.bus is None:
            if dev.type in ("mouse", "keyboard"):
                dev.bus = "ps2" if _is_x86(facts) else "usb"
            elif dev.type == "tablet":
                dev.bus = "usb"
            elif dev.type == "passthrough":
                dev.bus = "virtio"
        if dev.bus == "ps2" and dev.type not in ("mouse", "keyboard"):
            raise InternalError(f"ps2 bus does not support {dev.type} input device")
    if _is_x86(facts):
        for kind in ("mouse", "keyboard"):
            if not any(d.type == kind and d.bus == "ps2" for d in devices.inputs):
                devices.inputs.append(Input(type=kind, bus="ps2"))


def _graphics(devices: Devices) -> None:
    for gfx in devices.graphics:
        if gfx.type in ("rdp", "desktop"):
            raise ConfigUnsupported(f"{gfx.type} graphics are not supported with this QEMU")
        if gfx.type == "spice" and not (gfx.port or gfx.tls_port or gfx.autoport) and (
                not gfx.listens or gfx.listens[0].type == "address"):
            # Without ports SPICE listens nowhere, whatever address was written.
            gfx.listens = [Listen(type="none")]
            gfx.listen = gfx.autoport = None
        elif gfx.type in ("vnc", "spice") and not gfx.listens:
            gfx.listens = [Listen(type="address")]


def _audio(devices: Devices) -> None:
    """qemuDomainDefAddDefaultAudioBackend with qemu.conf's defaults: no host audio for VNC
    or for guests without graphics, SPICE's own audio for SPICE, none for SDL (which would
    pass the host's through only with QEMU_AUDIO_DRV set)."""
    if devices.audios:
        return
    add, passthrough, backend = not devices.graphics, False, "none"
    for gfx in devices.graphics:
        if gfx.type == "vnc":
            add, passthrough, backend = True, False, "none"
        elif gfx.type == "spice":
            add, backend = True, "spice"
        elif gfx.type == "sdl":
            add, passthrough = True, True
    if add and not passthrough:
        devices.audios.append(Audio(id=1, type=backend))


def _videos(devices: Devices) -> None:
    videos = devices.videos
    if devices.graphics and not videos:
        videos.append(Video())
    primary = next((v for v in videos if v.primary), None)
    if primary is not None and videos[0] is not primary:
        videos.remove(primary)
        videos.insert(0, primary)
    for index, video in enumerate(videos):
        if video.model in (None, "default"):
            video.model = "cirrus"
        if video.model == "none":
            continue
        if index == 0:
            video.primary = True
        elif video.primary is False:
            video.primary = None
        if video.accel2d:
            raise ConfigUnsupported("qemu does not support the accel2d setting")
        if video.accel3d and video.model != "virtio":
            raise ConfigUnsupported(
                "3d acceleration is supported only with 'virtio' video device")
        if video.model in ("vga", "ramfb") and index > 0:
            raise ConfigUnsupported(
                f"video type '{video.model}' is only valid as primary video device")
        if video.vram is None and video.model in _VIDEO_VRAM:
            video.vram = _VIDEO_VRAM[video.model]
        if video.model == "qxl":
            if video.ram is None:
                video.ram = _QXL_RAM
            if video.vgamem is None:
                video.vgamem = _QXL_VGAMEM
        if video.heads is None:
            video.heads = 1


# The rest ------------------------------------------------------------------------------

def _misc(devices: Devices) -> None:
    if len(devices.watchdogs) > 1:
        raise InternalError("only a single watchdog device is supported")
    for watchdog in devices.watchdogs:
        if watchdog.action is None:
            watchdog.action = "reset"
    for shmem in devices.shmems:
        _check_shmem(shmem)
    for rng in devices.rngs:
        if rng.backend is not None and rng.backend.model == "random" and not rng.backend.path:
            rng.backend.path = "/dev/random"
    for panic in devices.panics:
        if panic.model is None:
            panic.model = "isa"
    for tpm in devices.tpms:
        if tpm.model is None:
            tpm.model = "tpm-tis"
        if tpm.backend_type == "passthrough" and tpm.device_path is None:
            tpm.device_path = "/dev/tpm0"
    if devices.vsock is not None and devices.vsock.model is None:
        devices.vsock.model = "virtio"


def _check_shmem(shmem: Shmem) -> None:
    """QEMU dropped the legacy ivshmem device (libvirt's default model) in 4.0."""
    model = shmem.model or "ivshmem"
    if model == "ivshmem":
        raise ConfigUnsupported("ivshmem device is not supported with this QEMU binary")
    if model == "ivshmem-doorbell":
        if shmem.server_path is None:
            raise ConfigUnsupported("shmem model 'ivshmem-doorbell' is supported only with "
                                    "server option enabled")
        if shmem.size is not None:
            raise ConfigUnsupported("shmem model 'ivshmem-doorbell' does not support size "
                                    "setting")


def _check_spice(devices: Devices) -> None:
    """SPICE's own channels and audio need a SPICE display to carry them."""
    if any(g.type == "spice" for g in devices.graphics):
        return
    chardevs: list[Serial | Parallel | Console | Channel] = [
        *devices.serials, *devices.parallels, *devices.consoles, *devices.channels]
    for chr_ in chardevs:
        if chr_.type in ("spicevmc", "spiceport"):
            raise ConfigUnsupported(
                f"chardev '{chr_.type}' not supported without spice graphics")
    if any(a.type == "spice" for a in devices.audios):
        raise ConfigUnsupported("Spice audio is not supported without spice graphics")


# What QEMU's validation refuses on an x86 guest (qemuValidateDomainDeviceDef and friends).
_UNSUPPORTED_VIDEO = ("xen", "vbox", "parallels", "gop")
_X86_SERIAL_TARGETS = ("isa-serial", "usb-serial", "pci-serial", "isa-debug")
_OTHER_ARCH_PANICS = {"s390": "S390", "pseries": "pseries"}


def _check_support(dom: Domain, devices: Devices, facts: GuestFacts) -> None:
    for video in devices.videos:
        if video.model in _UNSUPPORTED_VIDEO:
            raise ConfigUnsupported(
                f"domain configuration does not support video model '{video.model}'")
    for console in devices.consoles:
        if console.target_type in ("sclp", "sclplm"):
            raise ConfigUnsupported(
                f"{console.target_type}console is not supported in this QEMU binary")
        if console.target_type in ("xen", "uml", "lxc", "openvz"):
            raise ConfigUnsupported(f"unsupported console target type {console.target_type}")
    if not _is_x86(facts):
        return
    for serial in devices.serials:
        if serial.target_type not in _X86_SERIAL_TARGETS:
            raise ConfigUnsupported(
                f"Serial device with target type '{serial.target_type}' and target model "
                f"'{serial.target_model}' not compatible with guest architecture or machine "
                "type")
    for dev in devices.inputs:
        if dev.bus == "xen":
            raise InternalError("unsupported input bus xen")
    for watchdog in devices.watchdogs:
        if watchdog.model == "diag288":
            raise ConfigUnsupported(
                "diag288 model of watchdog is allowed for s390 and s390x only")
    for panic in devices.panics:
        if panic.model in _OTHER_ARCH_PANICS:
            raise ConfigUnsupported(f"only {_OTHER_ARCH_PANICS[panic.model]} guests support "
                                    f"panic device of model '{panic.model}'")
    if devices.iommu is not None:
        _check_iommu(dom, devices.iommu)
    vsock = devices.vsock
    if vsock is not None and vsock.cid_address is not None and vsock.cid_address < 3:
        raise ConfigUnsupported("guest CIDs must be >= 3")


def _check_iommu(dom: Domain, iommu: IOMMU) -> None:
    machine = dom.os.machine if dom.os is not None else None
    features = dom.features
    if iommu.model == "intel" and "q35" not in (machine or ""):
        raise ConfigUnsupported("IOMMU device: 'intel' is only supported with Q35 machines")
    if iommu.model == "virtio" and (features is None or not features.acpi):
        raise ConfigUnsupported("IOMMU device: 'virtio' requires ACPI")
    if iommu.driver_intremap and (features is None or features.ioapic != "qemu"):
        raise ConfigUnsupported("IOMMU interrupt remapping requires split I/O APIC "
                                "(ioapic driver='qemu')")
