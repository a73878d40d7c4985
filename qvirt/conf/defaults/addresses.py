"""Controllers and device addresses, as libvirt 9.0's QEMU driver fills them at define time.

The stages follow libvirt's: the machine's default controllers (qemuDomainDefAddDefaultDevices),
the controllers the devices imply (virDomainDefAddImplicitControllers), per-device defaults
(disk bus and driver, NIC MAC and model, controller models), then addresses: drive addresses
from target names, virtio-serial ports, CCID slots, PCI slots (qemuDomainAssignPCIAddresses and
its dry run that decides which buses to add) and USB ports.

PCI assignment is a faithful model of libvirt's address set (src/conf/domain_addr.c): buses
with connect flags, slots with function bitmaps, first fit from bus 0, growing the bus list
during the dry run. The device order is qemuDomainAssignDevicePCISlots'.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices import Devices
from qvirt.conf.devices.base import (
    Address,
    CCIDAddress,
    CCWAddress,
    DIMMAddress,
    DriveAddress,
    PCIAddress,
    UnassignedAddress,
    USBAddress,
    VirtioMMIOAddress,
    VirtioSerialAddress,
)
from qvirt.conf.devices.controller import Controller
from qvirt.conf.devices.disk import BUS_BY_PREFIX, Disk, DiskDriver, DiskTarget, disk_name_index
from qvirt.conf.devices.hostdev import HostdevSource, USBSourceAddress
from qvirt.conf.devices.input import Hub as HubDevice
from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain
from qvirt.errors import ConfigUnsupported, InternalError, XMLError

# Connect flags (virDomainPCIConnectFlags).
HOTPLUGGABLE = 1 << 0
AUTOASSIGN = 1 << 1
PCI_DEVICE = 1 << 2
PCIE_DEVICE = 1 << 3
PCIE_ROOT_PORT = 1 << 4
PCIE_SWITCH_UPSTREAM_PORT = 1 << 5
PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 6
DMI_TO_PCI_BRIDGE = 1 << 7
PCI_EXPANDER_BUS = 1 << 8
PCIE_EXPANDER_BUS = 1 << 9
PCI_BRIDGE = 1 << 10
PCIE_TO_PCI_BRIDGE = 1 << 11
AGGREGATE_SLOT = 1 << 12
INTEGRATED = 1 << 13
TYPES_MASK = (PCI_DEVICE | PCIE_DEVICE | PCIE_ROOT_PORT | PCIE_SWITCH_UPSTREAM_PORT
              | PCIE_SWITCH_DOWNSTREAM_PORT | DMI_TO_PCI_BRIDGE | PCI_EXPANDER_BUS
              | PCIE_EXPANDER_BUS | PCI_BRIDGE | PCIE_TO_PCI_BRIDGE)
PCI_FLAGS = PCI_DEVICE | AUTOASSIGN

# What each PCI controller model accepts downstream: (flags, first slot, last slot).
BUS_MODELS: dict[str, tuple[int, int, int]] = {
    "pci-root": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS | HOTPLUGGABLE, 1, 31),
    "pci-bridge": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | HOTPLUGGABLE, 1, 31),
    "pci-expander-bus": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | HOTPLUGGABLE, 0, 31),
    "pcie-root": (PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS, 1, 31),
    "dmi-to-pci-bridge": (PCI_DEVICE | PCI_BRIDGE, 0, 31),
    "pcie-to-pci-bridge": (AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | HOTPLUGGABLE, 1, 31),
    "pcie-root-port": (AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT
                       | PCIE_TO_PCI_BRIDGE | HOTPLUGGABLE, 0, 0),
    "pcie-switch-downstream-port": (AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT
                                    | PCIE_TO_PCI_BRIDGE | HOTPLUGGABLE, 0, 0),
    "pcie-switch-upstream-port": (PCIE_SWITCH_DOWNSTREAM_PORT, 0, 31),
    "pcie-expander-bus": (PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE, 0, 31),
}

# How a PCI controller itself plugs in (virDomainPCIControllerModelToConnectType).
CONTROLLER_CONNECT: dict[str, int] = {
    "pci-bridge": PCI_BRIDGE,
    "pci-expander-bus": PCI_EXPANDER_BUS,
    "pcie-expander-bus": PCIE_EXPANDER_BUS,
    "dmi-to-pci-bridge": DMI_TO_PCI_BRIDGE,
    "pcie-to-pci-bridge": PCIE_TO_PCI_BRIDGE,
    "pcie-root-port": PCIE_ROOT_PORT | AGGREGATE_SLOT,
    "pcie-switch-upstream-port": PCIE_SWITCH_UPSTREAM_PORT,
    "pcie-switch-downstream-port": PCIE_SWITCH_DOWNSTREAM_PORT,
}

PCI_MODEL_NAMES = {
    "pci-bridge": "pci-bridge", "dmi-to-pci-bridge": "i82801b11-bridge",
    "pcie-to-pci-bridge": "pcie-pci-bridge", "pcie-root-port": "pcie-root-port",
    "pcie-switch-upstream-port": "x3130-upstream",
    "pcie-switch-downstream-port": "xio3130-downstream", "pci-expander-bus": "pxb",
    "pcie-expander-bus": "pxb-pcie",
}

USB_PORTS = {"piix3-uhci": 2, "piix4-uhci": 2, "vt82c686b-uhci": 2, "ich9-uhci1": 2,
             "ich9-uhci2": 2, "ich9-uhci3": 2, "ehci": 6, "ich9-ehci1": 6, "pci-ohci": 3,
             "nec-xhci": 4, "qemu-xhci": 4}
USB2_FUNCTIONS = {"ich9-ehci1": (7, None), "ich9-uhci1": (0, True), "ich9-uhci2": (1, None),
                  "ich9-uhci3": (2, None)}
HUB_PORTS = 8

# Drive address layout per bus: (units per bus, buses per controller).
DRIVE_LAYOUT = {"ide": (2, 2), "scsi": (7, 1), "sata": (6, 1), "fdc": (2, 1)}


def apply(dom: Domain, facts: GuestFacts) -> None:
    """Fill controllers, device defaults and addresses in place."""
    if dom.devices is None:
        dom.devices = Devices()
    _check_iothreads(dom)
    assign(dom.devices, machine_of(dom, facts))
    _memory_slots(dom, dom.devices)


def _memory_slots(dom: Domain, devs: Devices) -> None:
    """qemuDomainAssignMemorySlots: with memory hotplug, every DIMM and NVDIMM without an
    address takes the lowest slot no other memory device holds."""
    if not dom.max_memory_slots:
        return
    dimms = [m for m in devs.memories if m.model in ("dimm", "nvdimm")]
    taken = {m.address.slot for m in dimms if isinstance(m.address, DIMMAddress)}
    for mem in dimms:
        if isinstance(mem.address, DIMMAddress):
            continue
        slot = next(s for s in range(dom.max_memory_slots + 1) if s not in taken)
        if slot >= dom.max_memory_slots:
            raise ConfigUnsupported("Unable to find a free slot for memory device")
        taken.add(slot)
        mem.address = DIMMAddress(type="dimm", slot=slot)


def _check_iothreads(dom: Domain) -> None:
    """A disk may name only an iothread the domain defines (<iothreads> or <iothreadids>)."""
    ids = {thread.id for thread in dom.iothreadids}
    count = dom.iothreads or 0
    devs = dom.devices if dom.devices is not None else Devices()
    for disk in devs.disks:
        wanted = disk.driver.iothread if disk.driver is not None else None
        if wanted and wanted not in ids and not 0 < wanted <= count:
            raise ConfigUnsupported(f"Disk iothread '{wanted}' not defined in iothreadid")
    for cont in devs.controllers:
        wanted = cont.driver_iothread
        if wanted and wanted not in ids and not 0 < wanted <= count:
            raise ConfigUnsupported(f"controller iothread '{wanted}' not defined in "
                                    "iothreadid")


def machine_of(dom: Domain, facts: GuestFacts) -> str:
    """The canonical machine type (the domain stage has usually canonicalized it already)."""
    machine = str((dom.os.machine if dom.os is not None else None) or facts.default_machine)
    return facts.machines.get(machine, machine)


def assign(devs: Devices, machine: str) -> None:
    q35 = "q35" in machine
    _sort_disks(devs)
    _sort_controllers(devs)
    _disk_defaults(devs)
    _check_disk_targets(devs)
    _check_hostdev_sources(devs)
    _hostdev_addresses(devs)
    _default_controllers(devs, q35)
    _implicit_controllers(devs)
    _controller_defaults(devs, q35)
    _check_drive_addresses(devs)
    _interface_defaults(devs)
    _virtio_serial_addresses(devs)
    _ccid_addresses(devs)
    _check_address_types(devs, machine)
    PCIAssigner(devs, q35).run()
    _usb_addresses(devs)


def _check_address_types(devs: Devices, machine: str) -> None:
    """Address types this machine or this device cannot take."""
    for name, _ in Devices.fields():
        value = getattr(devs, name)
        for dev in value if isinstance(value, list) else [value]:
            addr = getattr(dev, "address", None)
            if isinstance(addr, CCWAddress):
                raise ConfigUnsupported("cannot use CCW address type for device "
                                        f"'{dev.alias or '<null>'}' using machine type "
                                        f"'{machine}'")
            if isinstance(addr, UnassignedAddress) and dev.TAG != "hostdev":
                raise ConfigUnsupported("address of type 'unassigned' is supported only for "
                                        "hostdevs")


# Disks -------------------------------------------------------------------------------------

def _sort_disks(devs: Devices) -> None:
    """virDomainDiskInsert: a disk goes before the first disk on the same (declared) bus with a
    higher index, else after the last disk on that bus, else at the end."""
    ordered: list[Disk] = []
    for disk in devs.disks:
        at = -1
        for i in range(len(ordered) - 1, -1, -1):
            other = ordered[i]
            if other.bus == disk.bus:
                if disk_name_index(other.dev) > disk_name_index(disk.dev):
                    at = i
                elif at == -1:
                    at = i + 1
        ordered.insert(len(ordered) if at == -1 else at, disk)
    devs.disks = ordered


def _sort_controllers(devs: Devices) -> None:
    """virDomainControllerInsertPreAlloced, as the parser inserts: among controllers of the
    same type by index, otherwise in document order. (Controllers libvirt adds later are
    appended.)"""
    ordered: list[Controller] = []
    for cont in devs.controllers:
        at = -1
        for i in range(len(ordered) - 1, -1, -1):
            other = ordered[i]
            if other.type == cont.type and other.index is not None and cont.index is not None:
                if other.index > cont.index:
                    at = i
                elif at == -1:
                    at = i + 1
        ordered.insert(len(ordered) if at == -1 else at, cont)
    devs.controllers = ordered


def _disk_defaults(devs: Devices) -> None:
    for disk in devs.disks:
        target = disk.target or DiskTarget()
        disk.target = target
        if target.bus is None:
            target.bus = next((bus for prefix, bus in BUS_BY_PREFIX
                               if target.dev and target.dev.startswith(prefix)), "ide")
        if disk.driver is None:
            disk.driver = DiskDriver()
        if disk.driver.name is None:
            disk.driver.name = "qemu"
        if disk.driver.type is None and disk.type != "volume":
            disk.driver.type = "raw"
        if disk.device == "cdrom":
            disk.readonly = True
        _check_disk(disk)
        if disk.address is None and disk_name_index(str(target.dev)) < 0:
            raise XMLError(f"Unknown disk name '{target.dev}' and no address specified")
        if disk.address is None and target.bus in DRIVE_LAYOUT:
            disk.address = _drive_address(target.bus, disk_name_index(target.dev))


def _check_disk(disk: Disk) -> None:
    """The disk checks of qemuValidateDomainDeviceDefDisk and friends that need defaults."""
    drv = disk.driver
    if disk.device == "floppy" and disk.bus != "fdc":
        raise InternalError(f"Invalid bus type '{disk.bus}' for floppy disk")
    if disk.device == "cdrom" and disk.bus in ("virtio", "xen", "uml"):
        raise ConfigUnsupported(f"disk type of '{disk.dev}' does not support ejectable media")
    if drv.name != "qemu":
        raise ConfigUnsupported(f"unsupported driver name '{drv.name}' for disk '{disk.dev}'")
    if disk.geometry is not None and disk.geometry.trans not in (None, "default") and (
            disk.bus != "ide"):
        raise ConfigUnsupported("CHS translation mode can only be set for 'ide' bus not "
                                f"'{disk.bus}'")
    if disk.type == "dir":
        if drv.type != "fat":
            raise ConfigUnsupported("storage type 'dir' requires use of storage format 'fat'")
        if not disk.readonly:
            raise ConfigUnsupported("virtual FAT storage can't be accessed in read-write mode")
    if disk.shareable and drv.type not in ("raw", None) and not disk.readonly:
        raise ConfigUnsupported(f"shared access for disk '{disk.dev}' requires use of "
                                "supported storage format")
    for name in ("ioeventfd", "event_idx"):
        if getattr(drv, name) is not None and disk.bus != "virtio":
            raise ConfigUnsupported(f"disk {name} mode supported only for virtio bus")
    if disk.transient and disk.type != "file":
        raise ConfigUnsupported(f"transient disk supported only with 'file' type ({disk.dev})")


def _drive_address(bus: str, index: int) -> DriveAddress:
    units, buses = DRIVE_LAYOUT[bus]
    per_controller = units * buses
    return DriveAddress(type="drive", controller=index // per_controller,
                        bus=(index % per_controller) // units, target=0, unit=index % units)


def _check_disk_targets(devs: Devices) -> None:
    seen: dict[str, Disk] = {}
    for disk in devs.disks:
        other = seen.get(disk.dev)
        if other is not None:
            raise XMLError(f"target '{disk.dev}' duplicated for disk sources "
                           f"'{other.source_path() or ''}' and '{disk.source_path() or ''}'")
        seen[disk.dev] = disk


# Controllers -------------------------------------------------------------------------------

def _find_controller(devs: Devices, kind: str, index: int) -> Controller | None:
    return next((c for c in devs.controllers if c.type == kind and c.index == index), None)


def _add_controllers(devs: Devices, kind: str, last: int) -> None:
    """Controllers 0..last of a type, as virDomainDefAddDiskControllersForType adds them.

    libvirt adds every one and fails only when PCI slots run out for the bridges they need;
    past what PCI can hold at all (256 buses of 31 slots) the result is that same failure.
    """
    if last >= 256 * 31:
        raise InternalError("a PCI slot is needed to connect a PCI controller "
                            "model='pci-bridge', but none is available, and it cannot be "
                            "automatically added")
    existing = {c.index for c in devs.controllers if c.type == kind}
    for index in range(last + 1):
        if index not in existing:
            devs.controllers.append(Controller(type=kind, index=index))


def _add_controller(devs: Devices, kind: str, index: int, model: str | None = None) -> bool:
    """virDomainDefMaybeAddController: append unless one of that type and index exists."""
    if _find_controller(devs, kind, index) is not None:
        return False
    devs.controllers.append(Controller(type=kind, index=index, model=model))
    return True


def _default_controllers(devs: Devices, q35: bool) -> None:
    root = "pcie-root" if q35 else "pci-root"
    for cont in devs.controllers:
        if cont.type == "pci" and cont.index == 0 and cont.model not in (None, root):
            raise XMLError(f"The PCI controller with index='0' must be model='{root}' for this "
                           f"machine type, but model='{cont.model}' was found instead")
        if cont.type == "ide" and not q35 and cont.index:
            raise ConfigUnsupported("Only a single IDE controller is supported for this "
                                    "machine type")
        if cont.index is None:
            cont.index = 1 + max((c.index for c in devs.controllers
                                  if c.type == cont.type and c.index is not None), default=-1)
    if _find_controller(devs, "usb", 0) is None:
        _add_controller(devs, "usb", 0, "qemu-xhci" if q35 else "piix3-uhci")
    if q35:
        _add_controller(devs, "sata", 0)
    _add_controller(devs, "pci", 0, "pcie-root" if q35 else "pci-root")


def _implicit_controllers(devs: Devices) -> None:
    for bus in ("scsi", "fdc", "ide", "sata"):
        used = [d.address.controller for d in devs.disks
                if d.bus == bus and isinstance(d.address, DriveAddress)]
        if bus == "ide" and max(used, default=0) > 0:
            raise InternalError("Only 1 IDE controller is supported")
        _add_controllers(devs, bus, max(used, default=-1))
    serial_users = _virtio_serial_devices(devs)
    if serial_users or any(getattr(c, "target_type", None) == "virtio" for c in devs.consoles):
        used = [d.address.controller for d in serial_users
                if isinstance(d.address, VirtioSerialAddress) and d.address.controller]
        _add_controllers(devs, "virtio-serial", max(used, default=0))
    if devs.smartcards:
        used = [s.address.controller for s in devs.smartcards
                if isinstance(s.address, CCIDAddress) and s.address.controller]
        _add_controllers(devs, "ccid", max(used, default=0))


def _controller_defaults(devs: Devices, q35: bool) -> None:
    for cont in devs.controllers:
        if cont.type == "usb" and cont.model is None:
            cont.model = "piix3-uhci"
        elif cont.type == "scsi" and cont.model is None:
            cont.model = "lsilogic"
        elif cont.type == "pci" and cont.model is None:
            raise InternalError("PCI controller model was not set correctly")
        if cont.type == "pci" and cont.index > 255:
            raise ConfigUnsupported(f"PCI controller index {cont.index} too high, maximum is "
                                    "255")
        if q35 and cont.type == "ide":
            raise ConfigUnsupported("IDE controllers are unsupported for this QEMU binary or "
                                    "machine type")


# Interfaces and host devices ---------------------------------------------------------------

def _check_drive_addresses(devs: Devices) -> None:
    """qemuValidateDomainDeviceDefAddressDrive for the SCSI controllers' limits."""
    for disk in devs.disks:
        addr = disk.address
        if disk.bus != "scsi" or not isinstance(addr, DriveAddress):
            continue
        cont = _find_controller(devs, "scsi", addr.controller or 0)
        if cont is None or cont.model != "lsilogic":
            continue
        if addr.target:
            raise ConfigUnsupported("target must be 0 for controller model 'lsilogic'")


def _interface_defaults(devs: Devices) -> None:
    for net in devs.interfaces:
        if net.mac is None:
            net.mac = "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))
        if net.model is None and net.type != "hostdev":
            if net.type == "vhostuser":
                raise InternalError("Wrong or no <model> 'type' attribute specified with "
                                    "<interface type='vhostuser'/>. vhostuser requires the "
                                    "virtio-net* frontend")
            net.model = "rtl8139"
        port = net.virtualport
        if port is not None:
            if port.type == "openvswitch" and port.interfaceid is None:
                port.interfaceid = str(uuid.uuid4())
            if port.type == "802.1Qbg" and port.instanceid is None:
                port.instanceid = str(uuid.uuid4())


def _check_hostdev_sources(devs: Devices) -> None:
    """virDomainHostdevFind: one host device goes to a guest once."""
    for i, hostdev in enumerate(devs.hostdevs):
        if any(_same_host_device(earlier, hostdev) for earlier in devs.hostdevs[:i]):
            raise XMLError("Hostdev already exists in the domain configuration")


def _same_host_device(first: Any, second: Any) -> bool:
    """virDomainHostdevMatchSubsys, with ``first`` the one already in the domain."""
    if first.type != second.type or first.mode != second.mode:
        return False
    one, two = first.source or HostdevSource(), second.source or HostdevSource()
    if first.type == "usb":
        a, b = one.usb or USBSourceAddress(), two.usb or USBSourceAddress()
        if a.bus and a.device:
            return bool(a.bus == b.bus and a.device == b.device)
        return bool((one.vendor or 0, one.product or 0) == (two.vendor or 0, two.product or 0))
    parts = {"pci": ("pci",), "mdev": ("mdev",), "scsi_host": ("wwpn",),
             "scsi": ("protocol", "name", "adapter", "scsi")}.get(str(first.type), ())
    return bool(parts) and all(_xml_of(getattr(one, p)) == _xml_of(getattr(two, p))
                               for p in parts)


def _xml_of(value: Any) -> Any:
    return value.to_xml() if hasattr(value, "to_xml") else value


def _hostdev_addresses(devs: Devices) -> None:
    """SCSI host devices take the first free unit on SCSI controller 0, and libvirt's parser
    adds the controller there and then (virDomainHostdevAssignAddress), before any default
    controller."""
    for hostdev in devs.hostdevs:
        if hostdev.type != "scsi":
            continue
        if not isinstance(hostdev.address, DriveAddress):
            used = {(a.controller, a.bus, a.target, a.unit) for a in _drive_addresses(devs)}
            unit = 0
            while (0, 0, 0, unit) in used:
                unit += 1
            hostdev.address = DriveAddress(type="drive", controller=unit // 7, bus=0,
                                           target=0, unit=unit % 7)
        _add_controllers(devs, "scsi", hostdev.address.controller or 0)


def _drive_addresses(devs: Devices) -> Iterator[DriveAddress]:
    for dev in [*devs.disks, *devs.hostdevs]:
        if isinstance(dev.address, DriveAddress):
            yield dev.address


# virtio-serial and CCID --------------------------------------------------------------------

def _virtio_serial_devices(devs: Devices) -> list[Any]:
    """Channels on virtio-serial ports. (libvirt 9.0 writes no address for a virtio
    console.)"""
    return [c for c in devs.channels if getattr(c, "target_type", None) == "virtio"]


def _virtio_serial_addresses(devs: Devices) -> None:
    ports: dict[int, int] = {c.index: (c.ports or 31) for c in devs.controllers
                             if c.type == "virtio-serial"}
    used: set[tuple[int, int]] = set()
    for dev in _virtio_serial_devices(devs):
        addr = dev.address
        if isinstance(addr, VirtioSerialAddress) and addr.port:
            used.add((addr.controller or 0, addr.port))
    for dev in _virtio_serial_devices(devs):
        addr = dev.address
        if isinstance(addr, VirtioSerialAddress) and addr.port:
            continue
        for index in sorted(ports):
            if isinstance(addr, VirtioSerialAddress) and addr.controller not in (None, index):
                continue
            port = next((p for p in range(1, ports[index])
                         if (index, p) not in used), None)
            if port is not None:
                used.add((index, port))
                dev.address = VirtioSerialAddress(type="virtio-serial", controller=index,
                                                  bus=0, port=port)
                break


def _ccid_addresses(devs: Devices) -> None:
    if len(devs.smartcards) > 1:
        raise ConfigUnsupported("this QEMU binary lacks multiple smartcard support")
    used = {(s.address.controller, s.address.slot) for s in devs.smartcards
            if isinstance(s.address, CCIDAddress) and s.address.slot is not None}
    for card in devs.smartcards:
        if isinstance(card.address, CCIDAddress) and card.address.slot is not None:
            continue
        slot = 0
        while (0, slot) in used:
            slot += 1
        used.add((0, slot))
        card.address = CCIDAddress(type="ccid", controller=0, slot=slot)


# PCI ---------------------------------------------------------------------------------------

@dataclass
class Bus:
    model: str
    flags: int
    min_slot: int
    max_slot: int
    functions: dict[int, int] = field(default_factory=dict)
    aggregate: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, model: str) -> Bus:
        flags, low, high = BUS_MODELS[model]
        return cls(model, flags, low, high)

    def fully_reserved(self) -> bool:
        return all(self.functions.get(s) for s in range(self.min_slot, self.max_slot + 1))


def _addr_string(bus: int, slot: int, function: int) -> str:
    return f"0000:{bus:02x}:{slot:02x}.{function}"


class PCIAssigner:
    """qemuDomainAssignPCIAddresses: a dry run that adds the buses the devices need, then the
    real assignment over the completed controller list."""

    def __init__(self, devs: Devices, q35: bool) -> None:
        self.devs, self.q35 = devs, q35
        self.buses: list[Bus] = []
        self.dry = True

    def run(self) -> None:
        pci = [c for c in self.devs.controllers if c.type == "pci"]
        if not pci:
            return
        max_idx = max(c.index for c in pci)
        self._create(max_idx + 1)
        self._chipset()
        if not self.q35 and not all(b.fully_reserved() for b in self.buses):
            self._reserve_next(PCI_FLAGS)
        self._assign_devices()
        if max_idx <= 0 and len(self.buses) > max_idx + 1 and self.q35:
            self._reserve_next(PCIE_DEVICE | AUTOASSIGN)
        for index in range(1, len(self.buses)):
            if _add_controller(self.devs, "pci", index, self.buses[index].model):
                cont = _find_controller(self.devs, "pci", index)
                assert cont is not None
                self._reserve_next(CONTROLLER_CONNECT.get(str(cont.model), 0))
        nbuses = len(self.buses)
        self.dry = False
        self._create(nbuses)
        self._chipset()
        self._assign_devices()
        self._set_multifunction()
        self._pci_controller_defaults()

    # The address set -----------------------------------------------------------------------

    def _create(self, nbuses: int) -> None:
        self.buses = [Bus.of("pci-root") for _ in range(nbuses)]
        has_pcie_root = False
        known: set[int] = set()
        for cont in self.devs.controllers:
            if cont.type != "pci" or cont.index is None or cont.index >= nbuses:
                continue
            self.buses[cont.index] = Bus.of(str(cont.model))
            known.add(cont.index)
            has_pcie_root = has_pcie_root or cont.model == "pcie-root"
        default = "pcie-root-port" if has_pcie_root else "pci-bridge"
        for i in range(1, nbuses):
            if i not in known:
                self.buses[i] = Bus.of(default)
        for dev in self._all_devices():
            addr = dev.address
            if not isinstance(addr, PCIAddress) or not addr.is_present():
                continue
            if addr.zpci is not None:
                raise ConfigUnsupported("This QEMU binary doesn't support zPCI")
            if addr.domain:
                raise XMLError(f"Invalid PCI address {addr.domain:04x}:{addr.bus or 0:02x}:"
                               f"{addr.slot or 0:02x}.{addr.function or 0}. Only PCI domain 0 "
                               "is available")
            if self._piix3_integrated(dev, addr):
                continue
            self._reserve(addr.bus or 0, addr.slot or 0, addr.function or 0,
                          self.connect_flags(dev) or PCI_DEVICE, from_config=True)

    def _piix3_integrated(self, dev: Any, addr: PCIAddress) -> bool:
        return (isinstance(dev, Controller) and addr.key()[:2] == (0, 1) and dev.index == 0
                and ((dev.type == "ide" and addr.function == 1)
                     or (dev.type == "usb" and dev.model == "piix3-uhci"
                         and addr.function == 2)))

    def _grow(self, bus: int, flags: int) -> int:
        """virDomainPCIAddressSetGrow: add buses up to ``bus``; returns the device's bus."""
        add = bus - len(self.buses) + 1
        if add <= 0:
            return bus
        extra: list[Bus] = []
        if flags & PCI_DEVICE:
            model = "pci-bridge"
            if not any(b.flags & PCI_BRIDGE for b in self.buses) and add == 1:
                # A pure PCIe guest gets a root port holding a pcie-to-pci-bridge.
                port = Bus.of("pcie-root-port")
                port.flags = PCIE_TO_PCI_BRIDGE
                extra = [port, Bus.of("pcie-to-pci-bridge")]
                add += 1
                bus += 1
        elif flags & (PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT):
            model = "pcie-root-port"
        else:
            wanted = next((m for m, f in CONTROLLER_CONNECT.items()
                           if flags & f & TYPES_MASK), None)
            if wanted is not None:
                raise InternalError(f"a PCI slot is needed to connect a PCI controller "
                                    f"model='{wanted}', but none is available, and it cannot "
                                    "be automatically added")
            raise InternalError("Cannot automatically add a new PCI bus for a device with "
                                f"connect flags {flags:02x}")
        self.buses.extend(extra)
        self.buses.extend(Bus.of(model) for _ in range(add - len(extra)))
        return bus

    def _compatible(self, index: int, flags: int) -> bool:
        bus_flags = self.buses[index].flags
        if flags & INTEGRATED:
            if index != 0:
                return False
            bus_flags |= AUTOASSIGN
        if flags & AUTOASSIGN and not bus_flags & AUTOASSIGN:
            return False
        if flags & HOTPLUGGABLE and not bus_flags & HOTPLUGGABLE:
            return False
        return bool(flags & bus_flags & TYPES_MASK)

    def _reserve(self, bus: int, slot: int, function: int, flags: int,
                 from_config: bool = False) -> None:
        if self.dry:
            bus = self._grow(bus, flags)
        if bus >= len(self.buses):
            raise XMLError(f"Invalid PCI address {_addr_string(bus, slot, function)}. Only "
                           f"PCI buses up to {len(self.buses) - 1} are available")
        target = self.buses[bus]
        used = target.functions.get(slot, 0)
        if used & (1 << function):
            error = XMLError if from_config else InternalError
            raise error("Attempted double use of PCI Address "
                        f"{_addr_string(bus, slot, function)}")
        if not used and flags & AGGREGATE_SLOT:
            target.aggregate.add(slot)
        target.functions[slot] = used | (1 << function)

    def _find(self, flags: int, function: int) -> tuple[int, int, int]:
        for index, bus in enumerate(self.buses):
            if not self._compatible(index, flags):
                continue
            fn = 0 if function == -1 else function
            for slot in range(bus.min_slot, bus.max_slot + 1):
                used = bus.functions.get(slot, 0)
                if not used:
                    return index, slot, fn
                if flags & AGGREGATE_SLOT and slot in bus.aggregate:
                    if not used & (1 << fn):
                        return index, slot, fn
                    if function == -1:
                        free = next((f for f in range(fn, 8) if not used & (1 << f)), None)
                        if free is not None:
                            return index, slot, free
                        fn = 0
        if not self.dry:
            raise InternalError("No more available PCI slots")
        index = self._grow(len(self.buses), flags)
        return index, self.buses[index].min_slot, 0 if function == -1 else function

    def _reserve_next(self, flags: int, function: int = -1) -> PCIAddress:
        bus, slot, fn = self._find(flags, function)
        self._reserve(bus, slot, fn, flags)
        return PCIAddress(type="pci", domain=0, bus=bus, slot=slot, function=fn)

    def _place(self, dev: Any, flags: int) -> None:
        addr = self._reserve_next(flags)
        if not self.dry:
            dev.address = addr

    # Chipsets --------------------------------------------------------------------------------

    def _fixed(self, dev: Any, slot: int, function: int, multi: bool | None = None) -> None:
        """Put an integrated device at its hardware address unless the user placed it."""
        if isinstance(dev.address, PCIAddress) and dev.address.is_present():
            return
        dev.address = PCIAddress(type="pci", domain=0, bus=0, slot=slot, function=function,
                                 multifunction=multi)
        self._reserve(0, slot, function, PCI_FLAGS, from_config=True)

    def _chipset(self) -> None:
        if self.q35:
            self._chipset_q35()
        else:
            self._chipset_piix3()

    def _chipset_piix3(self) -> None:
        for cont in self.devs.controllers:
            if cont.index != 0:
                continue
            if cont.type == "ide":
                self._fixed(cont, 1, 1)
            elif cont.type == "usb" and cont.model == "piix3-uhci":
                self._fixed(cont, 1, 2)
        self._reserve(0, 1, 0, PCI_FLAGS)
        self._reserve(0, 1, 3, PCI_FLAGS)
        self._primary_video(2)

    def _chipset_q35(self) -> None:
        for cont in self.devs.controllers:
            if cont.type == "sata" and cont.index == 0:
                self._fixed(cont, 0x1F, 2)
            elif cont.type == "usb" and cont.model == "ich9-uhci1" and cont.address is None:
                for slot in (0x1D, 0x1A):
                    if not self.buses[0].functions.get(slot):
                        self._fixed(cont, slot, 0, True)
                        break
            elif (cont.type == "pci" and cont.model == "dmi-to-pci-bridge"
                  and cont.address is None and not self.buses[0].functions.get(0x1E)):
                self._fixed(cont, 0x1E, 0)
        self._reserve(0, 0x1F, 0, PCIE_DEVICE)
        self._reserve(0, 0x1F, 3, PCIE_DEVICE)
        self._primary_video(1)
        if not self.buses[0].functions.get(0x1B):
            for sound in self.devs.sounds:
                if getattr(sound, "model", None) == "ich9" and _wants_pci(sound):
                    self._fixed(sound, 0x1B, 0)
                    break

    def _primary_video(self, slot: int) -> None:
        videos = self.devs.videos
        if not videos or getattr(videos[0], "model", None) in ("none", "ramfb"):
            return
        video = videos[0]
        if not _wants_pci(video):
            return
        if self.buses[0].functions.get(slot):
            self._place(video, PCI_FLAGS)
        else:
            self._fixed(video, slot, 0)

    # Devices ----------------------------------------------------------------------------------

    def _pcie_flags(self) -> int:
        return (PCIE_DEVICE if self.q35 else PCI_DEVICE) | AUTOASSIGN

    def _all_devices(self) -> Iterator[Any]:
        """Every device that can have an address. Read from the object's __dict__: a field
        not there is unset (None or no items), and getattr would make its default each time."""
        values = vars(self.devs)
        for name, _ in Devices.fields():
            value = values.get(name)
            for dev in value if isinstance(value, list) else (value,):
                if dev is not None and hasattr(dev, "address"):
                    yield dev

    def connect_flags(self, dev: Any) -> int:
        pcie = self._pcie_flags()
        virtio = pcie
        model = getattr(dev, "model", None)
        transitional = model == "virtio-transitional"
        if isinstance(dev, Controller):
            return self._controller_flags(dev, pcie)
        if isinstance(dev, Disk):
            if dev.bus != "virtio":
                return 0
            return PCI_FLAGS if transitional else virtio
        if isinstance(dev, Interface):
            if dev.type == "hostdev" or model == "usb-net":
                return 0
            if model in ("virtio", "virtio-non-transitional"):
                return virtio
            if transitional:
                return PCI_FLAGS
            if model in ("e1000e", "igb", None):
                return pcie
            return PCI_FLAGS
        rule = _TAG_FLAGS.get(getattr(dev, "TAG", ""))
        return rule(dev, model, transitional, pcie) if rule is not None else 0

    def _controller_flags(self, cont: Controller, pcie: int) -> int:
        model = cont.model
        if cont.type == "pci":
            return CONTROLLER_CONNECT.get(str(model), 0)
        if cont.type in ("sata", "ide"):
            return PCI_FLAGS
        if cont.type == "usb":
            if model in ("nec-xhci", "qemu-xhci"):
                return pcie
            return 0 if model in ("none", "qusb1", "qusb2") else PCI_FLAGS
        if cont.type == "scsi":
            if model in (None, "ncr53c90"):
                return 0
            return pcie if model in ("virtio-scsi", "virtio-non-transitional") else PCI_FLAGS
        if cont.type == "virtio-serial":
            return PCI_FLAGS if model == "virtio-transitional" else pcie
        return 0

    def _assign_devices(self) -> None:
        devs = self.devs
        for cont in devs.controllers:
            if cont.type == "pci" and cont.model not in ("pci-root", "pcie-root") and (
                    _wants_pci(cont)):
                self._place(cont, self.connect_flags(cont))
        for group in (devs.filesystems, [n for n in devs.interfaces if n.type != "hostdev"]):
            for dev in group:
                self._place_if(dev)
        for sound in devs.sounds:
            if getattr(sound, "model", None) not in ("sb16", "pcspk", "usb"):
                self._place_if(sound)
        for cont in devs.controllers:
            self._place_controller(cont)
        for disk in devs.disks:
            if disk.bus == "virtio":
                if isinstance(disk.address, (CCWAddress, VirtioMMIOAddress)):
                    continue
                if disk.address is not None and not isinstance(disk.address, PCIAddress):
                    if not self.dry:
                        raise ConfigUnsupported("virtio disk cannot have an address of type "
                                                f"'{disk.address.type}'")
                    continue
                self._place_if(disk)
        for dev in self._hostdevs():
            self._place_if(dev)
        if devs.memballoon is not None and getattr(devs.memballoon, "model", None) != "none":
            self._place_if(devs.memballoon)
        for group in (devs.rngs, devs.watchdogs, devs.videos, devs.shmems, devs.inputs,
                      devs.serials):
            for dev in group:
                self._place_if(dev)
        for single in (devs.iommu, devs.vsock):
            if single is not None:
                self._place_if(single)
        for group in (devs.memories, devs.panics):
            for dev in group:
                self._place_if(dev)

    def _hostdevs(self) -> Iterator[Any]:
        """The hostdev list as libvirt keeps it: interfaces of type hostdev first."""
        yield from (n for n in self.devs.interfaces if n.type == "hostdev")
        yield from self.devs.hostdevs

    def _place_if(self, dev: Any) -> None:
        flags = self.connect_flags(dev)
        if isinstance(dev, Interface) and dev.type == "hostdev":
            flags = self._pcie_flags()
        if flags and _wants_pci(dev):
            self._place(dev, flags)

    def _place_controller(self, cont: Controller) -> None:
        if cont.type in ("pci", "fdc", "ccid") or (cont.type == "usb" and cont.model == "none"):
            return
        if (cont.type == "ide" and cont.index == 0) or cont.model == "ncr53c90":
            return
        if not _wants_pci(cont):
            return
        flags = self.connect_flags(cont)
        if not flags:
            return
        if cont.type == "usb" and cont.model in USB2_FUNCTIONS:
            self._place_usb2(cont, flags)
            return
        self._place(cont, flags)

    def _place_usb2(self, cont: Controller, flags: int) -> None:
        function, multi = USB2_FUNCTIONS[str(cont.model)]
        sibling = next((c.address for c in self.devs.controllers
                        if c.type == "usb" and c.model in USB2_FUNCTIONS
                        and c.index == cont.index and isinstance(c.address, PCIAddress)
                        and c.address.is_present()), None)
        if sibling is not None:
            self._reserve(sibling.bus or 0, sibling.slot or 0, function, flags)
            if not self.dry:
                cont.address = PCIAddress(type="pci", domain=0, bus=sibling.bus,
                                          slot=sibling.slot, function=function,
                                          multifunction=multi)
            return
        addr = self._reserve_next(flags, function)
        if not self.dry:
            addr.multifunction = multi
            cont.address = addr

    # After assignment --------------------------------------------------------------------------

    def _set_multifunction(self) -> None:
        addrs = [d.address for d in self._all_devices() if isinstance(d.address, PCIAddress)]
        for addr in addrs:
            if addr.function:
                head = next((a for a in addrs if a.bus == addr.bus and a.slot == addr.slot
                             and not a.function), None)
                if head is not None and head.multifunction is None:
                    head.multifunction = True

    def _pci_controller_defaults(self) -> None:
        for cont in self.devs.controllers:
            if cont.type != "pci":
                continue
            if cont.model_name is None:
                cont.model_name = PCI_MODEL_NAMES.get(str(cont.model))
            addr = cont.address if isinstance(cont.address, PCIAddress) else PCIAddress()
            if cont.model == "pci-bridge" and cont.target_chassis_nr is None:
                cont.target_chassis_nr = cont.index
            elif cont.model == "pcie-root-port":
                if cont.target_chassis is None:
                    cont.target_chassis = cont.index
                if cont.target_port is None:
                    cont.target_port = ((addr.slot or 0) << 3) + (addr.function or 0)
            elif cont.model == "pcie-switch-downstream-port":
                if cont.target_chassis is None:
                    cont.target_chassis = cont.index
                if cont.target_port is None:
                    cont.target_port = addr.slot or 0
            elif cont.model in ("pci-expander-bus", "pcie-expander-bus") and (
                    cont.target_bus_nr is None):
                lowest = min((c.target_bus_nr for c in self.devs.controllers
                              if c.type == "pci" and c.target_bus_nr is not None),
                             default=256)
                if lowest <= 2:
                    raise ConfigUnsupported("No free busNr lower than current lowest busNr is "
                                            "available to auto-assign to bus "
                                            f"{addr.bus or 0}. Must be manually assigned")
                cont.target_bus_nr = lowest - 2


def _wants_pci(dev: Any) -> bool:
    """virDeviceInfoPCIAddressIsWanted: no address yet, or a PCI one without a slot."""
    addr: Address | None = dev.address
    return addr is None or (isinstance(addr, PCIAddress) and not addr.is_present())


# USB ---------------------------------------------------------------------------------------

@dataclass
class PortTree:
    """A USB controller's or hub's ports, with the hubs plugged into them."""

    ports: int
    used: set[int] = field(default_factory=set)
    hubs: dict[int, PortTree] = field(default_factory=dict)

    def find(self) -> list[int] | None:
        free = next((p for p in range(1, self.ports + 1) if p not in self.used), None)
        if free is not None:
            return [free]
        for port in sorted(self.hubs):
            path = self.hubs[port].find()
            if path is not None:
                return [port, *path]
        return None

    def at(self, path: list[int]) -> PortTree | None:
        tree: PortTree | None = self
        for port in path[:-1]:
            tree = tree.hubs.get(port) if tree is not None else None
        return tree


def _usb_devices(devs: Devices) -> list[Any]:
    """virDomainUSBDeviceDefForeach's order (hubs are handled first, separately)."""
    found: list[Any] = [h for h in devs.hostdevs if h.type == "usb"]
    found += [d for d in devs.disks if d.bus == "usb"]
    found += [c for c in devs.controllers if c.type == "ccid"]
    found += [i for i in devs.inputs if getattr(i, "bus", None) == "usb"]
    found += [s for s in devs.serials if getattr(s, "target_type", None) == "usb-serial"]
    found += [s for s in devs.sounds if getattr(s, "model", None) == "usb"]
    found += list(devs.redirdevs)
    return found


def _refuse_usb(users: list[Any], hubs: list[Any]) -> None:
    """The validator's per-device message where it has one, else the address stage's."""
    if any(getattr(d, "TAG", "") == "hostdev" for d in users):
        raise ConfigUnsupported("Can't add host USB device: USB is disabled in this host")
    if any(getattr(d, "TAG", "") == "input" for d in users):
        raise ConfigUnsupported("Can't add USB input device. USB bus is disabled")
    if hubs:
        raise ConfigUnsupported("Can't add USB hub: USB is disabled for this domain")
    raise ConfigUnsupported("USB is disabled for this domain, but USB devices are present in "
                            "the domain XML")


def _usb_addresses(devs: Devices) -> None:
    users = _usb_devices(devs)
    buses: dict[int, PortTree] = {}
    for cont in devs.controllers:
        if cont.type == "usb" and cont.model not in ("none", None) and (
                cont.master_startport is None) and cont.index is not None:
            buses[cont.index] = PortTree(cont.ports or USB_PORTS.get(str(cont.model), 4))
    hubs = [h for h in devs.hubs if getattr(h, "type", None) == "usb"]
    if (users or hubs) and not buses:
        if any(c.type == "usb" and c.model == "none" for c in devs.controllers):
            _refuse_usb(users, hubs)
        return
    # qemuDomainUSBAddressAddHubs: enough hubs for every device to get a port.
    available = sum(b.ports for b in buses.values()) + HUB_PORTS * len(hubs)
    count = len(users) + len(hubs)
    if count > available:
        for _ in range(-(-(count - available + 1) // (HUB_PORTS - 1))):
            added = HubDevice(type="usb")
            devs.hubs.append(added)
            hubs.append(added)
    for dev in [*hubs, *users]:
        addr = dev.address
        if isinstance(addr, USBAddress) and addr.port:
            path = addr.path()
            tree = buses.get(addr.bus or 0)
            parent = tree.at(path) if tree is not None else None
            if parent is not None:
                parent.used.add(path[-1])
                if dev in hubs:
                    parent.hubs[path[-1]] = PortTree(HUB_PORTS)
    for dev in [*hubs, *users]:
        addr = dev.address
        if addr is not None and not isinstance(addr, USBAddress):
            continue
        if isinstance(addr, USBAddress) and addr.port:
            continue
        for index in sorted(buses):
            found = buses[index].find()
            if found is None:
                continue
            path = found
            parent = buses[index].at(path)
            assert parent is not None
            parent.used.add(path[-1])
            if dev in hubs:
                parent.hubs[path[-1]] = PortTree(HUB_PORTS)
            dev.address = USBAddress(type="usb", bus=index,
                                     port=".".join(str(p) for p in path))
            break


# The connect flags of the devices connect_flags has no branch of its own for, by their tag:
# each rule takes the device, its model, whether that is virtio-transitional and the flags
# of a PCIe (q35) or PCI (i440fx) endpoint.
_Rule = Callable[[Any, Any, bool, int], int]


def _virtio(dev: Any, model: Any, transitional: bool, pcie: int) -> int:
    return PCI_FLAGS if transitional else pcie


def _hostdev(dev: Any, model: Any, transitional: bool, pcie: int) -> int:
    if dev.mode != "subsystem" or dev.type not in ("pci", "scsi_host", "mdev"):
        return 0
    if dev.type == "scsi_host" and dev.model == "virtio-transitional":
        return PCI_FLAGS
    return pcie


def _video(dev: Any, model: Any, transitional: bool, pcie: int) -> int:
    if model in ("virtio", "bochs"):
        return pcie
    if model in ("vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels"):
        return PCI_FLAGS
    return 0


_TAG_FLAGS: dict[str, _Rule] = {
    "filesystem": _virtio,
    "sound": lambda d, model, t, pcie: (PCI_FLAGS if model in ("es1370", "ac97", "ich6", "ich9")
                                        else 0),
    "hostdev": _hostdev,
    "memballoon": lambda d, model, t, pcie: (PCI_FLAGS if t else pcie
                                             if model in ("virtio", "virtio-non-transitional")
                                             else 0),
    "rng": _virtio,
    "watchdog": lambda d, model, t, pcie: PCI_FLAGS if model == "i6300esb" else 0,
    "video": _video,
    "shmem": lambda d, model, t, pcie: PCI_FLAGS,
    "input": lambda d, model, t, pcie: (_virtio(d, model, t, pcie)
                                        if getattr(d, "bus", None) == "virtio" else 0),
    "serial": lambda d, model, t, pcie: (PCI_FLAGS
                                         if getattr(d, "target_type", None) == "pci-serial"
                                         else 0),
    "iommu": lambda d, model, t, pcie: pcie | INTEGRATED if model == "virtio" else 0,
    "vsock": _virtio,
    "memory": lambda d, model, t, pcie: pcie if model in ("virtio-pmem", "virtio-mem") else 0,
    "panic": lambda d, model, t, pcie: PCI_FLAGS | INTEGRATED if model == "pvpanic" else 0,
}
