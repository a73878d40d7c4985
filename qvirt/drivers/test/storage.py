"""The test driver's storage (test_driver.c's testStoragePool*/testStorageVol*): pools and
volumes are records in memory, every pool holds 100 GiB, and a volume only moves the pool's
allocation. Nothing touches a disk, so wipe, resize, upload, download and target-path look-up
are not offered, as libvirt's test driver does not offer them.

Pools live with the node (shared by every test:///default connection); each connection keeps
its own event callbacks, dropped when it closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from lxml import etree

from qvirt import constants as C
from qvirt.conf import storage_pool, storage_vol
from qvirt.conf.storage_pool import StoragePool
from qvirt.conf.storage_vol import StorageVol
from qvirt.drivers.base import (
    PoolEventCallback,
    StoragePoolInfo,
    StoragePoolRef,
    StorageVolInfo,
    StorageVolRef,
)
from qvirt.drivers.storage.pool_match import TYPE_FLAGS
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InternalError,
    InvalidArg,
    NoSupport,
    OperationFailed,
    OperationInvalid,
    QvirtError,
)

# defaultPoolCap and defaultPoolAlloc: every test pool holds 100 GiB, none of it used.
POOL_CAPACITY = 100 * 1024**3
POOL_ALLOCATION = 0

# testConnectFindStoragePoolSources' fixed answers.
LOGICAL_SOURCES = """\
<sources>
  <source>
    <device path='/dev/sda20'/>
    <name>testvg1</name>
    <format type='lvm2'/>
  </source>
  <source>
    <device path='/dev/sda21'/>
    <name>testvg2</name>
    <format type='lvm2'/>
  </source>
</sources>
"""
NETFS_SOURCES = """\
<sources>
  <source>
    <host name='{host}'/>
    <dir path='/testshare'/>
    <format type='nfs'/>
  </source>
</sources>
"""

# virCheckFlags of each entry point: (libvirt's function name, flags it accepts).
FLAGS: dict[str, tuple[str, int]] = {
    "list_pools": ("testConnectListAllStoragePools", 0xFFFFF),
    "find_sources": ("testConnectFindStoragePoolSources", 0),
    "pool_create_xml": ("testStoragePoolCreateXML", 0),
    "pool_define_xml": ("testStoragePoolDefineXML", C.VIR_STORAGE_POOL_DEFINE_VALIDATE),
    "pool_build": ("testStoragePoolBuild", 0),
    "pool_create": ("testStoragePoolCreate", 0),
    "pool_delete": ("testStoragePoolDelete", 0),
    "pool_refresh": ("testStoragePoolRefresh", 0),
    "pool_xml": ("testStoragePoolGetXMLDesc", 0),
    "list_volumes": ("testStoragePoolListAllVolumes", 0),
    "vol_create_xml": ("testStorageVolCreateXML", 0),
    "vol_create_xml_from": ("testStorageVolCreateXMLFrom", 0),
    "vol_delete": ("testStorageVolDelete", 0),
    "vol_xml": ("testStorageVolGetXMLDesc", 0),
}

# testStorageVolumeTypeForPool.
VOLUME_TYPES: dict[str, int] = {
    **dict.fromkeys(("dir", "fs", "netfs", "vstorage"), C.VIR_STORAGE_VOL_FILE),
    **dict.fromkeys(("sheepdog", "iscsi-direct", "gluster", "rbd"), C.VIR_STORAGE_VOL_NETWORK),
    **dict.fromkeys(("logical", "disk", "mpath", "iscsi", "scsi", "zfs"),
                    C.VIR_STORAGE_VOL_BLOCK),
}



def _check_flags(what: str, flags: int) -> None:
    function, allowed = FLAGS[what]
    unknown = flags & ~allowed
    if unknown:
        message = f"unsupported flags (0x{unknown:x}) in function {function}"
        err = InvalidArg(message, domain=ErrorDomain.TEST, str1=function, str2="flags", int1=0,
                         int2=0)
        err.message = message
        err.args = (message,)
        raise err


@dataclass
class Pool:
    """virStoragePoolObj as the test driver uses it: a transient pool has no config file."""

    definition: StoragePool
    persistent: bool
    active: bool = False
    autostart: bool = False
    volumes: list[StorageVol] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.definition.name)

    @property
    def uuid(self) -> str:
        return str(self.definition.uuid)

    def ref(self) -> StoragePoolRef:
        return StoragePoolRef(self.name, self.uuid)

    def volume(self, name: str) -> StorageVol | None:
        return next((v for v in self.volumes if v.name == name), None)

    def add_volume(self, vol: StorageVol) -> None:
        self.volumes.append(vol)
        self.definition.allocation += int(vol.allocation)
        self.definition.available = self.definition.capacity - self.definition.allocation


def _parse_pool(xml: str, validate: bool = False) -> StoragePool:
    """virStoragePoolDefParseString, then testStoragePoolObjSetDefaults' sizes."""
    definition = StoragePool.from_xml(xml, validate=validate)
    storage_pool.apply_defaults(definition)
    definition.capacity = POOL_CAPACITY
    definition.allocation = POOL_ALLOCATION
    definition.available = POOL_CAPACITY - POOL_ALLOCATION
    return definition


def _parse_volume(pool: Pool, xml: str) -> StorageVol:
    """virStorageVolDefParseString with the pool in hand; every error of it comes from
    libvirt's storage configuration code, so from the storage domain."""
    vol = StorageVol.from_xml(xml)
    try:
        storage_vol.apply_defaults(vol, str(pool.definition.type))
    except QvirtError as err:
        err.domain = ErrorDomain.STORAGE
        raise
    return vol


@dataclass
class StorageState:
    """The node's pools and everyone's pool event callbacks."""

    pools: list[Pool] = field(default_factory=list)
    callbacks: dict[int, tuple[str | None, int, PoolEventCallback]] = field(
        default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def node_storage(documents: list[str]) -> StorageState:
    """testParseStorage and testOpenVolumesForPool: each pool starts active and persistent,
    with its <volume> children in it (path and key under the pool's target by default)."""
    state = StorageState()
    for xml in documents:
        root = etree.fromstring(xml.encode())
        volumes = root.findall("volume")
        for element in volumes:
            root.remove(element)
        pool = Pool(_parse_pool(etree.tostring(root, encoding="unicode")), persistent=True,
                    active=True)
        for element in volumes:
            vol = _parse_volume(pool, etree.tostring(element, encoding="unicode"))
            assert pool.definition.target is not None
            if vol.target.path is None:
                vol.target.path = f"{pool.definition.target.path}/{vol.name}"
            if vol.key is None:
                vol.key = vol.target.path
            pool.add_volume(vol)
        state.pools.append(pool)
    return state


def _no_pool(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_STORAGE_POOL, domain=ErrorDomain.TEST)


def _no_vol(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_STORAGE_VOL, domain=ErrorDomain.TEST)


def _unsupported(api: str) -> QvirtError:
    return NoSupport(api, domain=ErrorDomain.STORAGE)


class TestStorage:
    """One connection's view of the node's storage (StorageDriver)."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, state: StorageState, callback_id: Callable[[], int]) -> None:
        self._state = state
        # Event callback ids come from the node's one counter, domain events' too.
        self._callback_id = callback_id
        self._mine: set[int] = set()

    def close(self) -> None:
        with self._state.lock:
            for cid in self._mine:
                self._state.callbacks.pop(cid, None)
        self._mine.clear()

    # Finding pools -----------------------------------------------------------------------------

    def _by_name(self, name: str) -> Pool:
        with self._state.lock:
            for pool in self._state.pools:
                if pool.name == name:
                    return pool
        raise _no_pool(f"no storage pool with matching name '{name}'")

    def _by_uuid(self, uuid: str) -> Pool:
        with self._state.lock:
            for pool in self._state.pools:
                if pool.uuid == uuid:
                    return pool
        raise _no_pool(f"no storage pool with matching uuid '{uuid}'")

    def _active(self, name: str) -> Pool:
        pool = self._by_name(name)
        if not pool.active:
            raise OperationInvalid(f"storage pool '{name}' is not active",
                                   domain=ErrorDomain.TEST)
        return pool

    def _inactive(self, name: str) -> Pool:
        pool = self._by_name(name)
        if pool.active:
            raise OperationInvalid(f"storage pool '{name}' is active", domain=ErrorDomain.TEST)
        return pool

    def _volume(self, vol: StorageVolRef) -> tuple[Pool, StorageVol]:
        pool = self._active(vol.pool)
        found = pool.volume(vol.name)
        if found is None:
            raise _no_vol(f"no storage vol with matching name '{vol.name}'")
        return pool, found

    # Connection-wide -------------------------------------------------------------------------

    def connect_list_all_storage_pools(self, flags: int = 0) -> list[StoragePoolRef]:
        _check_flags("list_pools", flags)
        with self._state.lock:
            return [p.ref() for p in self._state.pools if _matches(p, flags)]

    def connect_get_storage_pool_capabilities(self, flags: int = 0) -> NoReturn:
        raise _unsupported("virConnectGetStoragePoolCapabilities")

    def connect_find_storage_pool_sources(self, type: str, src_spec: str | None,
                                          flags: int = 0) -> str:
        """testConnectFindStoragePoolSources. libvirt tests the type's number for zero, so
        "dir" (number 0) is the one type it calls unknown; a misspelt one (-1) passes that
        test and is refused as any type without discovery."""
        _check_flags("find_sources", flags)
        if type == "dir":
            raise InternalError(f"unknown storage pool type {type}", domain=ErrorDomain.TEST)
        host = None
        if src_spec:
            host = _source_host(src_spec, type)
        if type == "logical":
            return LOGICAL_SOURCES
        if type == "netfs":
            if host is None:
                raise InvalidArg("hostname must be specified for netfs sources",
                                 domain=ErrorDomain.TEST)
            return NETFS_SOURCES.format(host=host)
        raise NoSupport(f"pool type '{type}' does not support source discovery",
                        domain=ErrorDomain.TEST)

    # Pools -------------------------------------------------------------------------------------

    def storage_pool_lookup_by_name(self, name: str) -> StoragePoolRef:
        return self._by_name(name).ref()

    def storage_pool_lookup_by_uuid(self, uuid: str) -> StoragePoolRef:
        return self._by_uuid(uuid).ref()

    def storage_pool_lookup_by_volume(self, vol: StorageVolRef) -> StoragePoolRef:
        return self._by_name(vol.pool).ref()

    def storage_pool_lookup_by_target_path(self, path: str) -> NoReturn:
        raise _unsupported("virStoragePoolLookupByTargetPath")

    def storage_pool_create_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        _check_flags("pool_create_xml", flags)
        definition = _parse_pool(xml)
        with self._state.lock:
            pool = self._add(definition, check_live=True)
            pool.persistent = False
            pool.active = True
            ref = pool.ref()
        self._emit(ref, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STARTED)
        return ref

    def storage_pool_define_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        _check_flags("pool_define_xml", flags)
        definition = _parse_pool(xml, bool(flags & C.VIR_STORAGE_POOL_DEFINE_VALIDATE))
        with self._state.lock:
            pool = self._add(definition, check_live=False)
            pool.persistent = True
            ref = pool.ref()
        self._emit(ref, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_DEFINED)
        return ref

    def _add(self, definition: StoragePool, check_live: bool) -> Pool:
        """virStoragePoolObjListAdd: no two pools on one source, a name and a UUID name one
        pool; an inactive pool takes the new definition (an active one keeps its own)."""
        for pool in self._state.pools:
            if pool.name != definition.name and _same_source(pool.definition, definition):
                raise OperationFailed(f"Storage source conflict with pool: '{pool.name}'",
                                      domain=ErrorDomain.STORAGE)
        for pool in self._state.pools:
            if pool.uuid == definition.uuid:
                if pool.name != definition.name:
                    raise OperationFailed(f"pool '{pool.name}' is already defined with uuid "
                                          f"{pool.uuid}", domain=ErrorDomain.STORAGE)
                if check_live and pool.active:
                    raise OperationInvalid(f"pool is already active as '{pool.name}'",
                                           domain=ErrorDomain.STORAGE)
                if not pool.active:
                    pool.definition = definition
                return pool
        for pool in self._state.pools:
            if pool.name == definition.name:
                raise OperationFailed(f"pool '{pool.name}' already exists with uuid "
                                      f"{pool.uuid}", domain=ErrorDomain.STORAGE)
        pool = Pool(definition, persistent=True)
        self._state.pools.append(pool)
        return pool

    def storage_pool_build(self, pool: StoragePoolRef, flags: int = 0) -> None:
        _check_flags("pool_build", flags)
        self._inactive(pool.name)
        self._emit(pool, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_CREATED)

    def storage_pool_undefine(self, pool: StoragePoolRef) -> None:
        with self._state.lock:
            obj = self._inactive(pool.name)
            self._state.pools.remove(obj)
        self._emit(pool, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                   C.VIR_STORAGE_POOL_EVENT_UNDEFINED)

    def storage_pool_create(self, pool: StoragePoolRef, flags: int = 0) -> None:
        _check_flags("pool_create", flags)
        with self._state.lock:
            self._inactive(pool.name).active = True
        self._emit(pool, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STARTED)

    def storage_pool_destroy(self, pool: StoragePoolRef) -> None:
        with self._state.lock:
            obj = self._active(pool.name)
            obj.active = False
            ref = obj.ref()
            if not obj.persistent:
                self._state.pools.remove(obj)
        self._emit(ref, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_STOPPED)

    def storage_pool_delete(self, pool: StoragePoolRef, flags: int = 0) -> None:
        _check_flags("pool_delete", flags)
        self._inactive(pool.name)
        self._emit(pool, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_DELETED)

    def storage_pool_refresh(self, pool: StoragePoolRef, flags: int = 0) -> None:
        _check_flags("pool_refresh", flags)
        self._active(pool.name)
        self._emit(pool, C.VIR_STORAGE_POOL_EVENT_ID_REFRESH, 0)

    def storage_pool_get_info(self, pool: StoragePoolRef) -> StoragePoolInfo:
        obj = self._by_name(pool.name)
        d = obj.definition
        state = C.VIR_STORAGE_POOL_RUNNING if obj.active else C.VIR_STORAGE_POOL_INACTIVE
        return StoragePoolInfo(state, int(d.capacity), int(d.allocation), int(d.available))

    def storage_pool_get_xml_desc(self, pool: StoragePoolRef, flags: int = 0) -> str:
        _check_flags("pool_xml", flags)
        return str(self._by_name(pool.name).definition.to_xml())

    def storage_pool_get_autostart(self, pool: StoragePoolRef) -> bool:
        obj = self._by_name(pool.name)
        return obj.persistent and obj.autostart

    def storage_pool_set_autostart(self, pool: StoragePoolRef, autostart: bool) -> None:
        obj = self._by_name(pool.name)
        if not obj.persistent:
            raise InvalidArg("pool has no config file", domain=ErrorDomain.TEST)
        obj.autostart = autostart

    def storage_pool_is_active(self, pool: StoragePoolRef) -> bool:
        return self._by_uuid(pool.uuid).active

    def storage_pool_is_persistent(self, pool: StoragePoolRef) -> bool:
        return self._by_uuid(pool.uuid).persistent

    def storage_pool_list_all_volumes(self, pool: StoragePoolRef,
                                      flags: int = 0) -> list[StorageVolRef]:
        _check_flags("list_volumes", flags)
        obj = self._by_uuid(pool.uuid)
        if not obj.active:
            raise OperationInvalid("storage pool is not active", domain=ErrorDomain.TEST)
        return [StorageVolRef(obj.name, str(v.name), str(v.key)) for v in obj.volumes]

    # Volumes -----------------------------------------------------------------------------------

    def storage_vol_lookup_by_name(self, pool: StoragePoolRef, name: str) -> StorageVolRef:
        obj = self._active(pool.name)
        vol = obj.volume(name)
        if vol is None:
            raise _no_vol(f"no storage vol with matching name '{name}'")
        return StorageVolRef(obj.name, name, str(vol.key))

    def _search(self, match: Callable[[StorageVol], bool], what: str) -> StorageVolRef:
        """virStoragePoolObjListSearch over the active pools."""
        with self._state.lock:
            for pool in self._state.pools:
                if not pool.active:
                    continue
                for vol in pool.volumes:
                    if match(vol):
                        return StorageVolRef(pool.name, str(vol.name), str(vol.key))
        raise _no_vol(f"no storage vol with matching {what}")

    def storage_vol_lookup_by_key(self, key: str) -> StorageVolRef:
        return self._search(lambda v: v.key == key, f"key '{key}'")

    def storage_vol_lookup_by_path(self, path: str) -> StorageVolRef:
        return self._search(lambda v: v.target.path == path, f"path '{path}'")

    def storage_vol_create_xml(self, pool: StoragePoolRef, xml: str,
                               flags: int = 0) -> StorageVolRef:
        _check_flags("vol_create_xml", flags)
        return self._create_volume(pool, xml, None)

    def storage_vol_create_xml_from(self, pool: StoragePoolRef, xml: str,
                                    clone: StorageVolRef, flags: int = 0) -> StorageVolRef:
        """testStorageVolCreateXMLFrom: the source volume is looked for in the new volume's
        pool, whichever pool it is in; nothing of it is copied."""
        _check_flags("vol_create_xml_from", flags)
        return self._create_volume(pool, xml, clone.name)

    def _create_volume(self, pool: StoragePoolRef, xml: str,
                       clone: str | None) -> StorageVolRef:
        with self._state.lock:
            obj = self._active(pool.name)
            vol = _parse_volume(obj, xml)
            if obj.volume(str(vol.name)) is not None:
                raise OperationFailed("storage vol already exists", domain=ErrorDomain.TEST)
            if clone is not None and obj.volume(clone) is None:
                raise _no_vol(f"no storage vol with matching name '{clone}'")
            d = obj.definition
            if d.allocation + vol.allocation > d.capacity:
                raise InternalError(f"Not enough free space in pool for volume '{vol.name}'",
                                    domain=ErrorDomain.TEST)
            assert d.target is not None
            vol.target.path = f"{d.target.path}/{vol.name}"
            vol.key = vol.target.path
            obj.add_volume(vol)
            return StorageVolRef(obj.name, str(vol.name), str(vol.key))

    def storage_vol_delete(self, vol: StorageVolRef, flags: int = 0) -> None:
        _check_flags("vol_delete", flags)
        with self._state.lock:
            pool, found = self._volume(vol)
            d = pool.definition
            d.allocation -= int(found.allocation)
            d.available = d.capacity - d.allocation
            pool.volumes.remove(found)

    def storage_vol_wipe(self, vol: StorageVolRef, flags: int = 0) -> NoReturn:
        raise _unsupported("virStorageVolWipe")

    def storage_vol_wipe_pattern(self, vol: StorageVolRef, algorithm: int,
                                 flags: int = 0) -> NoReturn:
        raise _unsupported("virStorageVolWipePattern")

    def storage_vol_get_info_flags(self, vol: StorageVolRef,
                                   flags: int = 0) -> StorageVolInfo:
        """testStorageVolGetInfo. libvirt's test driver has no GetInfoFlags, and only that
        entry point passes flags, so flags are refused as that entry point is."""
        if flags:
            raise _unsupported("virStorageVolGetInfoFlags")
        pool, found = self._volume(vol)
        return StorageVolInfo(VOLUME_TYPES[str(pool.definition.type)], int(found.capacity),
                              int(found.allocation))

    def storage_vol_get_xml_desc(self, vol: StorageVolRef, flags: int = 0) -> str:
        _check_flags("vol_xml", flags)
        return str(self._volume(vol)[1].to_xml())

    def storage_vol_get_path(self, vol: StorageVolRef) -> str:
        return str(self._volume(vol)[1].target.path)

    def storage_vol_resize(self, vol: StorageVolRef, capacity: int, flags: int = 0) -> NoReturn:
        raise _unsupported("virStorageVolResize")

    def storage_vol_upload(self, vol: StorageVolRef, offset: int, length: int,
                           flags: int = 0) -> NoReturn:
        raise _unsupported("virStorageVolUpload")

    def storage_vol_download(self, vol: StorageVolRef, offset: int, length: int,
                             flags: int = 0) -> NoReturn:
        raise _unsupported("virStorageVolDownload")

    # Events ------------------------------------------------------------------------------------

    def connect_storage_pool_event_register_any(self, pool: StoragePoolRef | None,
                                                event_id: int,
                                                callback: PoolEventCallback) -> int:
        if event_id not in (C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                            C.VIR_STORAGE_POOL_EVENT_ID_REFRESH):
            raise InvalidArg(f"unsupported storage pool event ID {event_id}",
                             domain=ErrorDomain.STORAGE)
        key = (pool.uuid if pool else None, event_id)
        with self._state.lock:
            # libvirt-python hands libvirt one C callback per event id, so a connection's
            # second registration for the same event and pool is a duplicate to libvirt.
            if any(self._state.callbacks[cid][:2] == key for cid in self._mine):
                raise InvalidArg("event callback already tracked", domain=ErrorDomain.NONE)
            cid = self._callback_id()
            self._state.callbacks[cid] = (*key, callback)
            self._mine.add(cid)
            return cid

    def connect_storage_pool_event_deregister_any(self, callback_id: int) -> None:
        with self._state.lock:
            if callback_id not in self._mine:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.NONE)
            self._mine.discard(callback_id)
            self._state.callbacks.pop(callback_id, None)

    def _emit(self, ref: StoragePoolRef, event_id: int, event: int) -> None:
        with self._state.lock:
            wanted = [cb for uuid, eid, cb in self._state.callbacks.values()
                      if eid == event_id and uuid in (None, ref.uuid)]
        for callback in wanted:
            callback(ref, event_id, event, 0)


def _source_host(spec: str, type: str) -> str | None:
    """virStoragePoolDefParseSourceString, as far as the test driver reads it: the first
    host's name."""
    try:
        root = etree.fromstring(spec.encode())
    except etree.XMLSyntaxError as err:
        raise QvirtError(str(err), code=ErrorNumber.XML_ERROR,
                         domain=ErrorDomain.STORAGE) from None
    source = root if root.tag == "source" else root.find("source")
    if source is None:
        return None
    return str(source.xpath("string(host[1]/@name)")) or None


def _same_source(a: StoragePool, b: StoragePool) -> bool:
    """virStoragePoolObjSourceFindDuplicate, for what the test driver's pools can share: a
    directory, a device, or a host's export."""
    if a.type != b.type:
        return False
    sa, sb = a.source, b.source
    assert sa is not None and sb is not None
    if a.type == "dir":
        return bool(a.target and b.target and a.target.path == b.target.path)
    if a.type == "netfs":
        return bool(sa.hosts and sb.hosts and sa.hosts[0].name == sb.hosts[0].name
                    and sa.dir == sb.dir)
    devices = {d.path for d in sa.devices}
    return any(d.path in devices for d in sb.devices)


def _of_type(type: str) -> Callable[[Pool], bool]:
    return lambda pool: pool.definition.type == type


# Listing filters: a pool passes a group when the group is not asked for or one of its
# asked-for flags matches (virStoragePoolMatch).
_FILTERS: tuple[tuple[tuple[int, Callable[[Pool], bool]], ...], ...] = (
    ((C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE, lambda p: p.active),
     (C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE, lambda p: not p.active)),
    ((C.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT, lambda p: p.persistent),
     (C.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT, lambda p: not p.persistent)),
    ((C.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART, lambda p: p.autostart),
     (C.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART, lambda p: not p.autostart)),
    tuple((flag, _of_type(t)) for t, flag in TYPE_FLAGS.items()),
)


def _matches(pool: Pool, flags: int) -> bool:
    for group in _FILTERS:
        asked = [test for flag, test in group if flags & flag]
        if asked and not any(test(pool) for test in asked):
            return False
    return True
