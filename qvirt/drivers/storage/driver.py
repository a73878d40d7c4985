"""The storage driver (libvirt's storage_driver.c over virstorageobj.c): pools defined in
config files, started and stopped through their backend, their state kept in a state
directory so that a new driver on the same directories finds its running pools again, and
the volumes of each running pool as its last refresh found them.

One lock guards the driver's maps. Long jobs on one volume (building its data, wiping it)
run without it, marked on the volume (``building``, ``in_use``) and counted on the pool
(``async_jobs``), so other pools and volumes stay usable meanwhile and what a job holds
cannot be destroyed, deleted or wiped under it, as libvirt arranges."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

from lxml import etree

from qvirt import constants as C
from qvirt.conf import storage_pool, storage_vol, xmltree
from qvirt.conf.storage_common import sanitize_path
from qvirt.conf.storage_pool import StoragePool
from qvirt.conf.storage_vol import StorageVol
from qvirt.drivers.base import (
    DeviceStream,
    PoolEventCallback,
    StoragePoolInfo,
    StoragePoolRef,
    StorageVolInfo,
    StorageVolRef,
)
from qvirt.drivers.storage import wipe as wiping
from qvirt.drivers.storage.backend import Backend, backend_class
from qvirt.drivers.storage.capabilities import pool_capabilities_xml
from qvirt.drivers.storage.events import PoolEventHub
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.drivers.storage.pool_match import matches, same_source
from qvirt.drivers.storage.pool_obj import PoolObj, VolObj
from qvirt.drivers.storage.runner import HostRunner, Runner
from qvirt.drivers.storage.storage_errors import (
    no_pool,
    no_vol,
    storage_error,
    unsupported_flags,
)
from qvirt.errors import (
    ConfigUnsupported,
    ErrorDomain,
    ErrorNumber,
    InvalidArg,
    NoSupport,
    OperationFailed,
    OperationInvalid,
    QvirtError,
    XMLDetail,
)
from qvirt.util.fileio import atomic_write, remove

log = logging.getLogger(__name__)

LIFECYCLE = C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE
REFRESH = C.VIR_STORAGE_POOL_EVENT_ID_REFRESH

_VOL_TYPES = {"file": C.VIR_STORAGE_VOL_FILE, "block": C.VIR_STORAGE_VOL_BLOCK,
              "dir": C.VIR_STORAGE_VOL_DIR, "network": C.VIR_STORAGE_VOL_NETWORK,
              "netdir": C.VIR_STORAGE_VOL_NETDIR, "ploop": C.VIR_STORAGE_VOL_PLOOP}
DEFAULT_POOL = "default"


# libvirt function -> the flags it takes (each entry point's virCheckFlags)
_BUILD_WITH = (C.VIR_STORAGE_POOL_CREATE_WITH_BUILD
               | C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE
               | C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE)
ALLOWED_FLAGS: dict[str, int] = {
    "storagePoolDefineXML": C.VIR_STORAGE_POOL_DEFINE_VALIDATE,
    "storagePoolCreateXML": _BUILD_WITH,
    "storagePoolCreate": _BUILD_WITH,
    "storagePoolRefresh": 0,
    "storagePoolGetXMLDesc": C.VIR_STORAGE_XML_INACTIVE,
    "storagePoolListAllVolumes": 0,
    "storageConnectListAllStoragePools": (1 << 20) - 1,
    "storageConnectGetStoragePoolCapabilities": 0,
    "storageVolCreateXML": (C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
                            | C.VIR_STORAGE_VOL_CREATE_VALIDATE),
    "storageVolCreateXMLFrom": (C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
                                | C.VIR_STORAGE_VOL_CREATE_REFLINK
                                | C.VIR_STORAGE_VOL_CREATE_VALIDATE),
    "storageVolWipePattern": 0,
    "storageVolGetInfoFlags": C.VIR_STORAGE_VOL_GET_PHYSICAL,
    "storageVolGetXMLDesc": 0,
    "storageVolResize": (C.VIR_STORAGE_VOL_RESIZE_ALLOCATE | C.VIR_STORAGE_VOL_RESIZE_DELTA
                         | C.VIR_STORAGE_VOL_RESIZE_SHRINK),
    "storageVolUpload": C.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
    "storageVolDownload": C.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
}


def check_flags(function: str, flags: int) -> None:
    unsupported_flags(flags, ALLOWED_FLAGS[function], function)


def _inactive_copy(config: StoragePool) -> StoragePool:
    """A definition as a config file keeps it: no sizes of a running pool."""
    copy = config.copy()
    for name in ("capacity", "allocation", "available"):
        setattr(copy, name, 0)
    return copy


class LocalStorageDriver:
    """The StorageDriver of a local connection (QEMU driver, qvirtd) over ``paths``."""

    def __init__(self, paths: StoragePaths, runner: Runner | None = None) -> None:
        self.paths = paths
        self.runner: Runner = runner if runner is not None else HostRunner()
        self._lock = threading.RLock()
        self._pools: dict[str, PoolObj] = {}      # by uuid
        self._backends: dict[str, Backend] = {}
        self._events = PoolEventHub()
        fresh = not paths.config_dir.exists()
        for directory in (paths.config_dir, paths.autostart_dir, paths.state_dir):
            directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._load()
            if fresh:
                self._define_default()
            self._autostart()

    def close(self) -> None:
        self._events.close()

    # Plumbing ------------------------------------------------------------------------------

    def _backend(self, pool_type: str) -> Backend:
        backend = self._backends.get(pool_type)
        if backend is None:
            backend = backend_class(pool_type)(self.runner)
            self._backends[pool_type] = backend
        return backend

    def _emit(self, obj: PoolObj, event_id: int, event: int = 0) -> None:
        self._events.emit(obj.ref(), event_id, event, 0)

    def _by_name(self, name: str) -> PoolObj | None:
        return next((p for p in self._pools.values() if p.name == name), None)

    def _pool(self, ref: StoragePoolRef) -> PoolObj:
        """storagePoolObjFindByUUID: the pool a handle names."""
        obj = self._pools.get(ref.uuid)
        if obj is None:
            raise no_pool(f"no storage pool with matching uuid '{ref.uuid}' ({ref.name})")
        return obj

    def _active_pool(self, ref: StoragePoolRef) -> PoolObj:
        obj = self._pool(ref)
        self._check_active(obj)
        return obj

    @staticmethod
    def _check_active(obj: PoolObj) -> None:
        if not obj.active:
            raise storage_error(OperationInvalid,
                                f"storage pool '{obj.name}' is not active")

    @staticmethod
    def _check_no_jobs(obj: PoolObj) -> None:
        if obj.async_jobs:
            raise storage_error(QvirtError,
                                f"pool '{obj.name}' has asynchronous jobs running.")

    def _vol(self, ref: StorageVolRef) -> tuple[PoolObj, VolObj]:
        """virStorageVolDefFromVol: the pool by name, running, and the volume in it."""
        obj = self._by_name(ref.pool)
        if obj is None:
            raise no_pool(f"no storage pool with matching name '{ref.pool}'")
        self._check_active(obj)
        vol = obj.volumes.get(ref.name)
        if vol is None:
            raise no_vol(f"no storage vol with matching name '{ref.name}'")
        return obj, vol

    @staticmethod
    def _check_idle(vol: VolObj) -> None:
        if vol.in_use:
            raise storage_error(OperationInvalid, f"volume '{vol.name}' is still in use.")
        if vol.building:
            raise storage_error(OperationInvalid,
                                f"volume '{vol.name}' is still being allocated.")

    @contextlib.contextmanager
    def _unlocked(self, *pools: PoolObj) -> Iterator[None]:
        """A long job on the pools' volumes, run without the driver's lock."""
        for obj in pools:
            obj.async_jobs += 1
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            for obj in pools:
                obj.async_jobs -= 1

    # Persistence -----------------------------------------------------------------------------

    def _save_config(self, obj: PoolObj) -> None:
        atomic_write(self.paths.config(obj.name),
                     _inactive_copy(obj.persistent_config()).to_xml())

    def _save_state(self, obj: PoolObj) -> None:
        atomic_write(self.paths.state(obj.name), obj.config.to_xml())

    def _load(self) -> None:
        """storageStateInitialize: configs, then the state of pools that were running, each
        checked with its backend (a pool whose mount went away is not running any more)."""
        for path in sorted(self.paths.config_dir.glob("*.xml")):
            try:
                config = StoragePool.from_xml(path.read_text())
            except (OSError, QvirtError) as err:
                log.error("skipping pool config %s: %s", path, err)
                continue
            obj = PoolObj(config, persistent=True,
                          autostart=self.paths.autostart_link(config.name or "").exists())
            self._pools[obj.uuid] = obj
        for path in sorted(self.paths.state_dir.glob("*.xml")):
            self._load_state(path)

    def _load_state(self, path: os.PathLike[str]) -> None:
        try:
            with open(path) as f:
                live = StoragePool.from_xml(f.read())
        except (OSError, QvirtError) as err:
            log.error("skipping pool state %s: %s", path, err)
            return
        obj = self._pools.get(str(live.uuid))
        if obj is None:
            obj = PoolObj(live)
            self._pools[obj.uuid] = obj
        else:
            if obj.config.to_xml() != _inactive_copy(live).to_xml():
                obj.new_config = obj.config
            obj.config = live
        try:
            backend = self._backend(obj.type)
            running = backend.check_pool(live)
            if running:
                self._refresh(obj, backend)
        except QvirtError as err:
            log.error("pool '%s' is not running any more: %s", obj.name, err)
            running = False
        if running:
            obj.active = True
        else:
            remove(self.paths.state(obj.name))
            self._became_inactive(obj)

    def _autostart(self) -> None:
        for obj in list(self._pools.values()):
            if obj.autostart and not obj.active:
                try:
                    self._start(obj, 0)
                except QvirtError as err:
                    log.error("autostart of pool '%s' failed: %s", obj.name, err)

    def _define_default(self) -> None:
        """What distributions ship with libvirt: a dir pool at the images directory,
        started at every start of the driver."""
        images = self.paths.images_dir
        config = StoragePool.from_xml(f"<pool type='dir'><name>{DEFAULT_POOL}</name><target>"
                                      f"<path>{images}</path></target></pool>")
        storage_pool.apply_defaults(config)
        obj = PoolObj(config, persistent=True)
        self._pools[obj.uuid] = obj
        self._save_config(obj)
        self._set_autostart(obj, True)
        try:
            self._backend("dir").build_pool(config, 0)
        except QvirtError as err:
            log.error("cannot make the default pool's directory: %s", err)

    # Pools: definition -----------------------------------------------------------------------

    def _parse(self, xml: str, flags: int) -> StoragePool:
        validate = bool(flags & C.VIR_STORAGE_POOL_DEFINE_VALIDATE)
        config = StoragePool.from_xml(xml, validate=validate)
        storage_pool.apply_defaults(config)
        backend_class(str(config.type))
        return config

    def _check_source(self, config: StoragePool) -> None:
        """virStoragePoolObjSourceFindDuplicate: another pool over the same directory,
        device or export."""
        for obj in self._pools.values():
            if obj.name != config.name and same_source(obj.config, config):
                raise storage_error(OperationFailed,
                                    f"Storage source conflict with pool: '{obj.name}'")

    def _check_duplicate(self, config: StoragePool, check_active: bool) -> PoolObj | None:
        """virStoragePoolObjIsDuplicate: the pool with this uuid and name, if defined."""
        obj = self._pools.get(str(config.uuid))
        if obj is not None:
            if obj.name != config.name:
                raise storage_error(OperationFailed, f"pool '{obj.name}' is already defined "
                                    f"with uuid {obj.uuid}")
            if check_active and obj.active:
                raise storage_error(OperationInvalid,
                                    f"pool is already active as '{obj.name}'")
            return obj
        obj = self._by_name(str(config.name))
        if obj is not None:
            raise storage_error(OperationFailed, f"pool '{config.name}' already exists with "
                                f"uuid {obj.uuid}")
        return None

    def storage_pool_define_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        check_flags("storagePoolDefineXML", flags)
        config = self._parse(xml, flags)
        if "\n" in str(config.name):      # virXMLCheckIllegalChars, for a config file's sake
            raise XMLDetail("invalid char in name: \n", domain=ErrorDomain.XML)
        with self._lock:
            self._check_source(config)
            obj = self._check_duplicate(config, check_active=False)
            if obj is None:
                obj = PoolObj(config, persistent=True)
                self._pools[obj.uuid] = obj
                added = True
            else:
                added = False
                previous = (obj.config, obj.new_config, obj.persistent)
                if obj.active:
                    obj.new_config = config
                else:
                    obj.config = config
                obj.persistent = True
            try:
                self._save_config(obj)
            except QvirtError:
                if added:
                    del self._pools[obj.uuid]
                else:
                    obj.config, obj.new_config, obj.persistent = previous
                raise
            self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_DEFINED)
            return obj.ref()

    def storage_pool_undefine(self, pool: StoragePoolRef) -> None:
        with self._lock:
            obj = self._pool(pool)
            if obj.active:
                raise storage_error(OperationInvalid,
                                    f"storage pool '{obj.name}' is still active")
            self._check_no_jobs(obj)
            remove(self.paths.autostart_link(obj.name))
            remove(self.paths.config(obj.name))
            obj.persistent = obj.autostart = False
            obj.new_config = None
            self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_UNDEFINED)
            del self._pools[obj.uuid]

    def storage_pool_create_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        """A transient pool (or a running instance of a defined one), built first if asked."""
        check_flags("storagePoolCreateXML", flags)
        build_flags = _build_flags(flags)
        config = self._parse(xml, 0)
        with self._lock:
            self._check_source(config)
            obj = self._check_duplicate(config, check_active=True)
            added = obj is None
            if obj is None:
                obj = PoolObj(config)
                self._pools[obj.uuid] = obj
            else:
                obj.new_config, obj.config = obj.config, config
            try:
                self._start(obj, build_flags, build=bool(flags))
            except QvirtError:
                if added:
                    del self._pools[obj.uuid]
                else:
                    obj.config, obj.new_config = obj.persistent_config(), None
                raise
            return obj.ref()

    # Pools: life cycle -------------------------------------------------------------------------

    def _start(self, obj: PoolObj, build_flags: int, build: bool = False) -> None:
        """storagePoolCreate's work: build if asked, start, save the state, refresh."""
        backend = self._backend(obj.type)
        if build:
            backend.build_pool(obj.config, build_flags)
        backend.start_pool(obj.config)
        try:
            self._save_state(obj)
            self._refresh(obj, backend)
        except QvirtError:
            remove(self.paths.state(obj.name))
            with contextlib.suppress(QvirtError):
                backend.stop_pool(obj.config)
            raise
        self._save_state(obj)
        obj.active = True
        self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STARTED)

    def _refresh(self, obj: PoolObj, backend: Backend) -> None:
        """The pool's sizes and volumes anew; a volume a stream holds stays held (the
        stream's end releases the object the refresh made)."""
        found = backend.refresh_pool(obj.config)
        config = obj.config
        config.capacity, config.allocation, config.available = (
            found.capacity, found.allocation, found.available)
        old = obj.volumes
        obj.volumes = {}
        for vol in found.volumes:
            name = str(vol.name)
            previous = old.get(name)
            obj.volumes[name] = VolObj(vol, previous.in_use if previous else 0)

    def _became_inactive(self, obj: PoolObj) -> None:
        """virStoragePoolUpdateInactive: a waiting redefinition takes over; a transient pool
        is gone."""
        obj.active = False
        obj.volumes = {}
        if obj.new_config is not None:
            obj.config, obj.new_config = obj.new_config, None
        if not obj.persistent:
            self._pools.pop(obj.uuid, None)

    def storage_pool_create(self, pool: StoragePoolRef, flags: int = 0) -> None:
        check_flags("storagePoolCreate", flags)
        build_flags = _build_flags(flags)
        with self._lock:
            obj = self._pool(pool)
            if obj.active:
                raise storage_error(OperationInvalid,
                                    f"storage pool '{obj.name}' is already active")
            self._start(obj, build_flags, build=bool(flags))

    def storage_pool_build(self, pool: StoragePoolRef, flags: int = 0) -> None:
        with self._lock:
            obj = self._pool(pool)
            if obj.active:
                raise storage_error(OperationInvalid,
                                    f"storage pool '{obj.name}' is already active")
            self._backend(obj.type).build_pool(obj.config, flags)
            self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_CREATED)

    def storage_pool_destroy(self, pool: StoragePoolRef) -> None:
        with self._lock:
            obj = self._active_pool(pool)
            self._check_no_jobs(obj)
            if any(v.in_use for v in obj.volumes.values()):
                busy = next(v for v in obj.volumes.values() if v.in_use)
                raise storage_error(OperationInvalid, f"volume '{busy.name}' is still in use.")
            self._backend(obj.type).stop_pool(obj.config)
            remove(self.paths.state(obj.name))
            self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STOPPED)
            self._became_inactive(obj)

    def storage_pool_delete(self, pool: StoragePoolRef, flags: int = 0) -> None:
        with self._lock:
            obj = self._pool(pool)
            if obj.active:
                raise storage_error(OperationInvalid,
                                    f"storage pool '{obj.name}' is still active")
            self._check_no_jobs(obj)
            backend = self._backend(obj.type)
            if not hasattr(backend, "delete_pool"):
                raise storage_error(NoSupport, "pool does not support pool deletion")
            backend.delete_pool(obj.config, flags)
            self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_DELETED)

    def storage_pool_refresh(self, pool: StoragePoolRef, flags: int = 0) -> None:
        check_flags("storagePoolRefresh", flags)
        with self._lock:
            obj = self._active_pool(pool)
            self._check_no_jobs(obj)
            backend = self._backend(obj.type)
            try:
                self._refresh(obj, backend)
            except QvirtError:
                with contextlib.suppress(QvirtError):
                    backend.stop_pool(obj.config)
                remove(self.paths.state(obj.name))
                self._emit(obj, LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STOPPED)
                self._became_inactive(obj)
                raise
            self._save_state(obj)
            self._emit(obj, REFRESH)

    # Pools: queries ------------------------------------------------------------------------------

    def storage_pool_get_info(self, pool: StoragePoolRef) -> StoragePoolInfo:
        with self._lock:
            obj = self._pool(pool)
            config = obj.config
            state = C.VIR_STORAGE_POOL_RUNNING if obj.active else C.VIR_STORAGE_POOL_INACTIVE
            return StoragePoolInfo(state, int(config.capacity or 0),
                                   int(config.allocation or 0), int(config.available or 0))

    def storage_pool_get_xml_desc(self, pool: StoragePoolRef, flags: int = 0) -> str:
        check_flags("storagePoolGetXMLDesc", flags)
        with self._lock:
            obj = self._pool(pool)
            if flags & C.VIR_STORAGE_XML_INACTIVE and obj.new_config is not None:
                return obj.new_config.to_xml()
            return obj.config.to_xml()

    def storage_pool_get_autostart(self, pool: StoragePoolRef) -> bool:
        with self._lock:
            return self._pool(pool).autostart

    def storage_pool_set_autostart(self, pool: StoragePoolRef, autostart: bool) -> None:
        with self._lock:
            obj = self._pool(pool)
            if not obj.persistent:
                raise storage_error(QvirtError, "pool has no config file")
            self._set_autostart(obj, autostart)

    def _set_autostart(self, obj: PoolObj, autostart: bool) -> None:
        link = self.paths.autostart_link(obj.name)
        if autostart == obj.autostart and (link.is_symlink() == autostart):
            return
        if autostart:
            try:
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                os.symlink(self.paths.config(obj.name), link)
            except OSError as err:
                raise QvirtError(f"Failed to create symlink '{link}' to "
                                 f"'{self.paths.config(obj.name)}': {err.strerror}",
                                 code=ErrorNumber.SYSTEM_ERROR) from err
        else:
            remove(link)
        obj.autostart = autostart

    def storage_pool_is_active(self, pool: StoragePoolRef) -> bool:
        with self._lock:
            return self._pool(pool).active

    def storage_pool_is_persistent(self, pool: StoragePoolRef) -> bool:
        with self._lock:
            return self._pool(pool).persistent

    def connect_list_all_storage_pools(self, flags: int = 0) -> list[StoragePoolRef]:
        """virStoragePoolObjListExport with virStoragePoolMatch's filters."""
        check_flags("storageConnectListAllStoragePools", flags)
        with self._lock:
            pools = [p for p in self._pools.values() if matches(p, flags)]
            return [p.ref() for p in sorted(pools, key=lambda p: p.name)]

    def connect_get_storage_pool_capabilities(self, flags: int = 0) -> str:
        check_flags("storageConnectGetStoragePoolCapabilities", flags)
        return pool_capabilities_xml()

    def connect_find_storage_pool_sources(self, type: str, src_spec: str | None,
                                          flags: int = 0) -> str:
        if type not in storage_pool.POOL_TYPES:
            raise storage_error(QvirtError, f"unknown storage pool type {type}")
        backend = self._backend(type)
        if not hasattr(backend, "find_pool_sources"):
            raise storage_error(NoSupport,
                                f"pool type '{type}' does not support source discovery")
        return backend.find_pool_sources(src_spec, flags)

    # Pools: look-ups ---------------------------------------------------------------------------

    def storage_pool_lookup_by_name(self, name: str) -> StoragePoolRef:
        with self._lock:
            obj = self._by_name(name)
            if obj is None:
                raise no_pool(f"no storage pool with matching name '{name}'")
            return obj.ref()

    def storage_pool_lookup_by_uuid(self, uuid: str) -> StoragePoolRef:
        with self._lock:
            obj = self._pools.get(uuid)
            if obj is None:
                raise no_pool(f"no storage pool with matching uuid '{uuid}'")
            return obj.ref()

    def storage_pool_lookup_by_volume(self, vol: StorageVolRef) -> StoragePoolRef:
        with self._lock:
            obj = self._by_name(vol.pool)
            if obj is None:
                raise no_pool(f"no storage pool with matching name '{vol.pool}'")
            return obj.ref()

    def storage_pool_lookup_by_target_path(self, path: str) -> StoragePoolRef:
        clean = sanitize_path(path)
        with self._lock:
            for obj in self._pools.values():
                if obj.active and obj.target_path == clean:
                    return obj.ref()
            shown = f"'{path}'" if path == clean else f"'{path}' ({clean})"
            raise no_pool(f"no storage pool with matching target path {shown}")

    # Volumes: queries and look-ups -------------------------------------------------------------

    def storage_pool_list_all_volumes(self, pool: StoragePoolRef,
                                      flags: int = 0) -> list[StorageVolRef]:
        check_flags("storagePoolListAllVolumes", flags)
        with self._lock:
            obj = self._active_pool(pool)
            return [obj.vol_ref(v) for v in obj.volumes.values()]

    def storage_vol_lookup_by_name(self, pool: StoragePoolRef, name: str) -> StorageVolRef:
        with self._lock:
            obj = self._active_pool(pool)
            vol = obj.volumes.get(name)
            if vol is None:
                raise no_vol(f"no storage vol with matching name '{name}'")
            return obj.vol_ref(vol)

    def storage_vol_lookup_by_key(self, key: str) -> StorageVolRef:
        with self._lock:
            for obj in self._pools.values():
                for vol in obj.volumes.values() if obj.active else ():
                    if vol.key == key:
                        return obj.vol_ref(vol)
            raise no_vol(f"no storage vol with matching key {key}")

    def storage_vol_lookup_by_path(self, path: str) -> StorageVolRef:
        clean = sanitize_path(path)
        with self._lock:
            for obj in self._pools.values():
                for vol in obj.volumes.values() if obj.active else ():
                    if vol.path == clean:
                        return obj.vol_ref(vol)
            shown = f"'{path}'" if path == clean else f"'{path}' ({clean})"
            raise no_vol(f"no storage vol with matching path {shown}")

    def _refresh_vol(self, obj: PoolObj, vol: VolObj) -> None:
        self._backend(obj.type).refresh_vol(obj.config, vol.vol)

    def storage_vol_get_info_flags(self, vol: StorageVolRef,
                                   flags: int = 0) -> StorageVolInfo:
        check_flags("storageVolGetInfoFlags", flags)
        with self._lock:
            obj, found = self._vol(vol)
            self._refresh_vol(obj, found)
            v = found.vol
            allocation = int(v.allocation)
            if flags & C.VIR_STORAGE_VOL_GET_PHYSICAL:
                allocation = int(v.physical or 0)
            return StorageVolInfo(_VOL_TYPES.get(str(v.type), 0), int(v.capacity), allocation)

    def storage_vol_get_xml_desc(self, vol: StorageVolRef, flags: int = 0) -> str:
        check_flags("storageVolGetXMLDesc", flags)
        with self._lock:
            obj, found = self._vol(vol)
            self._refresh_vol(obj, found)
            return found.vol.to_xml()

    def storage_vol_get_path(self, vol: StorageVolRef) -> str:
        with self._lock:
            return self._vol(vol)[1].path

    # Volumes: creation ---------------------------------------------------------------------------

    def _parse_vol(self, obj: PoolObj, xml: str, flags: int) -> StorageVol:
        _refuse_validate(flags)
        vol = StorageVol.from_xml(xml)
        storage_vol.apply_defaults(vol, obj.type)
        if vol.name in obj.volumes:
            raise QvirtError(f"'{vol.name}'", code=ErrorNumber.STORAGE_VOL_EXIST,
                             domain=ErrorDomain.STORAGE)
        vol.key = None
        return vol

    def storage_vol_create_xml(self, pool: StoragePoolRef, xml: str,
                               flags: int = 0) -> StorageVolRef:
        check_flags("storageVolCreateXML", flags)
        with self._lock:
            obj = self._active_pool(pool)
            vol = self._parse_vol(obj, xml, flags)
            backend = self._backend(obj.type)
            if not hasattr(backend, "create_vol"):
                raise storage_error(NoSupport,
                                    "storage pool does not support volume creation")
            backend.create_vol(obj.config, vol)
            return self._build_vol(obj, VolObj(vol), None, flags)

    def storage_vol_create_xml_from(self, pool: StoragePoolRef, xml: str,
                                    clone: StorageVolRef, flags: int = 0) -> StorageVolRef:
        check_flags("storageVolCreateXMLFrom", flags)
        with self._lock:
            obj = self._active_pool(pool)
            source_pool, source = self._vol(clone)
            if source.building:
                raise storage_error(OperationInvalid,
                                    f"volume '{source.name}' is still being allocated.")
            vol, has_allocation = _parse_clone(xml, flags)
            storage_vol.apply_defaults(vol, obj.type)
            if vol.name in obj.volumes:
                raise QvirtError(f"storage volume name '{vol.name}' already in use.",
                                 code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.STORAGE)
            vol.key = None
            # libvirt: the clone is at least as large as its source, and fully allocated
            # unless the document says otherwise
            vol.capacity = max(int(vol.capacity), int(source.vol.capacity))
            if not has_allocation:
                vol.allocation = vol.capacity
            self._refresh_vol(source_pool, source)
            backend = self._backend(obj.type)
            if not hasattr(backend, "build_vol_from"):
                raise storage_error(NoSupport, "storage pool does not support volume creation "
                                    "from an existing volume")
            backend.create_vol(obj.config, vol)
            return self._build_vol(obj, VolObj(vol), (source_pool, source), flags)

    def _build_vol(self, obj: PoolObj, new: VolObj,
                   source: tuple[PoolObj, VolObj] | None, flags: int) -> StorageVolRef:
        """The volume is listed (as being allocated) while its data is made without the lock;
        a failed build leaves nothing behind."""
        backend = self._backend(obj.type)
        obj.volumes[new.name] = new
        new.building = True
        pools = (obj,) if source is None or source[0] is obj else (obj, source[0])
        if source is not None:
            source[1].in_use += 1
        try:
            with self._unlocked(*pools):
                if source is None:
                    backend.build_vol(obj.config, new.vol.copy(), flags)
                else:
                    backend.build_vol_from(obj.config, new.vol.copy(), source[1].vol, flags)
        except BaseException:
            obj.volumes.pop(new.name, None)
            raise
        finally:
            new.building = False
            if source is not None:
                source[1].in_use -= 1
        try:
            self._refresh_vol(obj, new)
        except QvirtError:
            with contextlib.suppress(QvirtError):
                backend.delete_vol(obj.config, new.vol, 0)
            obj.volumes.pop(new.name, None)
            raise
        self._account(obj, int(new.vol.allocation))
        return obj.vol_ref(new)

    @staticmethod
    def _account(obj: PoolObj, allocated: int) -> None:
        config = obj.config
        config.allocation = int(config.allocation or 0) + allocated
        config.available = max(int(config.available or 0) - allocated, 0)

    # Volumes: changes ---------------------------------------------------------------------------

    def storage_vol_delete(self, vol: StorageVolRef, flags: int = 0) -> None:
        with self._lock:
            obj, found = self._vol(vol)
            self._check_idle(found)
            backend = self._backend(obj.type)
            if not hasattr(backend, "delete_vol"):
                raise storage_error(NoSupport, "storage pool does not support vol deletion")
            backend.delete_vol(obj.config, found.vol, flags)
            self._account(obj, -int(found.vol.allocation))
            del obj.volumes[found.name]

    def storage_vol_wipe(self, vol: StorageVolRef, flags: int = 0) -> None:
        self.storage_vol_wipe_pattern(vol, C.VIR_STORAGE_VOL_WIPE_ALG_ZERO, flags)

    def storage_vol_wipe_pattern(self, vol: StorageVolRef, algorithm: int,
                                 flags: int = 0) -> None:
        check_flags("storageVolWipePattern", flags)
        wiping.check_algorithm(algorithm)
        with self._lock:
            obj, found = self._vol(vol)
            self._check_idle(found)
            self._refresh_vol(obj, found)
            length = int(found.vol.allocation)
            found.in_use += 1
            try:
                with self._unlocked(obj):
                    wiping.wipe(self.runner, found.path, length, algorithm)
            finally:
                found.in_use -= 1
            self._refresh_vol(obj, found)

    def storage_vol_resize(self, vol: StorageVolRef, capacity: int, flags: int = 0) -> None:
        """storageVolResize's checks, in its order and words."""
        check_flags("storageVolResize", flags)
        with self._lock:
            obj, found = self._vol(vol)
            self._check_idle(found)
            self._refresh_vol(obj, found)
            v = found.vol
            current, allocation = int(v.capacity), int(v.allocation)
            if flags & C.VIR_STORAGE_VOL_RESIZE_DELTA:
                if flags & C.VIR_STORAGE_VOL_RESIZE_SHRINK:
                    wanted = current - min(capacity, current)
                else:
                    wanted = current + capacity
            else:
                wanted = capacity
            if wanted < allocation:
                raise storage_error(InvalidArg,
                                    "can't shrink capacity below existing allocation")
            if wanted < current and not flags & C.VIR_STORAGE_VOL_RESIZE_SHRINK:
                raise storage_error(InvalidArg, "Can't shrink capacity below current "
                                    "capacity unless shrink flag explicitly specified")
            delta = wanted - allocation if flags & C.VIR_STORAGE_VOL_RESIZE_ALLOCATE else 0
            if delta > int(obj.config.available or 0):
                raise storage_error(OperationFailed, "Not enough space left in storage pool")
            backend = self._backend(obj.type)
            if not hasattr(backend, "resize_vol"):
                raise storage_error(NoSupport, "storage pool does not support changing of "
                                    "volume capacity")
            backend.resize_vol(obj.config, v, wanted,
                               flags & ~C.VIR_STORAGE_VOL_RESIZE_DELTA)
            self._refresh_vol(obj, found)
            self._account(obj, int(v.allocation) - allocation)

    # Volumes: data streams ----------------------------------------------------------------------

    def _stream_start(self, vol: StorageVolRef, upload: bool) -> tuple[PoolObj, VolObj]:
        obj, found = self._vol(vol)
        if upload:
            self._check_idle(found)
        elif found.building:
            raise storage_error(OperationInvalid,
                                f"volume '{found.name}' is still being allocated.")
        found.in_use += 1
        return obj, found

    def _stream_done(self, obj: PoolObj, found: VolObj, upload: bool) -> None:
        """The stream's end releases the volume; an upload's end refreshes the pool and
        says so, unless a volume is being built in it (virStorageVolPoolRefreshThread)."""
        with self._lock:
            current = obj.volumes.get(found.name, found)
            current.in_use = max(current.in_use - 1, 0)
            if current is not found:
                found.in_use -= 1
            if not upload or not obj.active or obj.async_jobs:
                return
            try:
                self._refresh(obj, self._backend(obj.type))
            except QvirtError as err:
                log.error("refresh of pool '%s' after an upload failed: %s", obj.name, err)
                return
            self._save_state(obj)
            self._emit(obj, REFRESH)

    def storage_vol_upload(self, vol: StorageVolRef, offset: int, length: int,
                           flags: int = 0) -> DeviceStream:
        check_flags("storageVolUpload", flags)
        from qvirt.drivers.storage import volstream
        with self._lock:
            obj, found = self._stream_start(vol, upload=True)
            try:
                return volstream.upload(
                    found.path, offset, length,
                    sparse=bool(flags & C.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM),
                    on_close=lambda: self._stream_done(obj, found, True))
            except BaseException:
                found.in_use -= 1
                raise

    def storage_vol_download(self, vol: StorageVolRef, offset: int, length: int,
                             flags: int = 0) -> DeviceStream:
        check_flags("storageVolDownload", flags)
        from qvirt.drivers.storage import volstream
        with self._lock:
            obj, found = self._stream_start(vol, upload=False)
            try:
                return volstream.download(
                    found.path, offset, length,
                    sparse=bool(flags & C.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM),
                    on_close=lambda: self._stream_done(obj, found, False))
            except BaseException:
                found.in_use -= 1
                raise

    # Events --------------------------------------------------------------------------------------

    def connect_storage_pool_event_register_any(self, pool: StoragePoolRef | None,
                                                event_id: int,
                                                callback: PoolEventCallback) -> int:
        return self._events.register(pool, event_id, callback)

    def connect_storage_pool_event_deregister_any(self, callback_id: int) -> None:
        self._events.deregister(callback_id)

    # For the QEMU driver -----------------------------------------------------------------------

    def volume_source(self, pool_name: str, vol_name: str) -> tuple[str, str, str | None]:
        """virStorageTranslateDiskSourcePool's look-up: the pool's type, the volume's path and
        its format, with libvirt's errors for a missing or inactive pool."""
        with self._lock:
            obj = self._by_name(pool_name)
            if obj is None:
                raise no_pool(f"no storage pool with matching name '{pool_name}'")
            if not obj.active:
                raise ConfigUnsupported(f"storage pool '{pool_name}' containing volume "
                                        f"'{vol_name}' is not active",
                                        domain=ErrorDomain.DOMAIN)
            found = obj.volumes.get(vol_name)
            if found is None:
                raise no_vol(f"no storage vol with matching name '{vol_name}'")
            self._refresh_vol(obj, found)
            target = found.vol.target
            return str(found.vol.type), found.path, target.format if target else None


def _parse_clone(xml: str, flags: int) -> tuple[StorageVol, bool]:
    """A clone's document (VIR_VOL_XML_PARSE_NO_CAPACITY: its capacity may be left out, the
    source's then applies) and whether it names an allocation."""
    _refuse_validate(flags)
    root = xmltree.parse(xml, "(storage_volume_definition)")
    if root.tag == "volume" and root.find("capacity") is None:
        etree.SubElement(root, "capacity").text = "0"
        xml = etree.tostring(root, encoding="unicode")
    return StorageVol.from_xml(xml), root.find("allocation") is not None


def _refuse_validate(flags: int) -> None:
    """libvirt 9.0 hands VIR_STORAGE_VOL_CREATE_VALIDATE on as a parse flag its volume
    parser does not take, so every validated volume creation fails; virsh's --validate shows
    this error, and so does qvirt."""
    if flags & C.VIR_STORAGE_VOL_CREATE_VALIDATE:
        unsupported_flags(C.VIR_STORAGE_VOL_CREATE_VALIDATE, 0, "virStorageVolDefParseXML")


def _build_flags(create_flags: int) -> int:
    """VIR_STORAGE_POOL_CREATE_WITH_BUILD* as the build's flags: overwrite wins over its
    opposite, as storagePoolCreate reads them."""
    if create_flags & C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE:
        return C.VIR_STORAGE_POOL_BUILD_OVERWRITE
    if create_flags & C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE:
        return C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE
    return 0
