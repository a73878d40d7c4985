"""What a pool type does (libvirt's virStorageBackend): one class per type, the driver core
(driver.py) holding the pool objects, their state, persistence and events, and calling the
backend for what touches the host. Backends are looked up by pool type in BACKENDS and
imported on first use, so a host that never defines an iscsi pool never imports its code.

A backend works on the parsed documents (conf/storage_pool.py, conf/storage_vol.py): it fills
in what it finds (a pool's sizes, a volume's key, path, sizes and format) and returns it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Protocol

from qvirt.conf.storage_pool import POOL_TYPES, StoragePool
from qvirt.conf.storage_vol import StorageVol
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import ErrorDomain, InternalError


@dataclass
class PoolState:
    """A refresh's findings: the pool's sizes in bytes and the volumes it holds."""

    capacity: int = 0
    allocation: int = 0
    available: int = 0
    volumes: list[StorageVol] = field(default_factory=list)


class Backend(Protocol):
    """Each method may be missing on a type that lacks it (libvirt's NULL entries): the
    driver then answers with libvirt's NoSupport text for that operation."""

    def __init__(self, runner: Runner) -> None: ...
    def check_pool(self, pool: StoragePool) -> bool: ...
    def build_pool(self, pool: StoragePool, flags: int) -> None: ...
    def start_pool(self, pool: StoragePool) -> None: ...
    def refresh_pool(self, pool: StoragePool) -> PoolState: ...
    def stop_pool(self, pool: StoragePool) -> None: ...
    def delete_pool(self, pool: StoragePool, flags: int) -> None: ...
    def find_pool_sources(self, src_spec: str | None, flags: int) -> str: ...
    def create_vol(self, pool: StoragePool, vol: StorageVol) -> None: ...
    def build_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None: ...
    def build_vol_from(self, pool: StoragePool, vol: StorageVol, source: StorageVol,
                       flags: int) -> None: ...
    def delete_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None: ...
    def refresh_vol(self, pool: StoragePool, vol: StorageVol) -> None: ...
    def resize_vol(self, pool: StoragePool, vol: StorageVol, capacity: int,
                   flags: int) -> None: ...
    def check_wipe(self, pool: StoragePool, vol: StorageVol) -> None: ...
    def wipe_vol(self, pool: StoragePool, vol: StorageVol, algorithm: int,
                 flags: int) -> None: ...


# pool type -> "module:Class" of its backend.
BACKENDS: dict[str, str] = {
    "dir": "qvirt.drivers.storage.backend_fs:DirBackend",
    "fs": "qvirt.drivers.storage.backend_fs:FSBackend",
    "netfs": "qvirt.drivers.storage.backend_fs:NetFSBackend",
    "disk": "qvirt.drivers.storage.backend_disk:DiskBackend",
    "logical": "qvirt.drivers.storage.backend_logical:LogicalBackend",
    "iscsi": "qvirt.drivers.storage.backend_iscsi:ISCSIBackend",
    "iscsi-direct": "qvirt.drivers.storage.backend_iscsi_direct:ISCSIDirectBackend",
    "scsi": "qvirt.drivers.storage.backend_scsi:SCSIBackend",
}


def backend_class(pool_type: str) -> type[Backend]:
    """virStorageBackendForType: libvirt's text for a type no backend serves."""
    target = BACKENDS.get(pool_type)
    if target is None:
        # virStoragePoolType numbers the types in the order of conf's table.
        number = list(POOL_TYPES).index(pool_type) if pool_type in POOL_TYPES else -1
        raise InternalError(f"missing backend for pool type {number} ({pool_type})",
                            domain=ErrorDomain.STORAGE)
    module, name = target.split(":")
    cls: type[Backend] = getattr(importlib.import_module(module), name)
    return cls
