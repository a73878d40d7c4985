"""Boot order as QEMU takes it: a bootindex per device. Per-device <boot order> wins;
otherwise libvirt maps the legacy <os><boot dev> list onto the first disk, cdrom, floppy or
NIC of each kind in turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.disk import Disk
from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain

LEGACY_KINDS: dict[str, Callable[[DeviceDef], bool]] = {
    "hd": lambda d: isinstance(d, Disk) and d.device in ("disk", "lun"),
    "cdrom": lambda d: isinstance(d, Disk) and d.device == "cdrom",
    "fd": lambda d: isinstance(d, Disk) and d.device == "floppy",
    "network": lambda d: isinstance(d, Interface),
}


def all_devices(dom: Domain) -> Iterator[DeviceDef]:
    for name, _ in dom.devices.fields():
        value = getattr(dom.devices, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, DeviceDef):
                yield item


def boot_indexes(dom: Domain) -> dict[int, int]:
    """id(device) -> bootindex."""
    explicit = {id(d): int(d.boot) for d in all_devices(dom) if d.boot is not None}
    if explicit:
        return explicit
    indexes: dict[int, int] = {}
    candidates: list[DeviceDef] = [*dom.devices.disks, *dom.devices.interfaces]
    for order, kind in enumerate(dom.os.boot or (), start=1):
        first = next((d for d in candidates if LEGACY_KINDS[kind](d)), None)
        if first is not None:
            indexes[id(first)] = order
    return indexes
