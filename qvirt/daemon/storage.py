"""The storage procedures' handlers: thin adapters from remote_protocol.x's shapes to the
public API's call path on the session driver (whose ``storage`` part answers them), as the
domain handlers in dispatch.py are. libvirtd's generated dispatchers (remote_dispatch.h) are
the model, including the legacy name lists, which libvirtd serves from the same driver."""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt import constants as C
from qvirt.daemon.adapters import Adapters
from qvirt.daemon.wire import pool_ref, pool_wire, vol_ref, vol_wire
from qvirt.drivers.base import StoragePoolRef, StorageVolRef
from qvirt.rpc.errors import RPCError
from qvirt.rpc.remote import REMOTE_STORAGE_POOL_LIST_MAX, REMOTE_STORAGE_VOL_LIST_MAX

if TYPE_CHECKING:
    from qvirt.daemon.dispatch import Handler, Session


# Argument converters by field name: the wire shape -> what the driver takes.
_ADAPT = Adapters({
    "pool": pool_ref, "vol": vol_ref, "clonevol": vol_ref, "autostart": bool,
})
_void, _value = _ADAPT.void, _ADAPT.value


def _pool(api: str, *names: str) -> Handler:
    """A procedure replying remote_nonnull_storage_pool ``pool``."""
    return _value(api, "pool", *names, convert=pool_wire)


def _vol(api: str, *names: str) -> Handler:
    return _value(api, "vol", *names, convert=vol_wire)


def _pool_by_uuid(s: Session, args: Any) -> dict[str, Any]:
    return {"pool": pool_wire(s.api("virStoragePoolLookupByUUID",
                                    str(uuidlib.UUID(bytes=args["uuid"]))))}


def _list_all_pools(s: Session, args: Any) -> dict[str, Any]:
    refs: list[StoragePoolRef] = s.api("virConnectListAllStoragePools", args["flags"])
    pools = [pool_wire(r) for r in refs] if args["need_results"] else []
    return {"pools": pools, "ret": len(refs)}


def _list_all_volumes(s: Session, args: Any) -> dict[str, Any]:
    refs: list[StorageVolRef] = s.api("virStoragePoolListAllVolumes", pool_ref(args["pool"]),
                                      args["flags"])
    vols = [vol_wire(r) for r in refs] if args["need_results"] else []
    return {"vols": vols, "ret": len(refs)}


def _check_max(value: int, maximum: int, what: str) -> None:
    """remoteDispatch*'s bound on a caller's buffer size, with its text."""
    if value > maximum:
        raise RPCError(f"maxnames > {what}")


def _pool_names(flags: int) -> Handler:
    """CONNECT_LIST_(DEFINED_)STORAGE_POOLS: names of the active (inactive) pools."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        _check_max(args["maxnames"], REMOTE_STORAGE_POOL_LIST_MAX,
                   "REMOTE_STORAGE_POOL_LIST_MAX")
        refs = s.api("virConnectListAllStoragePools", flags)
        return {"names": [r.name for r in refs][:args["maxnames"]]}
    return handler


def _pool_count(flags: int) -> Handler:
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {"num": len(s.api("virConnectListAllStoragePools", flags))}
    return handler


def _volume_names(s: Session, args: Any) -> dict[str, Any]:
    _check_max(args["maxnames"], REMOTE_STORAGE_VOL_LIST_MAX, "REMOTE_STORAGE_VOL_LIST_MAX")
    refs = s.api("virStoragePoolListAllVolumes", pool_ref(args["pool"]), 0)
    return {"names": [r.name for r in refs][:args["maxnames"]]}


def _volume_count(s: Session, args: Any) -> dict[str, Any]:
    return {"num": len(s.api("virStoragePoolListAllVolumes", pool_ref(args["pool"]), 0))}


def _pool_info(s: Session, args: Any) -> dict[str, Any]:
    i = s.api("virStoragePoolGetInfo", pool_ref(args["pool"]))
    return {"state": i.state, "capacity": i.capacity, "allocation": i.allocation,
            "available": i.available}


def _vol_info(flags: bool) -> Handler:
    """STORAGE_VOL_GET_INFO(_FLAGS): the type travels as a C char."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        i = s.api("virStorageVolGetInfoFlags", vol_ref(args["vol"]),
                  args["flags"] if flags else 0)
        return {"type": i.type, "capacity": i.capacity, "allocation": i.allocation}
    return handler


def _stream(api: str) -> Handler:
    """STORAGE_VOL_UPLOAD and _DOWNLOAD open a stream: the volume's device, a void reply."""
    def handler(s: Session, args: Any) -> Any:
        return s.api(api, vol_ref(args["vol"]), args["offset"], args["length"],
                     args["flags"]), None
    return handler


def _event_register(s: Session, args: Any) -> dict[str, Any]:
    pool = pool_ref(args["pool"]) if args["pool"] is not None else None
    return {"callbackID": s.pool_events.register(args["eventID"], pool)}


_ACTIVE = C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE
_INACTIVE = C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE

HANDLERS: dict[str, Handler] = {
    "CONNECT_LIST_ALL_STORAGE_POOLS": _list_all_pools,
    "CONNECT_NUM_OF_STORAGE_POOLS": _pool_count(_ACTIVE),
    "CONNECT_LIST_STORAGE_POOLS": _pool_names(_ACTIVE),
    "CONNECT_NUM_OF_DEFINED_STORAGE_POOLS": _pool_count(_INACTIVE),
    "CONNECT_LIST_DEFINED_STORAGE_POOLS": _pool_names(_INACTIVE),
    "CONNECT_GET_STORAGE_POOL_CAPABILITIES": _value(
        "virConnectGetStoragePoolCapabilities", "capabilities", "flags", convert=str),
    "CONNECT_FIND_STORAGE_POOL_SOURCES": _value(
        "virConnectFindStoragePoolSources", "xml", "type", "srcSpec", "flags", convert=str),
    "STORAGE_POOL_LOOKUP_BY_NAME": _pool("virStoragePoolLookupByName", "name"),
    "STORAGE_POOL_LOOKUP_BY_UUID": _pool_by_uuid,
    "STORAGE_POOL_LOOKUP_BY_VOLUME": _pool("virStoragePoolLookupByVolume", "vol"),
    "STORAGE_POOL_LOOKUP_BY_TARGET_PATH": _pool("virStoragePoolLookupByTargetPath", "path"),
    "STORAGE_POOL_CREATE_XML": _pool("virStoragePoolCreateXML", "xml", "flags"),
    "STORAGE_POOL_DEFINE_XML": _pool("virStoragePoolDefineXML", "xml", "flags"),
    "STORAGE_POOL_BUILD": _void("virStoragePoolBuild", "pool", "flags"),
    "STORAGE_POOL_UNDEFINE": _void("virStoragePoolUndefine", "pool"),
    "STORAGE_POOL_CREATE": _void("virStoragePoolCreate", "pool", "flags"),
    "STORAGE_POOL_DESTROY": _void("virStoragePoolDestroy", "pool"),
    "STORAGE_POOL_DELETE": _void("virStoragePoolDelete", "pool", "flags"),
    "STORAGE_POOL_REFRESH": _void("virStoragePoolRefresh", "pool", "flags"),
    "STORAGE_POOL_GET_INFO": _pool_info,
    "STORAGE_POOL_GET_XML_DESC": _value("virStoragePoolGetXMLDesc", "xml", "pool", "flags",
                                        convert=str),
    "STORAGE_POOL_GET_AUTOSTART": _value("virStoragePoolGetAutostart", "autostart", "pool"),
    "STORAGE_POOL_SET_AUTOSTART": _void("virStoragePoolSetAutostart", "pool", "autostart"),
    "STORAGE_POOL_IS_ACTIVE": _value("virStoragePoolIsActive", "active", "pool"),
    "STORAGE_POOL_IS_PERSISTENT": _value("virStoragePoolIsPersistent", "persistent", "pool"),
    "STORAGE_POOL_LIST_ALL_VOLUMES": _list_all_volumes,
    "STORAGE_POOL_NUM_OF_VOLUMES": _volume_count,
    "STORAGE_POOL_LIST_VOLUMES": _volume_names,
    "STORAGE_VOL_LOOKUP_BY_NAME": _vol("virStorageVolLookupByName", "pool", "name"),
    "STORAGE_VOL_LOOKUP_BY_KEY": _vol("virStorageVolLookupByKey", "key"),
    "STORAGE_VOL_LOOKUP_BY_PATH": _vol("virStorageVolLookupByPath", "path"),
    "STORAGE_VOL_CREATE_XML": _vol("virStorageVolCreateXML", "pool", "xml", "flags"),
    "STORAGE_VOL_CREATE_XML_FROM": _vol("virStorageVolCreateXMLFrom", "pool", "xml",
                                        "clonevol", "flags"),
    "STORAGE_VOL_DELETE": _void("virStorageVolDelete", "vol", "flags"),
    "STORAGE_VOL_WIPE": _void("virStorageVolWipe", "vol", "flags"),
    "STORAGE_VOL_WIPE_PATTERN": _void("virStorageVolWipePattern", "vol", "algorithm", "flags"),
    "STORAGE_VOL_GET_INFO": _vol_info(flags=False),
    "STORAGE_VOL_GET_INFO_FLAGS": _vol_info(flags=True),
    "STORAGE_VOL_GET_XML_DESC": _value("virStorageVolGetXMLDesc", "xml", "vol", "flags",
                                       convert=str),
    "STORAGE_VOL_GET_PATH": _value("virStorageVolGetPath", "name", "vol", convert=str),
    "STORAGE_VOL_RESIZE": _void("virStorageVolResize", "vol", "capacity", "flags"),
    "STORAGE_VOL_UPLOAD": _stream("virStorageVolUpload"),
    "STORAGE_VOL_DOWNLOAD": _stream("virStorageVolDownload"),
    "CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY": _event_register,
    "CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY":
        lambda s, a: s.pool_events.deregister(a["callbackID"]),
}
