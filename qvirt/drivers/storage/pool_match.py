"""Which pools a listing returns (virStoragePoolMatch) and which two pools would share their
storage (virStoragePoolObjSourceFindDuplicate)."""

from __future__ import annotations

from qvirt import constants as C
from qvirt.conf.storage_pool import StoragePool
from qvirt.drivers.storage.pool_obj import PoolObj

# pool type -> its VIR_CONNECT_LIST_STORAGE_POOLS_* bit
TYPE_FLAGS: dict[str, int] = {
    "dir": C.VIR_CONNECT_LIST_STORAGE_POOLS_DIR,
    "fs": C.VIR_CONNECT_LIST_STORAGE_POOLS_FS,
    "netfs": C.VIR_CONNECT_LIST_STORAGE_POOLS_NETFS,
    "logical": C.VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL,
    "disk": C.VIR_CONNECT_LIST_STORAGE_POOLS_DISK,
    "iscsi": C.VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI,
    "scsi": C.VIR_CONNECT_LIST_STORAGE_POOLS_SCSI,
    "mpath": C.VIR_CONNECT_LIST_STORAGE_POOLS_MPATH,
    "rbd": C.VIR_CONNECT_LIST_STORAGE_POOLS_RBD,
    "sheepdog": C.VIR_CONNECT_LIST_STORAGE_POOLS_SHEEPDOG,
    "gluster": C.VIR_CONNECT_LIST_STORAGE_POOLS_GLUSTER,
    "zfs": C.VIR_CONNECT_LIST_STORAGE_POOLS_ZFS,
    "vstorage": C.VIR_CONNECT_LIST_STORAGE_POOLS_VSTORAGE,
    "iscsi-direct": C.VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI_DIRECT,
}
# (flag, its opposite, the PoolObj attribute they test): virStoragePoolMatch's pairs
_STATE_FILTERS = (
    (C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE, C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE,
     "active"),
    (C.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT, C.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT,
     "persistent"),
    (C.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART, C.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART,
     "autostart"),
)


def matches(obj: PoolObj, flags: int) -> bool:
    for wanted, opposite, attribute in _STATE_FILTERS:
        value = bool(getattr(obj, attribute))
        if flags & (wanted | opposite) and not (
                (flags & wanted and value) or (flags & opposite and not value)):
            return False
    type_flags = flags & sum(TYPE_FLAGS.values())
    return not type_flags or bool(type_flags & TYPE_FLAGS.get(obj.type, 0))


def same_source(a: StoragePool, b: StoragePool) -> bool:
    """virStoragePoolObjSourceFindDuplicateCb, for the types qvirt serves: one directory,
    one device, or one export of one host."""
    if a.type != b.type:
        return False
    if a.type == "dir":
        return a.target is not None and b.target is not None and a.target.path == b.target.path
    sa, sb = a.source, b.source
    if sa is None or sb is None:
        return False
    if a.type in ("netfs", "gluster"):
        hosts_a = {h.name for h in sa.hosts}
        return sa.dir == sb.dir and bool(hosts_a & {h.name for h in sb.hosts})
    devices_a = {d.path for d in sa.devices}
    if devices_a and devices_a & {d.path for d in sb.devices}:
        return True
    return bool(sa.name) and sa.name == sb.name and a.type in ("logical", "zfs")
