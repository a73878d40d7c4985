"""Device aliases, the ids QEMU knows each device by, named as libvirt's
qemuAssignDeviceAliases names them: the runtime state keeps them, QMP commands and events
name devices by them, and a user alias (``ua-...``) is kept as given."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qvirt.conf.devices.base import DeviceDef, DriveAddress
from qvirt.conf.devices.chardev import Console
from qvirt.conf.devices.controller import Controller
from qvirt.conf.devices.disk import Disk, disk_name_index
from qvirt.conf.devices.interface import Interface
from qvirt.conf.devices.memballoon import Memballoon
from qvirt.conf.devices.memory import MemoryDevice
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_props import is_q35


def _disk_alias(dom: Domain, disk: DeviceDef, _index: int) -> str:
    assert isinstance(disk, Disk)
    addr = disk.address
    bus = str(disk.bus)
    if isinstance(addr, DriveAddress):
        if bus == "scsi":
            if scsi_model(dom, int(addr.controller or 0)) == "lsilogic":
                return f"scsi{addr.controller}-{addr.bus}-{addr.unit}"
            return f"scsi{addr.controller}-{addr.bus}-{addr.target}-{addr.unit}"
        if bus in ("ide", "sata", "fdc"):
            return f"{bus}{addr.controller}-{addr.bus}-{addr.unit}"
    return f"{bus}-disk{disk_name_index(disk.dev)}"


def scsi_model(dom: Domain, index: int) -> str | None:
    """The model of SCSI controller ``index``: the LSI one names and addresses its disks
    without a target number."""
    return next((c.model for c in dom.devices.controllers
                 if c.type == "scsi" and c.index == index), None)


def _controller_alias(dom: Domain, ctrl: DeviceDef, _index: int) -> str:
    assert isinstance(ctrl, Controller)
    kind, index = str(ctrl.type), int(ctrl.index or 0)
    if kind == "pci":
        return "pcie.0" if ctrl.model == "pcie-root" else f"pci.{index}"
    if kind == "ide" and index == 0 and not is_q35(dom):
        return "ide"
    if kind == "sata" and index == 0 and is_q35(dom):
        return "ide"
    if kind == "usb" and index == 0:
        return "usb"
    if kind == "scsi" and index == 0 and ctrl.model == "ncr53c90":
        return "scsi"
    return f"{kind}{index}"


def _numbered(prefix: str) -> Callable[[Domain, DeviceDef, int], str]:
    return lambda _dom, _dev, index: f"{prefix}{index}"


MEMORY_PREFIXES = {"dimm": "dimm", "nvdimm": "nvdimm", "virtio-pmem": "virtiopmem",
                   "virtio-mem": "virtiomem", "sgx-epc": "epc"}


def _memory_alias(_dom: Domain, dev: DeviceDef, index: int) -> str:
    assert isinstance(dev, MemoryDevice)
    return f"{MEMORY_PREFIXES[str(dev.model)]}{index}"


def _net_alias(_dom: Domain, dev: DeviceDef, index: int) -> str:
    assert isinstance(dev, Interface)
    return f"hostdev{index}" if dev.type == "hostdev" else f"net{index}"


# Device list on <devices> -> how its members are named (the index counts within the list).
ALIASES: dict[str, Callable[[Domain, DeviceDef, int], str]] = {
    "disks": _disk_alias,
    "controllers": _controller_alias,
    "filesystems": _numbered("fs"),
    "interfaces": _net_alias,
    "smartcards": _numbered("smartcard"),
    "serials": _numbered("serial"),
    "parallels": _numbered("parallel"),
    "channels": _numbered("channel"),
    "consoles": _numbered("console"),
    "inputs": _numbered("input"),
    "tpms": _numbered("tpm"),
    "sounds": _numbered("sound"),
    "videos": _numbered("video"),
    "hostdevs": _numbered("hostdev"),
    "redirdevs": _numbered("redir"),
    "hubs": _numbered("hub"),
    "watchdogs": _numbered("watchdog"),
    "memballoon": _numbered("balloon"),
    "rngs": _numbered("rng"),
    "shmems": _numbered("shmem"),
    "memories": _memory_alias,
    "iommu": _numbered("iommu"),
    "vsock": _numbered("vsock"),
}


def assign_aliases(dom: Domain) -> None:
    """Give every device that has none its libvirt alias, in place (idempotent).

    A console that mirrors the first serial port shares that port's alias, as in libvirt."""
    devices = dom.devices
    for name, namer in ALIASES.items():
        value = getattr(devices, name)
        items: Sequence[DeviceDef] = value if isinstance(value, list) else (
            [value] if value is not None else [])
        for index, dev in enumerate(items):
            if isinstance(dev, Memballoon) and dev.model == "none":
                continue
            if isinstance(dev, Console) and dev.serial is not None:
                dev.alias = dev.serial.alias
                continue
            if not dev.alias:
                dev.alias = namer(dom, dev, index)

