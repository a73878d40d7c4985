"""Disks of type='volume' (virStorageTranslateDiskSourcePool): at start the pool's volume is
looked up in the storage driver and the disk is opened as the file, block device or directory
the volume is. The live XML keeps naming the pool and the volume, as libvirtd's does; only
the command line and the chain detection see the host path."""

from __future__ import annotations

from dataclasses import dataclass

from qvirt.conf.devices.disk import Disk
from qvirt.conf.domain import Domain
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.errors import ConfigUnsupported, ErrorDomain

# volume type -> the disk's storage type while QEMU opens it, and the source attribute it uses
_HOST_TYPES = {"file": ("file", "file"), "ploop": ("file", "file"), "block": ("block", "dev"),
               "dir": ("dir", "dir")}


@dataclass
class Translated:
    disk: Disk
    pool: str
    volume: str
    mode: str | None
    attribute: str


def translate_volumes(dom: Domain, storage: LocalStorageDriver) -> list[Translated]:
    """Turn every volume disk of ``dom`` into the host disk it stands for; undo with
    restore_volumes once the command line is made."""
    done: list[Translated] = []
    for disk in dom.devices.disks if dom.devices is not None else []:
        src = disk.source
        if disk.type != "volume" or src is None or src.pool is None or src.volume is None:
            continue
        vol_type, path, _format = storage.volume_source(src.pool, src.volume)
        if vol_type not in _HOST_TYPES:
            raise ConfigUnsupported(f"unexpected storage volume type '{vol_type}' for "
                                    "storage pool type 'dir'", domain=ErrorDomain.DOMAIN)
        if src.startup_policy is not None and vol_type != "file":
            raise ConfigUnsupported("'startupPolicy' is only valid for 'file' type volume",
                                    domain=ErrorDomain.DOMAIN)
        disk_type, attribute = _HOST_TYPES[vol_type]
        done.append(Translated(disk, src.pool, src.volume, src.mode, attribute))
        disk.type = disk_type
        src.pool = src.volume = src.mode = None
        setattr(src, attribute, path)
    return done


def restore_volumes(translated: list[Translated]) -> None:
    for item in translated:
        src = item.disk.source
        assert src is not None
        item.disk.type = "volume"
        setattr(src, item.attribute, None)
        src.pool, src.volume, src.mode = item.pool, item.volume, item.mode
