"""The remote driver's storage part (remote_driver.c's storage entry points): the
StorageDriver interface as REMOTE program calls, offered as ``RemoteDriver.storage``.

Pool event registrations are one server registration each (CONNECT_STORAGE_POOL_EVENT_
REGISTER_ANY hands back the server's callbackID, which every event names); the server filters
on the pool, as libvirtd's storage driver does.
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt import constants as C
from qvirt.client.remote.stream import RemoteStream
from qvirt.drivers.base import (
    PoolEventCallback,
    StoragePoolInfo,
    StoragePoolRef,
    StorageVolInfo,
    StorageVolRef,
)
from qvirt.errors import ErrorDomain, InvalidArg
from qvirt.rpc.remote import BY_NAME

if TYPE_CHECKING:
    from qvirt.client.remote.rpcclient import RPCClient


def _pool_wire(ref: StoragePoolRef) -> dict[str, Any]:
    return {"name": ref.name, "uuid": uuidlib.UUID(ref.uuid).bytes}


def _pool_ref(wire: dict[str, Any]) -> StoragePoolRef:
    return StoragePoolRef(wire["name"], str(uuidlib.UUID(bytes=wire["uuid"])))


def _vol_wire(ref: StorageVolRef) -> dict[str, Any]:
    return {"pool": ref.pool, "name": ref.name, "key": ref.key}


def _vol_ref(wire: dict[str, Any]) -> StorageVolRef:
    return StorageVolRef(wire["pool"], wire["name"], wire["key"])


class RemoteStorage:
    """The storage calls of one connection; thread-safe as its RPC client is."""

    def __init__(self, rpc: RPCClient) -> None:
        self._rpc = rpc
        self._events_lock = threading.Lock()
        self._callbacks: dict[int, PoolEventCallback] = {}   # the server's callbackID -> ours

    def _call(self, name: str, args: Any = None) -> Any:
        return self._rpc.call(BY_NAME[name], args)

    def _pool(self, procedure: str, pool: StoragePoolRef, **args: Any) -> Any:
        return self._call(procedure, {"pool": _pool_wire(pool), **args})

    def _vol(self, procedure: str, vol: StorageVolRef, **args: Any) -> Any:
        return self._call(procedure, {"vol": _vol_wire(vol), **args})

    # Pools ------------------------------------------------------------------------------

    def connect_list_all_storage_pools(self, flags: int = 0) -> list[StoragePoolRef]:
        ret = self._call("CONNECT_LIST_ALL_STORAGE_POOLS", {"need_results": 1, "flags": flags})
        return [_pool_ref(p) for p in ret["pools"]]

    def connect_get_storage_pool_capabilities(self, flags: int = 0) -> str:
        return str(self._call("CONNECT_GET_STORAGE_POOL_CAPABILITIES",
                              {"flags": flags})["capabilities"])

    def connect_find_storage_pool_sources(self, type: str, src_spec: str | None,
                                          flags: int = 0) -> str:
        return str(self._call("CONNECT_FIND_STORAGE_POOL_SOURCES",
                              {"type": type, "srcSpec": src_spec, "flags": flags})["xml"])

    def storage_pool_lookup_by_name(self, name: str) -> StoragePoolRef:
        return _pool_ref(self._call("STORAGE_POOL_LOOKUP_BY_NAME", {"name": name})["pool"])

    def storage_pool_lookup_by_uuid(self, uuid: str) -> StoragePoolRef:
        return _pool_ref(self._call("STORAGE_POOL_LOOKUP_BY_UUID",
                                    {"uuid": uuidlib.UUID(uuid).bytes})["pool"])

    def storage_pool_lookup_by_volume(self, vol: StorageVolRef) -> StoragePoolRef:
        return _pool_ref(self._vol("STORAGE_POOL_LOOKUP_BY_VOLUME", vol)["pool"])

    def storage_pool_lookup_by_target_path(self, path: str) -> StoragePoolRef:
        return _pool_ref(self._call("STORAGE_POOL_LOOKUP_BY_TARGET_PATH",
                                    {"path": path})["pool"])

    def storage_pool_create_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        return _pool_ref(self._call("STORAGE_POOL_CREATE_XML",
                                    {"xml": xml, "flags": flags})["pool"])

    def storage_pool_define_xml(self, xml: str, flags: int = 0) -> StoragePoolRef:
        return _pool_ref(self._call("STORAGE_POOL_DEFINE_XML",
                                    {"xml": xml, "flags": flags})["pool"])

    def storage_pool_build(self, pool: StoragePoolRef, flags: int = 0) -> None:
        self._pool("STORAGE_POOL_BUILD", pool, flags=flags)

    def storage_pool_undefine(self, pool: StoragePoolRef) -> None:
        self._pool("STORAGE_POOL_UNDEFINE", pool)

    def storage_pool_create(self, pool: StoragePoolRef, flags: int = 0) -> None:
        self._pool("STORAGE_POOL_CREATE", pool, flags=flags)

    def storage_pool_destroy(self, pool: StoragePoolRef) -> None:
        self._pool("STORAGE_POOL_DESTROY", pool)

    def storage_pool_delete(self, pool: StoragePoolRef, flags: int = 0) -> None:
        self._pool("STORAGE_POOL_DELETE", pool, flags=flags)

    def storage_pool_refresh(self, pool: StoragePoolRef, flags: int = 0) -> None:
        self._pool("STORAGE_POOL_REFRESH", pool, flags=flags)

    def storage_pool_get_info(self, pool: StoragePoolRef) -> StoragePoolInfo:
        i = self._pool("STORAGE_POOL_GET_INFO", pool)
        return StoragePoolInfo(i["state"], i["capacity"], i["allocation"], i["available"])

    def storage_pool_get_xml_desc(self, pool: StoragePoolRef, flags: int = 0) -> str:
        return str(self._pool("STORAGE_POOL_GET_XML_DESC", pool, flags=flags)["xml"])

    def storage_pool_get_autostart(self, pool: StoragePoolRef) -> bool:
        return bool(self._pool("STORAGE_POOL_GET_AUTOSTART", pool)["autostart"])

    def storage_pool_set_autostart(self, pool: StoragePoolRef, autostart: bool) -> None:
        self._pool("STORAGE_POOL_SET_AUTOSTART", pool, autostart=int(autostart))

    def storage_pool_is_active(self, pool: StoragePoolRef) -> bool:
        return bool(self._pool("STORAGE_POOL_IS_ACTIVE", pool)["active"])

    def storage_pool_is_persistent(self, pool: StoragePoolRef) -> bool:
        return bool(self._pool("STORAGE_POOL_IS_PERSISTENT", pool)["persistent"])

    def storage_pool_list_all_volumes(self, pool: StoragePoolRef,
                                      flags: int = 0) -> list[StorageVolRef]:
        ret = self._pool("STORAGE_POOL_LIST_ALL_VOLUMES", pool, need_results=1, flags=flags)
        return [_vol_ref(v) for v in ret["vols"]]

    # Volumes ----------------------------------------------------------------------------

    def storage_vol_lookup_by_name(self, pool: StoragePoolRef, name: str) -> StorageVolRef:
        return _vol_ref(self._pool("STORAGE_VOL_LOOKUP_BY_NAME", pool, name=name)["vol"])

    def storage_vol_lookup_by_key(self, key: str) -> StorageVolRef:
        return _vol_ref(self._call("STORAGE_VOL_LOOKUP_BY_KEY", {"key": key})["vol"])

    def storage_vol_lookup_by_path(self, path: str) -> StorageVolRef:
        return _vol_ref(self._call("STORAGE_VOL_LOOKUP_BY_PATH", {"path": path})["vol"])

    def storage_vol_create_xml(self, pool: StoragePoolRef, xml: str,
                               flags: int = 0) -> StorageVolRef:
        return _vol_ref(self._pool("STORAGE_VOL_CREATE_XML", pool, xml=xml, flags=flags)["vol"])

    def storage_vol_create_xml_from(self, pool: StoragePoolRef, xml: str,
                                    clone: StorageVolRef, flags: int = 0) -> StorageVolRef:
        return _vol_ref(self._pool("STORAGE_VOL_CREATE_XML_FROM", pool, xml=xml,
                                   clonevol=_vol_wire(clone), flags=flags)["vol"])

    def storage_vol_delete(self, vol: StorageVolRef, flags: int = 0) -> None:
        self._vol("STORAGE_VOL_DELETE", vol, flags=flags)

    def storage_vol_wipe(self, vol: StorageVolRef, flags: int = 0) -> None:
        self._vol("STORAGE_VOL_WIPE", vol, flags=flags)

    def storage_vol_wipe_pattern(self, vol: StorageVolRef, algorithm: int,
                                 flags: int = 0) -> None:
        self._vol("STORAGE_VOL_WIPE_PATTERN", vol, algorithm=algorithm, flags=flags)

    def storage_vol_get_info_flags(self, vol: StorageVolRef, flags: int = 0) -> StorageVolInfo:
        """remoteStorageVolGetInfo asks the old procedure when there are no flags, as a
        server older than GET_INFO_FLAGS knows only that."""
        if flags:
            i = self._vol("STORAGE_VOL_GET_INFO_FLAGS", vol, flags=flags)
        else:
            i = self._vol("STORAGE_VOL_GET_INFO", vol)
        return StorageVolInfo(i["type"], i["capacity"], i["allocation"])

    def storage_vol_get_xml_desc(self, vol: StorageVolRef, flags: int = 0) -> str:
        return str(self._vol("STORAGE_VOL_GET_XML_DESC", vol, flags=flags)["xml"])

    def storage_vol_get_path(self, vol: StorageVolRef) -> str:
        return str(self._vol("STORAGE_VOL_GET_PATH", vol)["name"])

    def storage_vol_resize(self, vol: StorageVolRef, capacity: int, flags: int = 0) -> None:
        self._vol("STORAGE_VOL_RESIZE", vol, capacity=capacity, flags=flags)

    def storage_vol_upload(self, vol: StorageVolRef, offset: int, length: int,
                           flags: int = 0) -> RemoteStream:
        return self._rpc.open_stream(BY_NAME["STORAGE_VOL_UPLOAD"], {
            "vol": _vol_wire(vol), "offset": offset, "length": length, "flags": flags},
            sparse=bool(flags & C.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM))[1]

    def storage_vol_download(self, vol: StorageVolRef, offset: int, length: int,
                             flags: int = 0) -> RemoteStream:
        return self._rpc.open_stream(BY_NAME["STORAGE_VOL_DOWNLOAD"], {
            "vol": _vol_wire(vol), "offset": offset, "length": length, "flags": flags},
            sparse=bool(flags & C.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM))[1]

    # Events -----------------------------------------------------------------------------

    def connect_storage_pool_event_register_any(self, pool: StoragePoolRef | None,
                                                event_id: int,
                                                callback: PoolEventCallback) -> int:
        # Under the lock: an event may arrive before its callback id is noted.
        with self._events_lock:
            ret = self._call("CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY", {
                "eventID": event_id, "pool": _pool_wire(pool) if pool is not None else None})
            callback_id = int(ret["callbackID"])
            self._callbacks[callback_id] = callback
        return callback_id

    def connect_storage_pool_event_deregister_any(self, callback_id: int) -> None:
        with self._events_lock:
            if callback_id not in self._callbacks:
                raise InvalidArg(f"event callback id {callback_id} not registered",
                                 domain=ErrorDomain.NONE)
            self._call("CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", {"callbackID": callback_id})
            del self._callbacks[callback_id]

    def on_event(self, name: str, msg: Any) -> None:
        """STORAGE_POOL_EVENT_LIFECYCLE or _REFRESH, on the RPC client's delivery thread."""
        with self._events_lock:
            callback = self._callbacks.get(msg["callbackID"])
        if callback is None:
            return
        pool = _pool_ref(msg["pool"])
        if name == "STORAGE_POOL_EVENT_LIFECYCLE":
            callback(pool, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, msg["event"], msg["detail"])
        else:
            callback(pool, C.VIR_STORAGE_POOL_EVENT_ID_REFRESH, 0, 0)
