"""Storage pools and volumes in the public API (libvirt-python's virStoragePool and
virStorageVol): names, argument orders and return shapes as libvirt-python has them. Every
call goes through ``entry.call``; a handle carries only what libvirt's carries (a pool its
name and UUID, a volume its pool's name, its own name and its key)."""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt.client import entry
from qvirt.client.fdstream import FDStream
from qvirt.client.stream import StreamBackend, virStream
from qvirt.drivers.base import StoragePoolRef, StorageVolRef
from qvirt.errors import ErrorDomain, InvalidArg, QvirtError

if TYPE_CHECKING:
    from qvirt.client.api import virConnect


def raw_invalid_arg(message: str, function: str, argname: str) -> QvirtError:
    """virReportInvalidArg: the message is the whole text (libvirt-storage.c reports from
    the storage domain)."""
    err = InvalidArg(message, domain=ErrorDomain.STORAGE, str1=function, str2=argname,
                     int1=0, int2=0)
    err.message = message
    err.args = (message,)
    entry.report(err)
    return err


class virStoragePool:
    def __init__(self, conn: virConnect, ref: StoragePoolRef) -> None:
        self._conn = conn
        self._ref = ref

    def _call(self, api: str, *args: Any) -> Any:
        return self._conn._call(api, self._ref, *args)

    def connect(self) -> virConnect:
        return self._conn

    def name(self) -> str:
        return self._ref.name

    def UUID(self) -> bytes:
        return uuidlib.UUID(self._ref.uuid).bytes

    def UUIDString(self) -> str:
        return self._ref.uuid

    def XMLDesc(self, flags: int = 0) -> str:
        return str(self._call("virStoragePoolGetXMLDesc", flags))

    def info(self) -> list[int]:
        """[state, capacity, allocation, available], sizes in bytes."""
        i = self._call("virStoragePoolGetInfo")
        return [i.state, i.capacity, i.allocation, i.available]

    def create(self, flags: int = 0) -> int:
        self._call("virStoragePoolCreate", flags)
        return 0

    def build(self, flags: int = 0) -> int:
        self._call("virStoragePoolBuild", flags)
        return 0

    def destroy(self) -> int:
        self._call("virStoragePoolDestroy")
        return 0

    def delete(self, flags: int = 0) -> int:
        self._call("virStoragePoolDelete", flags)
        return 0

    def undefine(self) -> int:
        self._call("virStoragePoolUndefine")
        return 0

    def refresh(self, flags: int = 0) -> int:
        self._call("virStoragePoolRefresh", flags)
        return 0

    def autostart(self) -> int:
        return int(self._call("virStoragePoolGetAutostart"))

    def setAutostart(self, autostart: int) -> int:
        self._call("virStoragePoolSetAutostart", bool(autostart))
        return 0

    def isActive(self) -> int:
        return int(self._call("virStoragePoolIsActive"))

    def isPersistent(self) -> int:
        return int(self._call("virStoragePoolIsPersistent"))

    def _volume(self, ref: StorageVolRef) -> virStorageVol:
        return self._conn._storage_vol(ref)

    def listAllVolumes(self, flags: int = 0) -> list[virStorageVol]:
        return [self._volume(r) for r in self._call("virStoragePoolListAllVolumes", flags)]

    def listVolumes(self) -> list[str]:
        """virStoragePoolListVolumes: the volumes' names, from the full listing."""
        return [r.name for r in self._call("virStoragePoolListAllVolumes", 0)]

    def numOfVolumes(self) -> int:
        return len(self._call("virStoragePoolListAllVolumes", 0))

    def storageVolLookupByName(self, name: str) -> virStorageVol:
        return self._volume(self._call("virStorageVolLookupByName", name))

    def createXML(self, xmlDesc: str, flags: int = 0) -> virStorageVol:
        return self._volume(self._call("virStorageVolCreateXML", xmlDesc, flags))

    def createXMLFrom(self, xmlDesc: str, clonevol: virStorageVol,
                      flags: int = 0) -> virStorageVol:
        return self._volume(self._call("virStorageVolCreateXMLFrom", xmlDesc, clonevol._ref,
                                       flags))


class virStorageVol:
    def __init__(self, conn: virConnect, ref: StorageVolRef) -> None:
        self._conn = conn
        self._ref = ref

    def _call(self, api: str, *args: Any) -> Any:
        return self._conn._call(api, self._ref, *args)

    def connect(self) -> virConnect:
        return self._conn

    def name(self) -> str:
        return self._ref.name

    def key(self) -> str:
        return self._ref.key

    def path(self) -> str:
        return str(self._call("virStorageVolGetPath"))

    def info(self) -> list[int]:
        """[type, capacity, allocation], sizes in bytes."""
        i = self._call("virStorageVolGetInfo", 0)
        return [i.type, i.capacity, i.allocation]

    def infoFlags(self, flags: int = 0) -> list[int]:
        i = self._call("virStorageVolGetInfoFlags", flags)
        return [i.type, i.capacity, i.allocation]

    def XMLDesc(self, flags: int = 0) -> str:
        return str(self._call("virStorageVolGetXMLDesc", flags))

    def delete(self, flags: int = 0) -> int:
        self._call("virStorageVolDelete", flags)
        return 0

    def wipe(self, flags: int = 0) -> int:
        self._call("virStorageVolWipe", flags)
        return 0

    def wipePattern(self, algorithm: int, flags: int = 0) -> int:
        self._call("virStorageVolWipePattern", algorithm, flags)
        return 0

    def resize(self, capacity: int, flags: int = 0) -> int:
        self._call("virStorageVolResize", capacity, flags)
        return 0

    def storagePoolLookupByVolume(self) -> virStoragePool:
        return self._conn._storage_pool(self._call("virStoragePoolLookupByVolume"))

    def upload(self, stream: virStream, offset: int, length: int, flags: int = 0) -> int:
        """virStorageVolUpload: what is sent on ``stream`` is written into the volume."""
        return self._transfer("virStorageVolUpload", stream, offset, length, flags)

    def download(self, stream: virStream, offset: int, length: int, flags: int = 0) -> int:
        """virStorageVolDownload: the volume's bytes come on ``stream``."""
        return self._transfer("virStorageVolDownload", stream, offset, length, flags)

    def _transfer(self, api: str, stream: virStream, offset: int, length: int,
                  flags: int) -> int:
        """The driver's stream is attached to ``stream`` as virDomain.openConsole attaches
        it: a local device is read and written as an fd stream."""
        if stream.connect() is not self._conn and not self._conn._read_only:
            raise raw_invalid_arg(
                f"stream in {api} must match connection of volume '{self.name()}'", api,
                "stream")
        try:
            opened = self._call(api, offset, length, flags)
        except QvirtError:
            stream._attach(None)
            raise
        stream._attach(opened if isinstance(opened, StreamBackend) else FDStream(opened))
        return 0
