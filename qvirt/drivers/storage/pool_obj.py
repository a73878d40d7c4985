"""One pool as the driver holds it (libvirt's virStoragePoolObj): its definitions, whether it
runs, its volumes and the bookkeeping that keeps concurrent jobs apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from qvirt.conf.storage_pool import StoragePool
from qvirt.conf.storage_vol import StorageVol
from qvirt.drivers.base import StoragePoolRef, StorageVolRef


@dataclass
class VolObj:
    """A volume and its jobs: ``in_use`` counts streams and wipes reading or writing it,
    ``building`` is set while its data is being made (create, clone)."""

    vol: StorageVol
    in_use: int = 0
    building: bool = False

    @property
    def name(self) -> str:
        return str(self.vol.name)

    @property
    def key(self) -> str:
        return str(self.vol.key)

    @property
    def path(self) -> str:
        assert self.vol.target is not None
        return str(self.vol.target.path)


@dataclass
class PoolObj:
    """``config`` is the live definition (sizes filled while active); ``new_config`` a
    persistent redefinition waiting for the pool to stop; ``persistent`` whether a config
    file exists (libvirt's configFile)."""

    config: StoragePool
    persistent: bool = False
    active: bool = False
    autostart: bool = False
    new_config: StoragePool | None = None
    async_jobs: int = 0
    volumes: dict[str, VolObj] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.config.name)

    @property
    def uuid(self) -> str:
        return str(self.config.uuid)

    @property
    def type(self) -> str:
        return str(self.config.type)

    @property
    def target_path(self) -> str | None:
        return self.config.target.path if self.config.target is not None else None

    def ref(self) -> StoragePoolRef:
        return StoragePoolRef(self.name, self.uuid)

    def vol_ref(self, vol: VolObj) -> StorageVolRef:
        return StorageVolRef(self.name, vol.name, vol.key)

    def persistent_config(self) -> StoragePool:
        return self.new_config if self.new_config is not None else self.config
