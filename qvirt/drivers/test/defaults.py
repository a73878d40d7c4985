"""What libvirt's test driver fills in a domain definition: the generic post-parse defaults
(virDomainDefPostParse and virDomainDefAddImplicitDevices with the test driver's i686 default
arch and its cirrus video), MAC addresses, and the ``testnetN`` host-side names
testDomainGenerateIfnames gives interfaces. Not the QEMU driver's defaults: no machine type,
emulator, PCI addresses, serial target models, USB controllers or implicit inputs."""

from __future__ import annotations

import random
import uuid as uuidlib

from qvirt.conf.defaults.addresses import DRIVE_LAYOUT, _sort_disks
from qvirt.conf.devices import Devices
from qvirt.conf.devices.base import DriveAddress
from qvirt.conf.devices.chardev import Console, Serial
from qvirt.conf.devices.controller import Controller
from qvirt.conf.devices.disk import BUS_BY_PREFIX, DiskTarget, disk_name_index
from qvirt.conf.devices.graphics import Listen, Video
from qvirt.conf.domain import Domain
from qvirt.conf.domain_clock import Clock
from qvirt.errors import InternalError, XMLError

DEFAULT_ARCH = "i686"
# The generated MAC prefix: libvirt's test driver shares QEMU's OUI.
MAC_PREFIX = (0x52, 0x54, 0x00)
MAX_IFNAMES = 1024
LIFECYCLE_DEFAULTS = {"on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"}
# Disk controllers in the order virDomainDefAddDiskControllers adds them.
CONTROLLER_BUSES = ("scsi", "fdc", "ide", "sata")
# Video memory in KiB per model (virDomainVideoDefaultRAM).
VIDEO_VRAM = {"vga": 16384, "cirrus": 16384, "vmvga": 16384, "xen": 4096, "bochs": 16384,
              "qxl": 65536}
X86 = ("i686", "x86_64")


def apply(dom: Domain) -> None:
    """Fill the test driver's defaults in place."""
    if dom.uuid is None:
        dom.uuid = str(uuidlib.uuid4())
    if dom.os.arch is None:
        dom.os.arch = DEFAULT_ARCH
    if dom.os.type == "hvm" and not dom.os.boot and dom.os.kernel is None and not _has_device_boot(
            dom):
        dom.os.boot = ["hd"]
    if dom.clock is None:
        dom.clock = Clock(offset="utc")
    for name, value in LIFECYCLE_DEFAULTS.items():
        if getattr(dom, name) is None:
            setattr(dom, name, value)
    if dom.devices is None:
        dom.devices = Devices()
    devs = dom.devices
    _disks(devs)
    _interfaces(devs)
    _chardevs(devs)
    for dev in devs.inputs:
        if dev.bus is None:
            dev.bus = ("ps2" if dom.os.arch in X86 else "usb") if dev.type in (
                "mouse", "keyboard") else "usb" if dev.type == "tablet" else None
    for gfx in devs.graphics:
        if gfx.type in ("vnc", "spice") and not gfx.listens:
            gfx.listens = [Listen(type="address")]
    _videos(devs, dom.os.type)


def _has_device_boot(dom: Domain) -> bool:
    devs = dom.devices
    if devs is None:
        return False
    return any(getattr(d, "boot", None) is not None for d in [*devs.disks, *devs.interfaces])


def _disks(devs: Devices) -> None:
    """A disk's bus follows its target name; drive buses get addresses and controllers."""
    _sort_disks(devs)
    for disk in devs.disks:
        if disk.device == "cdrom":
            disk.readonly = True
        target = disk.target or DiskTarget()
        disk.target = target
        if target.bus is None:
            target.bus = next((bus for prefix, bus in BUS_BY_PREFIX
                               if target.dev and target.dev.startswith(prefix)), "ide")
        if target.bus not in DRIVE_LAYOUT:
            continue
        if disk.address is None:
            index = disk_name_index(str(target.dev))
            if index < 0:
                raise XMLError(f"Unknown disk name '{target.dev}' and no address specified")
            units, buses = DRIVE_LAYOUT[target.bus]
            per_controller = units * buses
            disk.address = DriveAddress(type="drive", controller=index // per_controller,
                                        bus=(index % per_controller) // units, target=0,
                                        unit=index % units)
    for kind in CONTROLLER_BUSES:
        used = [int(d.address.controller or 0) for d in devs.disks
                if d.target is not None and d.target.bus == kind
                and isinstance(d.address, DriveAddress)]
        for index in range(max(used, default=-1) + 1):
            if not any(c.type == kind and int(c.index or 0) == index
                       for c in devs.controllers):
                devs.controllers.append(Controller(type=kind, index=index))


def _chardevs(devs: Devices) -> None:
    """Serial and parallel ports are numbered in order; consoles by position; the first
    serial port of an HVM guest doubles as its first console (virDomainDefAddConsoleCompat)."""
    for kind in (devs.serials, devs.parallels):
        for dev in kind:
            if dev.target_port is None:
                dev.target_port = max((d.target_port for d in kind
                                       if d.target_port is not None), default=-1) + 1
    for index, console in enumerate(devs.consoles):
        console.target_port = index
    if devs.consoles and devs.consoles[0].target_type in (None, "serial"):
        first = devs.consoles[0]
        first.target_type = "serial"
        if not devs.serials:
            devs.serials.append(Serial(type=first.type, sources=first.sources,
                                       protocol=first.protocol, log_file=first.log_file,
                                       log_append=first.log_append, target_port=0))
        first.serial = devs.serials[0]
    elif devs.serials and devs.serials[0].target_type in (None, "isa-serial"):
        stub = Console(target_type="serial")
        stub.serial = devs.serials[0]
        devs.consoles.insert(0, stub)


def _videos(devs: Devices, os_type: str | None) -> None:
    """A display implies a video card; the test driver's default model is cirrus (xen for
    xen and linux guests); the first card is primary."""
    if devs.graphics and not devs.videos:
        devs.videos.append(Video())
    for index, video in enumerate(devs.videos):
        if video.model in (None, "default"):
            video.model = "xen" if os_type in ("xen", "linux") else "cirrus"
        if video.model == "none":
            continue
        if index == 0:
            video.primary = True
        if video.vram is None and video.model in VIDEO_VRAM:
            video.vram = VIDEO_VRAM[video.model]
        if video.heads is None:
            video.heads = 1


def _interfaces(devs: Devices) -> None:
    for net in devs.interfaces:
        if net.mac is None:
            tail = [random.randrange(256) for _ in range(3)]
            net.mac = ":".join(f"{b:02x}" for b in (*MAC_PREFIX, *tail))
    taken = {n.target_dev for n in devs.interfaces if n.target_dev}
    for net in devs.interfaces:
        if net.target_dev:
            continue
        name = next((f"testnet{i}" for i in range(MAX_IFNAMES) if f"testnet{i}" not in taken),
                    None)
        if name is None:
            raise InternalError(f"Exceeded max iface limit {MAX_IFNAMES}")
        net.target_dev = name
        taken.add(name)
