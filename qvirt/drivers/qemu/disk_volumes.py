"""Disks of type='volume' (virStorageTranslateDiskSourcePool): at start the pool's volume is
looked up in the storage driver and the disk is opened as the file, block device or directory
the volume is, or, for an iscsi-direct pool (and an iscsi pool's volume in mode='direct'), as
the network disk QEMU's own iSCSI initiator reaches: <source protocol='iscsi'
name='TARGET/LUN'> on the pool's host with its initiator name. The live XML keeps naming the
pool and the volume, as libvirtd's does; only the command line and the chain detection see
the host path."""

from __future__ import annotations

from dataclasses import dataclass

from qvirt.conf.devices.disk import Disk
from qvirt.conf.devices.disk_source import DiskSource, Host
from qvirt.conf.domain import Domain
from qvirt.conf.storage_pool import StoragePool
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.errors import ConfigUnsupported, ErrorDomain, ErrorNumber, InternalError, QvirtError

# volume type -> the disk's storage type while QEMU opens it, and the source attribute it uses
_HOST_TYPES = {"file": ("file", "file"), "ploop": ("file", "file"), "block": ("block", "dev"),
               "dir": ("dir", "dir")}


@dataclass
class Translated:
    disk: Disk
    pool: str
    volume: str
    mode: str | None
    attribute: str | None      # None: a network disk (protocol, name, host, initiator)
    initiator: str | None = None


def translate_volumes(dom: Domain, storage: LocalStorageDriver) -> list[Translated]:
    """Turn every volume disk of ``dom`` into the host disk it stands for; undo with
    restore_volumes once the command line is made."""
    done: list[Translated] = []
    for disk in dom.devices.disks if dom.devices is not None else []:
        src = disk.source
        if disk.type != "volume" or src is None or src.pool is None or src.volume is None:
            continue
        found = storage.volume_source(src.pool, src.volume)
        pool_type = str(found.pool.type)
        if pool_type == "iscsi-direct" or (pool_type == "iscsi" and src.mode == "direct"):
            done.append(Translated(disk, src.pool, src.volume, src.mode, None,
                                   src.initiator_iqn))
            _iscsi_network(disk, src, found.pool)
            continue
        if found.type not in _HOST_TYPES:
            raise ConfigUnsupported(f"unexpected storage volume type '{found.type}' for "
                                    f"storage pool type '{pool_type}'",
                                    domain=ErrorDomain.DOMAIN)
        if src.startup_policy is not None and found.type != "file":
            raise ConfigUnsupported("'startupPolicy' is only valid for 'file' type volume",
                                    domain=ErrorDomain.DOMAIN)
        disk_type, attribute = _HOST_TYPES[found.type]
        # an iscsi pool's volume is opened on the host unless the disk says otherwise, and
        # the live XML says so
        mode = "host" if pool_type == "iscsi" and src.mode is None else src.mode
        done.append(Translated(disk, src.pool, src.volume, mode, attribute))
        disk.type = disk_type
        src.pool = src.volume = src.mode = None
        setattr(src, attribute, found.path)
    return done


def _iscsi_network(disk: Disk, src: DiskSource, pool: StoragePool) -> None:
    """virDomainDiskTranslateISCSIDirect: the pool's one host (port 3260 unless named), its
    target and the LUN the volume's name ends with, and the pool's initiator."""
    source = pool.source
    if source is None or len(source.hosts) != 1:
        raise QvirtError("Expected exactly 1 host for the storage pool",
                         code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.DOMAIN)
    tokens = str(src.volume).split(":")
    if len(tokens) != 4:
        raise InternalError(f"unexpected iscsi volume name '{src.volume}'",
                            domain=ErrorDomain.DOMAIN)
    host = Host()
    host.name, host.port = source.hosts[0].name, source.hosts[0].port or 3260
    disk.type = "network"
    src.protocol, src.name = "iscsi", f"{source.devices[0].path}/{tokens[3]}"
    src.hosts = [host]
    if src.initiator_iqn is None:
        src.initiator_iqn = source.initiator_iqn
    src.pool = src.volume = src.mode = None


def restore_volumes(translated: list[Translated]) -> None:
    for item in translated:
        src = item.disk.source
        assert src is not None
        item.disk.type = "volume"
        if item.attribute is None:
            src.protocol = src.name = None
            src.hosts, src.initiator_iqn = [], item.initiator
        else:
            setattr(src, item.attribute, None)
        src.pool, src.volume, src.mode = item.pool, item.volume, item.mode
