"""The -device lines of every device kind that is neither a disk, a NIC nor a serial-like
character device: controllers, memory devices, hubs, filesystems, smartcards, inputs, video,
sound, watchdogs, USB redirection, the balloon, RNGs, panic notifiers, shared memory, IOMMU
and vsock. Property names and orders are those of libvirt 9.0's qemuBuild*DevProps."""

from __future__ import annotations

from qvirt.conf.devices.base import (
    CCIDAddress,
    DeviceDef,
    DIMMAddress,
    ISAAddress,
    UnassignedAddress,
)
from qvirt.conf.devices.controller import Controller
from qvirt.conf.devices.filesystem import Filesystem
from qvirt.conf.devices.hostdev import Hostdev
from qvirt.conf.devices.iommu import VirtioDriver
from qvirt.conf.devices.memory import MemoryDevice
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_chardev import chardev_backend
from qvirt.drivers.qemu.command_context import Context
from qvirt.drivers.qemu.command_props import (
    Props,
    address_props,
    bus_driver,
    drop_none,
    keyval,
    to_json,
)
from qvirt.errors import ConfigUnsupported, InternalError

KIB = 1024
MIB = 1024 * KIB


def virtio_props(dev: DeviceDef) -> Props:
    """The <driver> switches every virtio device takes (qemuBuildVirtioDevProps)."""
    if not isinstance(dev, VirtioDriver):
        return {}
    return drop_none({"iommu_platform": dev.driver_iommu, "ats": dev.driver_ats,
                      "packed": dev.driver_packed, "page-per-vq": dev.driver_page_per_vq})


def transitional(base: str, model: str | None) -> str:
    """virtio-*-pci, or its -transitional / -non-transitional twin."""
    if model in ("virtio-transitional", "virtio-non-transitional"):
        return f"{base}-{model.removeprefix('virtio-')}"
    return base


def _device(dom: Domain, props: Props, dev: DeviceDef) -> list[str]:
    props["driver"] = bus_driver(str(props["driver"]), dev)
    props.update(address_props(dom, dev))
    return ["-device", to_json(drop_none(props))]


# --- controllers ------------------------------------------------------------------------

USB_MODELS = {"piix3-uhci": "piix3-usb-uhci", "piix4-uhci": "piix4-usb-uhci",
              "ehci": "usb-ehci", "ich9-ehci1": "ich9-usb-ehci1",
              "ich9-uhci1": "ich9-usb-uhci1", "ich9-uhci2": "ich9-usb-uhci2",
              "ich9-uhci3": "ich9-usb-uhci3", "vt82c686b-uhci": "vt82c686b-usb-uhci",
              "pci-ohci": "pci-ohci", "nec-xhci": "nec-usb-xhci", "qusb1": "qusb1",
              "qusb2": "qusb2", "qemu-xhci": "qemu-xhci"}

SCSI_MODELS = {"lsilogic": "lsi", "lsisas1068": "mptsas1068", "lsisas1078": "megasas",
               "virtio-scsi": "virtio-scsi-pci",
               "virtio-transitional": "virtio-scsi-pci-transitional",
               "virtio-non-transitional": "virtio-scsi-pci-non-transitional",
               "vmpvscsi": "pvscsi", "am53c974": "am53c974", "dc390": "dc390"}

PCI_MODEL_DRIVERS = {"pci-bridge": "pci-bridge", "dmi-to-pci-bridge": "i82801b11-bridge",
                     "pcie-root-port": "pcie-root-port",
                     "pcie-switch-upstream-port": "x3130-upstream",
                     "pcie-switch-downstream-port": "xio3130-downstream",
                     "pci-expander-bus": "pxb", "pcie-expander-bus": "pxb-pcie",
                     "pcie-to-pci-bridge": "pcie-pci-bridge"}


def _usb_props(ctrl: Controller) -> Props | None:
    if ctrl.model == "none":
        return None
    driver = USB_MODELS[str(ctrl.model or "piix3-uhci")]
    if driver.startswith("ich9-usb-uhci"):
        # Companion controllers join their EHCI master's bus and have no id of their own.
        master = "usb" if ctrl.index == 0 else f"usb{ctrl.index}"
        return {"driver": driver, "masterbus": f"{master}.0",
                "firstport": ctrl.master_startport or 0}
    props: Props = {"driver": driver}
    if driver in ("qemu-xhci", "nec-usb-xhci") and ctrl.ports:
        props["p2"] = props["p3"] = ctrl.ports
    props["id"] = ctrl.alias
    return props


def _scsi_props(ctrl: Controller) -> Props:
    driver = SCSI_MODELS.get(str(ctrl.model or "lsilogic"))
    if driver is None:
        raise ConfigUnsupported(f"Unsupported controller model: {ctrl.model}")
    props: Props = {"driver": driver}
    if driver.startswith("virtio-scsi"):
        props.update(virtio_props(ctrl))
        props.update(drop_none({
            "iothread": f"iothread{ctrl.driver_iothread}" if ctrl.driver_iothread else None,
            "id": ctrl.alias, "num_queues": ctrl.driver_queues,
            "cmd_per_lun": ctrl.driver_cmd_per_lun, "max_sectors": ctrl.driver_max_sectors,
            "ioeventfd": ctrl.driver_ioeventfd}))
        return props
    props["id"] = ctrl.alias
    return props


def _pci_props(ctrl: Controller) -> Props | None:
    if ctrl.model in ("pci-root", "pcie-root"):
        return None  # the machine's own root bus
    driver = str(ctrl.model_name) if ctrl.model_name else PCI_MODEL_DRIVERS.get(str(ctrl.model))
    if driver is None:
        raise ConfigUnsupported(f"Unsupported PCI controller model: {ctrl.model}")
    if ctrl.model == "pci-bridge":
        return {"driver": driver, "chassis_nr": ctrl.target_chassis_nr, "id": ctrl.alias}
    if ctrl.model in ("pcie-root-port", "pcie-switch-downstream-port"):
        return {"driver": driver, "port": ctrl.target_port, "chassis": ctrl.target_chassis,
                "id": ctrl.alias, "hotplug": ctrl.target_hotplug}
    if ctrl.model in ("pci-expander-bus", "pcie-expander-bus"):
        return {"driver": driver, "bus_nr": ctrl.target_bus_nr, "id": ctrl.alias,
                "numa_node": ctrl.target_node}
    return {"driver": driver, "id": ctrl.alias}


def _controller_props(ctrl: Controller) -> Props | None:
    kind = str(ctrl.type)
    if kind == "usb":
        return _usb_props(ctrl)
    if kind == "scsi":
        return _scsi_props(ctrl)
    if kind == "pci":
        return _pci_props(ctrl)
    if kind == "virtio-serial":
        props: Props = {"driver": transitional("virtio-serial-pci", ctrl.model)}
        props.update(virtio_props(ctrl))
        props.update({"id": ctrl.alias, "max_ports": ctrl.ports, "vectors": ctrl.vectors})
        return props
    if kind == "sata":
        # q35's AHCI is built into the machine; it is the one libvirt calls "ide".
        return None if ctrl.alias == "ide" else {"driver": "ahci", "id": ctrl.alias}
    if kind == "ccid":
        return {"driver": "usb-ccid", "id": ctrl.alias}
    if kind in ("ide", "fdc", "isa"):
        return None  # built into the machine
    raise ConfigUnsupported(f"Unsupported controller type: {kind}")


# libvirt writes controllers type by type in this order (qemuBuildControllersCommandLine).
CONTROLLER_ORDER = ("pci", "usb", "scsi", "ide", "sata", "fdc", "virtio-serial", "ccid")


PCI_HOSTS = {"pci-root": "i440FX-pcihost", "pcie-root": "q35-pcihost"}


def controllers(ctx: Context) -> list[str]:
    argv: list[str] = []
    for ctrl in ctx.dom.devices.controllers:
        host = PCI_HOSTS.get(str(ctrl.model))
        if host is not None and ctrl.pcihole64 is not None:
            argv += ["-global", f"{host}.pci-hole64-size={ctrl.pcihole64}K"]
    for kind in CONTROLLER_ORDER:
        for ctrl in ctx.dom.devices.controllers:
            if ctrl.type != kind:
                continue
            props = _controller_props(ctrl)
            if props is not None:
                argv += _device(ctx.dom, props, ctrl)
    return argv


# --- memory devices ---------------------------------------------------------------------

MEMORY_DRIVERS = {"dimm": "pc-dimm", "nvdimm": "nvdimm", "virtio-pmem": "virtio-pmem-pci",
                  "virtio-mem": "virtio-mem-pci", "sgx-epc": "sgx-epc"}


def _memory_backend(mem: MemoryDevice, backend_id: str) -> Props:
    source, target = mem.source, mem.target
    size = int(target.size or 0) * KIB if target is not None else 0
    path = source.path if source is not None else None
    if path is not None:
        props: Props = {"qom-type": "memory-backend-file", "id": backend_id, "mem-path": path}
        if mem.model != "nvdimm" or mem.access == "shared":
            props["share"] = mem.access != "private"
    else:
        props = {"qom-type": "memory-backend-ram", "id": backend_id}
    if mem.model == "virtio-mem":
        props["reserve"] = False
    props["size"] = size
    if source is not None and source.alignsize:
        props["align"] = int(source.alignsize) * KIB
    if source is not None and source.pmem:
        props["pmem"] = True
    return props


def memory_devices(ctx: Context) -> list[str]:
    argv: list[str] = []
    for slot, mem in enumerate(ctx.dom.devices.memories):
        backend_id = f"mem{mem.alias}"
        argv += ["-object", to_json(_memory_backend(mem, backend_id))]
        target = mem.target
        props: Props = {"driver": MEMORY_DRIVERS[str(mem.model)]}
        if target is not None and target.node is not None and mem.model != "virtio-pmem":
            props["node"] = target.node
        if target is not None and mem.model == "nvdimm":
            if target.label_size:
                props["label-size"] = int(target.label_size) * KIB
            if target.readonly:
                props["unarmed"] = True
        if target is not None and mem.model == "virtio-mem":
            props["block-size"] = int(target.block or 0) * KIB
            props["requested-size"] = int(target.requested or 0) * KIB
        props["memdev"] = backend_id
        props["id"] = mem.alias
        if mem.model in ("dimm", "nvdimm"):
            addr = mem.address
            props["slot"] = addr.slot if isinstance(addr, DIMMAddress) and addr.slot \
                is not None else slot
            if isinstance(addr, DIMMAddress) and addr.base:
                props["addr"] = addr.base
            argv += ["-device", to_json(props)]
        else:
            argv += _device(ctx.dom, props, mem)
    return argv


def machine_memory_flags(dom: Domain) -> list[tuple[str, object | None]]:
    """-machine switches memory devices need: nvdimm=on for any NVDIMM."""
    return [("nvdimm", True)] if any(m.model == "nvdimm" for m in dom.devices.memories) \
        else []


# --- filesystems ------------------------------------------------------------------------

FS_SECURITY = {"passthrough": "passthrough", "mapped": "mapped", "squash": "none"}


def _fsdev(fs: Filesystem) -> str:
    driver = fs.driver_type or "path"
    head = "handle" if driver == "handle" else "local"
    pairs: list[tuple[str, object | None]] = []
    if head == "local":
        pairs.append(("security_model", FS_SECURITY[str(fs.accessmode or "passthrough")]))
        if fs.multidevs not in (None, "default"):
            pairs.append(("multidevs", fs.multidevs))
        if fs.fmode is not None:
            pairs.append(("fmode", f"{fs.fmode:04o}"))
        if fs.dmode is not None:
            pairs.append(("dmode", f"{fs.dmode:04o}"))
    if fs.driver_wrpolicy:
        pairs.append(("writeout", fs.driver_wrpolicy))
    pairs += [("id", f"fsdev-{fs.alias}"), ("path", fs.source_dir)]
    text = keyval(head, *pairs)
    return text + ",readonly" if fs.readonly else text


def filesystems(ctx: Context) -> list[str]:
    argv: list[str] = []
    for fs in ctx.dom.devices.filesystems:
        if fs.type not in (None, "mount"):
            raise ConfigUnsupported(f"filesystem type '{fs.type}' is not supported by QEMU")
        if fs.driver_type == "virtiofs":
            socket = fs.source_socket or str(ctx.paths.domain_dir / f"{fs.alias}-fs.sock")
            argv += ["-chardev", keyval("socket", ("id", f"chr-vu-{fs.alias}"),
                                        ("path", socket))]
            props: Props = {"driver": transitional("vhost-user-fs-pci", fs.model)}
            props.update(virtio_props(fs))
            props.update({"id": fs.alias, "chardev": f"chr-vu-{fs.alias}",
                          "queue-size": fs.driver_queue, "tag": fs.target_dir})
            argv += _device(ctx.dom, props, fs)
            continue
        argv += ["-fsdev", _fsdev(fs)]
        props = {"driver": transitional("virtio-9p-pci", fs.model)}
        props.update(virtio_props(fs))
        props.update({"id": fs.alias, "fsdev": f"fsdev-{fs.alias}",
                      "mount_tag": fs.target_dir})
        argv += _device(ctx.dom, props, fs)
    return argv


# --- smartcards, hubs, inputs -------------------------------------------------------------

def smartcards(ctx: Context) -> list[str]:
    argv: list[str] = []
    for card in ctx.dom.devices.smartcards:
        props: Props
        if card.mode == "passthrough":
            argv += ["-chardev", chardev_backend(f"char{card.alias}", str(card.type),
                                                 card.sources, protocol=card.protocol,
                                                 spice_name="smartcard")]
            props = {"driver": "ccid-card-passthru", "chardev": f"char{card.alias}"}
        elif card.mode == "host-certificates":
            props = {"driver": "ccid-card-emulated", "backend": "certificates"}
            for number, cert in enumerate(card.certificates, start=1):
                props[f"cert{number}"] = cert
            props["db"] = card.database or "/etc/pki/nssdb"
        else:
            props = {"driver": "ccid-card-emulated", "backend": "nss-emulated"}
        props["id"] = card.alias
        controller = card.address.controller if isinstance(card.address, CCIDAddress) else 0
        props["bus"] = f"ccid{controller}.0"
        argv += ["-device", to_json(props)]
    return argv


def hubs(ctx: Context) -> list[str]:
    argv: list[str] = []
    for hub in ctx.dom.devices.hubs:
        argv += _device(ctx.dom, {"driver": "usb-hub", "id": hub.alias}, hub)
    return argv


INPUT_DRIVERS = {("mouse", "usb"): "usb-mouse", ("tablet", "usb"): "usb-tablet",
                 ("keyboard", "usb"): "usb-kbd", ("mouse", "virtio"): "virtio-mouse-pci",
                 ("tablet", "virtio"): "virtio-tablet-pci",
                 ("keyboard", "virtio"): "virtio-keyboard-pci",
                 ("passthrough", "virtio"): "virtio-input-host-pci"}


def inputs(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.inputs:
        if dev.bus == "ps2":
            continue  # the machine's own i8042
        if dev.type == "evdev":
            argv += ["-object", to_json(drop_none({
                "qom-type": "input-linux", "id": dev.alias, "evdev": dev.source_dev,
                "repeat": dev.source_repeat, "grab_all": True if dev.source_grab else None,
                "grab-toggle": dev.source_grab_toggle}))]
            continue
        driver = INPUT_DRIVERS.get((str(dev.type), str(dev.bus)))
        if driver is None:
            raise ConfigUnsupported(f"unsupported input bus {dev.bus}")
        props: Props = {"driver": driver}
        props.update(virtio_props(dev))
        props["id"] = dev.alias
        if dev.type == "passthrough":
            props["evdev"] = dev.source_evdev
        argv += _device(ctx.dom, props, dev)
    return argv


# --- video and sound --------------------------------------------------------------------

VIDEO_PRIMARY = {"vga": "VGA", "cirrus": "cirrus-vga", "vmvga": "vmware-svga",
                 "qxl": "qxl-vga", "virtio": "virtio-vga", "bochs": "bochs-display",
                 "ramfb": "ramfb"}
VIDEO_SECONDARY = {"qxl": "qxl", "virtio": "virtio-gpu-pci", "bochs": "bochs-display"}


def videos(ctx: Context) -> list[str]:
    argv: list[str] = []
    for index, dev in enumerate(ctx.dom.devices.videos):
        model = str(dev.model or "vga")
        if model == "none":
            continue
        driver = (VIDEO_PRIMARY if index == 0 else VIDEO_SECONDARY).get(model)
        if driver is None:
            raise ConfigUnsupported(f"video type {model} is only valid as primary video "
                                    "device")
        if dev.driver_name == "vhostuser":
            raise ConfigUnsupported("vhost-user video needs vhost-user-gpu, which qvirt "
                                    "does not start")
        if model == "virtio" and dev.accel3d:
            driver += "-gl" if driver.endswith("-pci") else ""
        props: Props = {"driver": driver}
        props.update(virtio_props(dev))
        props["id"] = dev.alias
        if model == "qxl":
            props.update({"max_outputs": dev.heads or 1, "ram_size": (dev.ram or 0) * KIB,
                          "vram_size": (dev.vram or 0) * KIB,
                          "vram64_size_mb": (dev.vram64 or 0) // KIB,
                          "vgamem_mb": (dev.vgamem or 0) // KIB})
        elif model in ("vga", "vmvga") and dev.vram:
            props["vgamem_mb"] = dev.vram // KIB
        elif model == "virtio":
            props["max_outputs"] = dev.heads or 1
            if dev.resolution is not None:
                props["xres"], props["yres"] = dev.resolution.x, dev.resolution.y
        elif model == "bochs" and dev.vram:
            props["vgamem"] = dev.vram * KIB
        argv += _device(ctx.dom, props, dev)
    return argv


SOUND_DRIVERS = {"sb16": "sb16", "es1370": "ES1370", "ac97": "AC97", "ich6": "intel-hda",
                 "ich9": "ich9-intel-hda", "ich7": "intel-hda", "usb": "usb-audio"}
CODEC_DRIVERS = {"duplex": "hda-duplex", "micro": "hda-micro", "output": "hda-output"}
HDA_MODELS = ("ich6", "ich7", "ich9")


def sounds(ctx: Context) -> list[str]:
    argv: list[str] = []
    audios = ctx.dom.devices.audios
    default = f"audio{audios[0].id}" if audios else None
    for dev in ctx.dom.devices.sounds:
        own = f"audio{dev.audio_id}" if dev.audio_id else default
        if dev.model == "pcspk":
            argv += ["-soundhw", "pcspk"]
            continue
        props: Props = {"driver": SOUND_DRIVERS[str(dev.model)], "id": dev.alias}
        if dev.model not in HDA_MODELS:
            props["audiodev"] = own
        argv += _device(ctx.dom, props, dev)
        if dev.model in HDA_MODELS:
            for cad, codec in enumerate([c.type for c in dev.codecs] or ["duplex"]):
                argv += ["-device", to_json({"driver": CODEC_DRIVERS[str(codec)],
                                             "id": f"{dev.alias}-codec{cad}",
                                             "bus": f"{dev.alias}.0", "cad": cad,
                                             "audiodev": own})]
    return argv


# --- watchdogs, redirection, balloon, rng, panic ----------------------------------------

# <watchdog action> -> -watchdog-action; a dump is QEMU's pause, then libvirt dumps.
WATCHDOG_ACTIONS = {"reset": "reset", "shutdown": "shutdown", "poweroff": "poweroff",
                    "pause": "pause", "none": "none", "inject-nmi": "inject-nmi",
                    "dump": "pause"}


def watchdogs(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.watchdogs:
        argv += _device(ctx.dom, {"driver": dev.model, "id": dev.alias}, dev)
    if ctx.dom.devices.watchdogs:
        first = ctx.dom.devices.watchdogs[0]
        argv += ["-watchdog-action", WATCHDOG_ACTIONS[str(first.action or "reset")]]
    return argv


def _redir_filter(dom: Domain) -> str | None:
    rules = dom.devices.redirfilter
    if rules is None or not rules.usbdevs:
        return None

    def field(value: int | None, width: int) -> str:
        return "-1" if value is None else f"0x{value:0{width}X}"

    return "|".join(
        f"{field(r.usb_class, 2)}:{field(r.vendor, 4)}:{field(r.product, 4)}:"
        f"{'-1' if r.version is None else _bcd(r.version)}:{1 if r.allow else 0}"
        for r in rules.usbdevs)


def _bcd(version: str) -> str:
    major, _, minor = version.partition(".")
    return f"0x{int(major):02X}{int(minor or 0):02X}"


def redirdevs(ctx: Context) -> list[str]:
    argv: list[str] = []
    rules = _redir_filter(ctx.dom)
    for dev in ctx.dom.devices.redirdevs:
        argv += ["-chardev", chardev_backend(f"char{dev.alias}", str(dev.type), dev.sources,
                                             protocol=dev.protocol, spice_name="usbredir")]
        props: Props = {"driver": "usb-redir", "chardev": f"char{dev.alias}",
                        "id": dev.alias, "filter": rules, "bootindex": ctx.bootindex(dev)}
        argv += _device(ctx.dom, props, dev)
    return argv


def memballoon(ctx: Context) -> list[str]:
    dev = ctx.dom.devices.memballoon
    if dev is None or dev.model in ("none", "xen"):
        return []
    props: Props = {"driver": transitional("virtio-balloon-pci", dev.model)}
    props.update(virtio_props(dev))
    props["id"] = dev.alias
    props.update(drop_none({"deflate-on-oom": dev.autodeflate,
                            "free-page-reporting": dev.free_page_reporting}))
    props.update(address_props(ctx.dom, dev))
    return ["-device", to_json(props)]


def rngs(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.rngs:
        backend = dev.backend
        obj_id = f"obj{dev.alias}"
        obj: Props
        if backend.model == "random":
            obj = {"qom-type": "rng-random", "id": obj_id,
                   "filename": backend.path or "/dev/urandom"}
        elif backend.model == "egd":
            argv += ["-chardev", chardev_backend(f"char{dev.alias}", str(backend.type),
                                                 backend.sources, protocol=backend.protocol)]
            obj = {"qom-type": "rng-egd", "id": obj_id, "chardev": f"char{dev.alias}"}
        else:
            obj = {"qom-type": "rng-builtin", "id": obj_id}
        argv += ["-object", to_json(obj)]
        props: Props = {"driver": transitional("virtio-rng-pci", dev.model)}
        props.update(virtio_props(dev))
        props.update({"rng": obj_id, "id": dev.alias})
        if dev.rate_bytes is not None:
            props["max-bytes"] = dev.rate_bytes
            props["period"] = dev.rate_period or 1000
        argv += _device(ctx.dom, props, dev)
    return argv


def vmcoreinfo(ctx: Context) -> list[str]:
    """The guest's crash-dump notes device, for <features><vmcoreinfo/>."""
    features = ctx.dom.features
    if features is None or features.vmcoreinfo is None or not features.vmcoreinfo.state:
        return []
    return ["-device", to_json({"driver": "vmcoreinfo"})]


def panics(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.panics:
        if dev.model == "hyperv":
            continue  # a CPU property (hv-crash), not a device
        if dev.model not in (None, "isa"):
            raise ConfigUnsupported(f"panic model '{dev.model}' is not supported on this "
                                    "architecture")
        props: Props = {"driver": "pvpanic"}
        if isinstance(dev.address, ISAAddress) and dev.address.iobase is not None:
            props["ioport"] = dev.address.iobase
        argv += ["-device", to_json(props)]
    return argv


# --- shared memory, IOMMU, vsock --------------------------------------------------------

def shmems(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.shmems:
        model = dev.model or "ivshmem-plain"
        if model == "ivshmem-doorbell":
            # libvirt writes the doorbell's server socket after the device that uses it.
            props: Props = {"driver": "ivshmem-doorbell", "id": dev.alias,
                            "chardev": f"char{dev.alias}", "vectors": dev.msi_vectors,
                            "ioeventfd": dev.msi_ioeventfd}
            argv += _device(ctx.dom, props, dev)
            argv += ["-chardev", keyval("socket", ("id", f"char{dev.alias}"),
                                        ("path", dev.server_path
                                         or f"/var/lib/libvirt/shmem-{dev.name}-sock"))]
            continue
        elif model == "ivshmem-plain":
            argv += ["-object", to_json({
                "qom-type": "memory-backend-file", "id": f"shmmem-{dev.alias}",
                "mem-path": f"/dev/shm/{dev.name}", "size": int(dev.size or 4) * MIB,
                "share": True})]
            props = {"driver": "ivshmem-plain", "id": dev.alias,
                     "memdev": f"shmmem-{dev.alias}"}
        else:
            raise ConfigUnsupported("ivshmem device is not supported with this QEMU binary")
        argv += _device(ctx.dom, props, dev)
    return argv


def iommu(ctx: Context) -> list[str]:
    dev = ctx.dom.devices.iommu
    if dev is None:
        return []
    if dev.model == "intel":
        return ["-device", to_json(drop_none({
            "driver": "intel-iommu", "id": dev.alias,
            "intremap": _onoff(dev.driver_intremap),
            "caching-mode": dev.driver_caching_mode, "eim": _onoff(dev.driver_eim),
            "device-iotlb": dev.driver_iotlb, "aw-bits": dev.driver_aw_bits}))]
    if dev.model == "virtio":
        return _device(ctx.dom, {"driver": "virtio-iommu", "id": dev.alias}, dev)
    raise ConfigUnsupported(f"IOMMU model '{dev.model}' is not supported on x86")


def _onoff(value: bool | None) -> str | None:
    return None if value is None else ("on" if value else "off")


def vsock(ctx: Context) -> list[str]:
    dev = ctx.dom.devices.vsock
    if dev is None:
        return []
    props: Props = {"driver": transitional("vhost-vsock-pci", dev.model)}
    props.update(virtio_props(dev))
    props.update({"id": dev.alias, "guest-cid": dev.cid_address or 0})
    return _device(ctx.dom, props, dev)


# --- host devices -------------------------------------------------------------------------

def _hostdev_props(ctx: Context, dev: Hostdev) -> Props:
    src = dev.source
    if dev.type == "usb":
        usb = src.usb if src is not None else None
        if usb is None or usb.bus is None or usb.device is None:
            raise InternalError("USB host device is missing bus/device information")
        props: Props = {"driver": "usb-host",
                        "hostdevice": f"/dev/bus/usb/{usb.bus:03d}/{usb.device:03d}",
                        "id": dev.alias}
        props.update(address_props(ctx.dom, dev))
        props["bootindex"] = ctx.bootindex(dev)
        return props
    if dev.type == "mdev":
        mdev = src.mdev if src is not None else None
        props = {"driver": "vfio-pci-nohotplug" if dev.ramfb else "vfio-pci",
                 "id": dev.alias,
                 "sysfsdev": f"/sys/bus/mdev/devices/{mdev.uuid if mdev else ''}",
                 "display": "on" if dev.display else "off",
                 "ramfb": True if dev.ramfb else None}
        props.update(address_props(ctx.dom, dev))
        return props
    if dev.type == "pci":
        pci = src.pci if src is not None else None
        if pci is None:
            raise InternalError("PCI host device is missing its address")
        props = {"driver": "vfio-pci",
                 "host": f"{int(pci.domain or 0):04x}:{int(pci.bus or 0):02x}:"
                         f"{int(pci.slot or 0):02x}.{int(pci.function or 0)}",
                 "id": dev.alias}
        props.update(address_props(ctx.dom, dev))
        props.update({"bootindex": ctx.bootindex(dev),
                      "rombar": None if dev.rom_bar is None else int(dev.rom_bar),
                      "romfile": "" if dev.rom_enabled is False else dev.rom_file,
                      "acpi-index": dev.acpi_index})
        return props
    raise ConfigUnsupported(f"host device type '{dev.type}' is not supported by qvirt's "
                            "QEMU driver")


def hostdevs(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.hostdevs:
        if isinstance(dev.address, UnassignedAddress):
            continue  # kept for the host's sake, never shown to the guest
        argv += ["-device", to_json(drop_none(_hostdev_props(ctx, dev)))]
    return argv


# --- TPM --------------------------------------------------------------------------------

def tpms(ctx: Context) -> list[str]:
    """A TPM: a host device QEMU opens itself, or swtpm's socket (an external one's, or the
    one the caller starts swtpm on in the domain directory)."""
    argv: list[str] = []
    for tpm in ctx.dom.devices.tpms:
        backend = tpm.backend_type or "passthrough"
        tpmdev = f"tpm-{tpm.alias}"
        if backend == "passthrough":
            path = tpm.device_path or "/dev/tpm0"
            cancel = f"/sys/class/tpm/{path.rsplit('/', 1)[-1]}/device/cancel"
            argv += ["-tpmdev", keyval("passthrough", ("id", tpmdev), ("path", path),
                                       ("cancel-path", cancel))]
        else:
            socket = tpm.source_path if backend == "external" else str(
                ctx.paths.domain_dir / f"{tpm.alias}-swtpm.sock")
            argv += ["-chardev", keyval("socket", ("id", f"chr{tpmdev}"), ("path", socket)),
                     "-tpmdev", keyval("emulator", ("id", tpmdev),
                                       ("chardev", f"chr{tpmdev}"))]
        argv += _device(ctx.dom, {"driver": str(tpm.model or "tpm-tis"), "tpmdev": tpmdev,
                                  "id": tpm.alias}, tpm)
    return argv
