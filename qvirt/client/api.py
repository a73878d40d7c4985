"""The public Python API: ``open``/``openReadOnly`` and the connection and domain objects, with
libvirt-python's names, argument orders and return shapes (lists where it returns lists), so
``import qvirt as libvirt`` runs ordinary libvirt-python scripts. Every method goes through
``entry.call`` (STYLE.md 3); this module only adapts shapes."""

from __future__ import annotations

import os
import uuid as uuidlib
import weakref
from collections.abc import Callable
from typing import Any

from qvirt import constants as C
from qvirt.client import entry, events
from qvirt.client.fdstream import FDStream
from qvirt.client.network import raw_invalid_arg as net_invalid_arg
from qvirt.client.network import virNetwork
from qvirt.client.storage import raw_invalid_arg, virStoragePool, virStorageVol
from qvirt.client.stream import StreamBackend, virStream
from qvirt.client.uri import parse_uri
from qvirt.drivers.base import (
    DomainRef,
    HypervisorDriver,
    NetworkRef,
    NodeInfo,
    StoragePoolRef,
    StorageVolRef,
)
from qvirt.drivers.registry import open_driver
from qvirt.errors import ErrorDomain, InvalidArg, NoSupport, QvirtError

LIB_VERSION = 9_000_000  # the libvirt release whose behaviour qvirt follows: 9.0.0

# libvirt-python's event callback: (conn, dom, event, detail, opaque).
LifecycleHandler = Callable[["virConnect", "virDomain", int, int, Any], Any]
# libvirt-python's storage pool callbacks: lifecycle (conn, pool, event, detail, opaque),
# refresh (conn, pool, opaque).
PoolHandler = Callable[..., Any]
# libvirt-python's network lifecycle callback: (conn, net, event, detail, opaque).
NetworkHandler = Callable[..., Any]


def _default_uri() -> str:
    """virConnectOpen(NULL): LIBVIRT_DEFAULT_URI, else the system or session QEMU driver."""
    return os.environ.get("LIBVIRT_DEFAULT_URI") or (
        "qemu:///system" if os.geteuid() == 0 else "qemu:///session")


def open(name: str | None = None) -> virConnect:
    return virConnect(name or _default_uri(), read_only=False)


def openReadOnly(name: str | None = None) -> virConnect:
    return virConnect(name or _default_uri(), read_only=True)


def _raw_invalid_arg(message: str, function: str, argname: str) -> QvirtError:
    """virReportInvalidArg: the message is the whole text, the function and argument kept."""
    err = InvalidArg(message, domain=ErrorDomain.DOMAIN, str1=function, str2=argname, int1=0,
                     int2=0)
    err.message = message
    err.args = (message,)
    return err


def _report(err: QvirtError) -> QvirtError:
    entry.report(err)
    return err


def _exclusive(api: str, flags: int, first: str, second: str) -> None:
    """VIR_EXCLUSIVE_FLAGS_RET: two flags the API refuses together, before any driver."""
    if flags & getattr(C, first) and flags & getattr(C, second):
        raise _report(_raw_invalid_arg(f"Flags '{first}' and '{second}' are mutually exclusive",
                                       api, "ctl"))


class virConnect:
    def __init__(self, uri: str, read_only: bool) -> None:
        try:
            self._driver: HypervisorDriver | None = open_driver(parse_uri(uri), read_only)
        except QvirtError as err:
            entry.report(err)
            raise
        self._read_only = read_only
        # Object handles keep their connection referenced, as libvirt's do: close() answers
        # how many references remain.
        self._handles: weakref.WeakSet[
            virDomain | virNetwork | virStoragePool | virStorageVol] = weakref.WeakSet()

    def __del__(self) -> None:
        """A connection dropped without close() is closed, as libvirt-python's is; test:///
        default's shared node depends on it to be dropped with its last connection."""
        driver = getattr(self, "_driver", None)
        if driver is not None:
            self._driver = None
            driver.connect_close()

    def _call(self, api: str, *args: Any, denied: str | None = None,
              quiet: bool = False) -> Any:
        return entry.call(self._driver, self._read_only, api, *args, denied=denied,
                          quiet=quiet)

    def _domain(self, ref: DomainRef) -> virDomain:
        dom = virDomain(self, ref)
        self._handles.add(dom)
        return dom

    # Connection ----------------------------------------------------------------------------

    def close(self) -> int:
        driver = entry.check_open(self._driver, "virConnectClose")
        self._driver = None
        driver.connect_close()
        return len(self._handles)

    def _transport_fact(self, api: str, method: str, in_process: bool) -> int:
        """What a connection says of its transport; in-process drivers have none, so they
        are alive and secure, and not encrypted."""
        driver = entry.check_open(self._driver, api)
        ask = getattr(driver, method, None)
        return int(ask() if ask is not None else in_process)

    def isAlive(self) -> int:
        return self._transport_fact("virConnectIsAlive", "connect_is_alive", True)

    def isSecure(self) -> int:
        return self._transport_fact("virConnectIsSecure", "connect_is_secure", True)

    def isEncrypted(self) -> int:
        return self._transport_fact("virConnectIsEncrypted", "connect_is_encrypted", False)

    def setKeepAlive(self, interval: int, count: int) -> int:
        return int(self._call("virConnectSetKeepAlive", interval, count))

    def getType(self) -> str:
        return str(self._call("virConnectGetType"))

    def getVersion(self) -> int:
        return int(self._call("virConnectGetVersion"))

    def getLibVersion(self) -> int:
        entry.check_open(self._driver, "virConnectGetLibVersion")
        return LIB_VERSION

    def getHostname(self) -> str:
        return str(self._call("virConnectGetHostname"))

    def getURI(self) -> str:
        return str(self._call("virConnectGetURI"))

    def getCapabilities(self) -> str:
        return str(self._call("virConnectGetCapabilities"))

    def getDomainCapabilities(self, emulatorbin: str | None = None,
                              arch: str | None = None, machine: str | None = None,
                              virttype: str | None = None, flags: int = 0) -> str:
        return str(self._call("virConnectGetDomainCapabilities", emulatorbin, arch, machine,
                              virttype, flags))

    def domainXMLToNative(self, nativeFormat: str, domainXml: str, flags: int = 0) -> str:
        """virConnectDomainXMLToNative: the configuration a hypervisor would be given (QEMU's
        command line for "qemu-argv"), where the driver can say it."""
        return str(self._call("virConnectDomainXMLToNative", nativeFormat, domainXml, flags))

    def domainXMLFromNative(self, nativeFormat: str, nativeConfig: str, flags: int = 0) -> str:
        """virConnectDomainXMLFromNative: no driver implements it (libvirt 9.0's QEMU driver
        dropped its qemu-argv parser), so it answers libvirt's "not supported"."""
        return str(self._call("virConnectDomainXMLFromNative", nativeFormat, nativeConfig,
                              flags))

    def getMaxVcpus(self, type: str | None) -> int:
        return int(self._call("virConnectGetMaxVcpus", type))

    def getInfo(self) -> list[Any]:
        """virNodeGetInfo as libvirt-python returns it: memory in MiB."""
        info = self._call("virNodeGetInfo")
        return [info.model, info.memory // 1024, info.cpus, info.mhz, info.nodes, info.sockets,
                info.cores, info.threads]

    def nodeInfo(self) -> NodeInfo:
        """virNodeGetInfo's record itself, memory in KiB: getInfo rounds it to MiB, as
        libvirt-python does, and virsh's nodeinfo prints the KiB (a qvirt addition)."""
        info: NodeInfo = self._call("virNodeGetInfo")
        return info

    def getFreeMemory(self) -> int:
        """Bytes free on the node."""
        return int(self._call("virNodeGetFreeMemory"))

    def getCellsFreeMemory(self, startCell: int, maxCells: int) -> list[int]:
        """Bytes free in each of up to ``maxCells`` NUMA cells from ``startCell``."""
        return [int(n) for n in self._call("virNodeGetCellsFreeMemory", startCell, maxCells)]

    def getCPUMap(self, flags: int = 0) -> tuple[int, list[bool], int]:
        """(CPUs present, which are online, how many are online), as libvirt-python."""
        present, online_map, online = self._call("virNodeGetCPUMap", flags)
        return int(present), [bool(b) for b in online_map], int(online)

    def getCPUStats(self, cpuNum: int, flags: int = 0) -> dict[str, int]:
        """The node's CPU times (ns) by libvirt's field names (user, kernel, idle, ...)."""
        return dict(self._call("virNodeGetCPUStats", cpuNum, flags))

    def getMemoryStats(self, cellNum: int, flags: int = 0) -> dict[str, int]:
        """The node's memory figures (KiB) by libvirt's field names (total, free, ...)."""
        return dict(self._call("virNodeGetMemoryStats", cellNum, flags))

    def getSecurityModel(self) -> list[str]:
        return list(self._call("virNodeGetSecurityModel"))

    def getSysinfo(self, flags: int = 0) -> str:
        return str(self._call("virConnectGetSysinfo", flags))

    # Domains -------------------------------------------------------------------------------

    def _refs(self, flags: int = 0) -> list[DomainRef]:
        refs: list[DomainRef] = self._call("virConnectListAllDomains", flags)
        return refs

    def listAllDomains(self, flags: int = 0) -> list[virDomain]:
        return [self._domain(r) for r in self._refs(flags)]

    def listDomainsID(self) -> list[int]:
        return [r.id for r in self._refs(C.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]

    def listDefinedDomains(self) -> list[str]:
        return [r.name for r in self._refs(C.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]

    def numOfDomains(self) -> int:
        return len(self._refs(C.VIR_CONNECT_LIST_DOMAINS_ACTIVE))

    def numOfDefinedDomains(self) -> int:
        return len(self._refs(C.VIR_CONNECT_LIST_DOMAINS_INACTIVE))

    def lookupByName(self, name: str) -> virDomain:
        return self._domain(self._call("virDomainLookupByName", name))

    def lookupByID(self, id: int) -> virDomain:
        if id < 0:
            raise _report(_raw_invalid_arg(
                "id in virDomainLookupByID must be zero or greater", "virDomainLookupByID",
                "id"))
        return self._domain(self._call("virDomainLookupByID", id))

    def lookupByUUID(self, uuid: bytes) -> virDomain:
        if len(uuid) != 16:
            raise _report(_raw_invalid_arg("Invalid UUID", "virDomainLookupByUUID", "uuid"))
        return self._domain(self._call("virDomainLookupByUUID", str(uuidlib.UUID(bytes=uuid))))

    def lookupByUUIDString(self, uuidstr: str) -> virDomain:
        try:
            canonical = str(uuidlib.UUID(uuidstr))
        except ValueError:
            raise _report(_raw_invalid_arg("Invalid UUID", "virDomainLookupByUUIDString",
                                           "uuidstr")) from None
        return self._domain(self._call("virDomainLookupByUUID", canonical))

    def defineXML(self, xml: str) -> virDomain:
        return self._domain(self._call("virDomainDefineXML", xml, 0))

    def defineXMLFlags(self, xml: str, flags: int = 0) -> virDomain:
        return self._domain(self._call("virDomainDefineXMLFlags", xml, flags))

    def createXML(self, xmlDesc: str, flags: int = 0) -> virDomain:
        return self._domain(self._call("virDomainCreateXML", xmlDesc, flags))

    # Storage -------------------------------------------------------------------------------

    def _storage_pool(self, ref: StoragePoolRef) -> virStoragePool:
        pool = virStoragePool(self, ref)
        self._handles.add(pool)
        return pool

    def _storage_vol(self, ref: StorageVolRef) -> virStorageVol:
        vol = virStorageVol(self, ref)
        self._handles.add(vol)
        return vol

    def _pool_refs(self, flags: int = 0) -> list[StoragePoolRef]:
        refs: list[StoragePoolRef] = self._call("virConnectListAllStoragePools", flags)
        return refs

    def listAllStoragePools(self, flags: int = 0) -> list[virStoragePool]:
        return [self._storage_pool(r) for r in self._pool_refs(flags)]

    def listStoragePools(self) -> list[str]:
        return [r.name for r in self._pool_refs(C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)]

    def listDefinedStoragePools(self) -> list[str]:
        return [r.name for r in self._pool_refs(C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE)]

    def numOfStoragePools(self) -> int:
        return len(self._pool_refs(C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE))

    def numOfDefinedStoragePools(self) -> int:
        return len(self._pool_refs(C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE))

    def storagePoolLookupByName(self, name: str) -> virStoragePool:
        return self._storage_pool(self._call("virStoragePoolLookupByName", name))

    def storagePoolLookupByUUID(self, uuid: bytes) -> virStoragePool:
        if len(uuid) != 16:
            raise raw_invalid_arg("Invalid UUID", "virStoragePoolLookupByUUID", "uuid")
        return self._storage_pool(self._call("virStoragePoolLookupByUUID",
                                             str(uuidlib.UUID(bytes=uuid))))

    def storagePoolLookupByUUIDString(self, uuidstr: str) -> virStoragePool:
        try:
            canonical = str(uuidlib.UUID(uuidstr))
        except ValueError:
            raise raw_invalid_arg(
                "uuidstr in virStoragePoolLookupByUUIDString must be a valid UUID",
                "virStoragePoolLookupByUUIDString", "uuidstr") from None
        return self._storage_pool(self._call("virStoragePoolLookupByUUID", canonical))

    def storagePoolLookupByTargetPath(self, path: str) -> virStoragePool:
        return self._storage_pool(self._call("virStoragePoolLookupByTargetPath", path))

    def storagePoolDefineXML(self, xml: str, flags: int = 0) -> virStoragePool:
        return self._storage_pool(self._call("virStoragePoolDefineXML", xml, flags))

    def storagePoolCreateXML(self, xmlDesc: str, flags: int = 0) -> virStoragePool:
        return self._storage_pool(self._call("virStoragePoolCreateXML", xmlDesc, flags))

    def storageVolLookupByKey(self, key: str) -> virStorageVol:
        return self._storage_vol(self._call("virStorageVolLookupByKey", key))

    def storageVolLookupByPath(self, path: str) -> virStorageVol:
        return self._storage_vol(self._call("virStorageVolLookupByPath", path))

    def findStoragePoolSources(self, type: str, srcSpec: str | None, flags: int = 0) -> str:
        return str(self._call("virConnectFindStoragePoolSources", type, srcSpec, flags))

    def getStoragePoolCapabilities(self, flags: int = 0) -> str:
        return str(self._call("virConnectGetStoragePoolCapabilities", flags))

    def storagePoolEventRegisterAny(self, pool: virStoragePool | None, eventID: int,
                                    cb: PoolHandler, opaque: Any) -> int:
        """The callback runs on the application's event loop, with libvirt-python's
        arguments for the event: (conn, pool, event, detail, opaque) for a lifecycle event,
        (conn, pool, opaque) for a refresh."""
        def on_event(ref: StoragePoolRef, event_id: int, event: int, detail: int) -> None:
            handle = self._storage_pool(ref)
            if event_id == C.VIR_STORAGE_POOL_EVENT_ID_REFRESH:
                events.dispatch(lambda: cb(self, handle, opaque))
            else:
                events.dispatch(lambda: cb(self, handle, event, detail, opaque))

        ref = pool._ref if pool is not None else None
        cid: int = self._call("virConnectStoragePoolEventRegisterAny", ref, eventID, on_event)
        return cid

    def storagePoolEventDeregisterAny(self, callbackID: int) -> None:
        """libvirt-python answers None here (its domain twin answers 0)."""
        self._call("virConnectStoragePoolEventDeregisterAny", callbackID)

    # Networks ------------------------------------------------------------------------------

    def _network(self, ref: NetworkRef) -> virNetwork:
        net = virNetwork(self, ref)
        self._handles.add(net)
        return net

    def _network_refs(self, flags: int = 0) -> list[NetworkRef]:
        refs: list[NetworkRef] = self._call("virConnectListAllNetworks", flags)
        return refs

    def listAllNetworks(self, flags: int = 0) -> list[virNetwork]:
        return [self._network(r) for r in self._network_refs(flags)]

    def listNetworks(self) -> list[str]:
        return [r.name for r in self._network_refs(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE)]

    def listDefinedNetworks(self) -> list[str]:
        return [r.name for r in self._network_refs(C.VIR_CONNECT_LIST_NETWORKS_INACTIVE)]

    def numOfNetworks(self) -> int:
        return len(self._network_refs(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE))

    def numOfDefinedNetworks(self) -> int:
        return len(self._network_refs(C.VIR_CONNECT_LIST_NETWORKS_INACTIVE))

    def networkLookupByName(self, name: str) -> virNetwork:
        return self._network(self._call("virNetworkLookupByName", name))

    def networkLookupByUUID(self, uuid: bytes) -> virNetwork:
        if len(uuid) != 16:
            raise net_invalid_arg("Invalid UUID", "virNetworkLookupByUUID", "uuid")
        return self._network(self._call("virNetworkLookupByUUID",
                                        str(uuidlib.UUID(bytes=uuid))))

    def networkLookupByUUIDString(self, uuidstr: str) -> virNetwork:
        try:
            canonical = str(uuidlib.UUID(uuidstr))
        except ValueError:
            raise net_invalid_arg(
                "uuidstr in virNetworkLookupByUUIDString must be a valid UUID",
                "virNetworkLookupByUUIDString", "uuidstr") from None
        return self._network(self._call("virNetworkLookupByUUID", canonical))

    def networkDefineXML(self, xml: str) -> virNetwork:
        return self._network(self._call("virNetworkDefineXML", xml, 0))

    def networkDefineXMLFlags(self, xml: str, flags: int = 0) -> virNetwork:
        return self._network(self._call("virNetworkDefineXMLFlags", xml, flags))

    def networkCreateXML(self, xmlDesc: str) -> virNetwork:
        return self._network(self._call("virNetworkCreateXML", xmlDesc, 0))

    def networkCreateXMLFlags(self, xmlDesc: str, flags: int = 0) -> virNetwork:
        return self._network(self._call("virNetworkCreateXMLFlags", xmlDesc, flags))

    def networkEventRegisterAny(self, net: virNetwork | None, eventID: int,
                                cb: NetworkHandler, opaque: Any) -> int:
        """The callback runs on the application's event loop with libvirt-python's
        arguments: (conn, net, event, detail, opaque)."""
        def on_event(ref: NetworkRef, event_id: int, event: int, detail: int) -> None:
            handle = self._network(ref)
            events.dispatch(lambda: cb(self, handle, event, detail, opaque))

        ref = net._ref if net is not None else None
        cid: int = self._call("virConnectNetworkEventRegisterAny", ref, eventID, on_event)
        return cid

    def networkEventDeregisterAny(self, callbackID: int) -> None:
        """libvirt-python answers None here (its domain twin answers 0)."""
        self._call("virConnectNetworkEventDeregisterAny", callbackID)

    # Streams -------------------------------------------------------------------------------

    def newStream(self, flags: int = 0) -> virStream:
        entry.check_open(self._driver, "virStreamNew")
        return virStream(self, flags)

    # Events --------------------------------------------------------------------------------

    def domainEventRegisterAny(self, dom: virDomain | None, eventID: int,
                               cb: LifecycleHandler, opaque: Any) -> int:
        if eventID != C.VIR_DOMAIN_EVENT_ID_LIFECYCLE:
            raise _report(NoSupport(f"event {eventID}", domain=ErrorDomain.DOMAIN))
        wanted = dom.UUIDString() if dom is not None else None

        def on_event(ref: DomainRef, event: int, detail: int) -> None:
            if wanted is None or ref.uuid == wanted:
                events.dispatch(lambda: cb(self, self._domain(ref), event, detail, opaque))

        # A driver that reaches a server hands it the filter (the server then sends only
        # what the callback wants, from the moment it is registered).
        where = ([dom._ref if dom is not None else None]
                 if getattr(self._driver, "filters_events", False) else [])
        cid: int = self._call("virConnectDomainEventRegisterAny", on_event, *where)
        return cid

    def domainEventDeregisterAny(self, callbackID: int) -> int:
        self._call("virConnectDomainEventDeregisterAny", callbackID)
        return 0


class virDomain:
    def __init__(self, conn: virConnect, ref: DomainRef) -> None:
        self._conn = conn
        self._ref = ref

    def _call(self, api: str, *args: Any, denied: str | None = None) -> Any:
        return self._conn._call(api, self._ref, *args, denied=denied)

    def _refresh_id(self) -> None:
        """A lifecycle call through this handle updates the id it caches (libvirt's drivers
        set domain->id as they start and stop it)."""
        try:
            ref = self._conn._call("virDomainLookupByUUID", self._ref.uuid, quiet=True)
        except QvirtError:
            ref = DomainRef(self._ref.name, self._ref.uuid, -1)
        self._ref = DomainRef(self._ref.name, self._ref.uuid, ref.id)

    def connect(self) -> virConnect:
        return self._conn

    def name(self) -> str:
        return self._ref.name

    def UUID(self) -> bytes:
        return uuidlib.UUID(self._ref.uuid).bytes

    def UUIDString(self) -> str:
        return self._ref.uuid

    def ID(self) -> int:
        return self._ref.id

    def XMLDesc(self, flags: int = 0) -> str:
        denied = ("virDomainGetXMLDesc with secure flag"
                  if flags & C.VIR_DOMAIN_XML_SECURE else None)
        return str(self._call("virDomainGetXMLDesc", flags, denied=denied))

    def create(self) -> int:
        return self.createWithFlags(0, api="virDomainCreate")

    def createWithFlags(self, flags: int = 0, *,
                        api: str = "virDomainCreateWithFlags") -> int:
        self._ref = self._call(api, flags)
        return 0

    def _lifecycle(self, api: str, *args: Any) -> int:
        self._call(api, *args)
        if getattr(self._conn._driver, "handle_ids", None) == "destroy-only":
            # libvirt's remote driver touches the handle's id in virDomainDestroy alone.
            if api == "virDomainDestroy":
                self._ref = DomainRef(self._ref.name, self._ref.uuid, -1)
        else:
            self._refresh_id()
        return 0

    def destroy(self) -> int:
        return self._lifecycle("virDomainDestroy", 0)

    def destroyFlags(self, flags: int = 0) -> int:
        return self._lifecycle("virDomainDestroyFlags", flags)

    def shutdown(self) -> int:
        return self._lifecycle("virDomainShutdown", 0)

    def shutdownFlags(self, flags: int = 0) -> int:
        return self._lifecycle("virDomainShutdownFlags", flags)

    def reboot(self, flags: int = 0) -> int:
        return self._lifecycle("virDomainReboot", flags)

    def reset(self, flags: int = 0) -> int:
        return self._lifecycle("virDomainReset", flags)

    def suspend(self) -> int:
        return self._lifecycle("virDomainSuspend")

    def resume(self) -> int:
        return self._lifecycle("virDomainResume")

    def undefine(self) -> int:
        return self._lifecycle("virDomainUndefine", 0)

    def undefineFlags(self, flags: int = 0) -> int:
        return self._lifecycle("virDomainUndefineFlags", flags)

    def info(self) -> list[int]:
        i = self._call("virDomainGetInfo")
        return [i.state, i.max_mem, i.memory, i.nr_virt_cpu, i.cpu_time]

    def state(self, flags: int = 0) -> list[int]:
        return list(self._call("virDomainGetState", flags))

    def controlInfo(self, flags: int = 0) -> list[int]:
        """virDomainGetControlInfo: [state, details, stateTime]."""
        return list(self._call("virDomainGetControlInfo", flags))

    def isActive(self) -> int:
        return int(self._call("virDomainIsActive"))

    def isPersistent(self) -> int:
        return int(self._call("virDomainIsPersistent"))

    def autostart(self) -> int:
        return int(self._call("virDomainGetAutostart"))

    def setAutostart(self, autostart: int) -> int:
        self._call("virDomainSetAutostart", bool(autostart))
        return 0

    def attachDevice(self, xml: str) -> int:
        """virDomainAttachDevice: the running domain only (VIR_DOMAIN_AFFECT_LIVE)."""
        self._call("virDomainAttachDevice", xml, C.VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def attachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self._call("virDomainAttachDeviceFlags", xml, flags)
        return 0

    def detachDevice(self, xml: str) -> int:
        self._call("virDomainDetachDevice", xml, C.VIR_DOMAIN_AFFECT_LIVE)
        return 0

    def detachDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self._call("virDomainDetachDeviceFlags", xml, flags)
        return 0

    def updateDeviceFlags(self, xml: str, flags: int = 0) -> int:
        self._call("virDomainUpdateDeviceFlags", xml, flags)
        return 0

    def interfaceStats(self, path: str) -> tuple[int, ...]:
        """virDomainInterfaceStats: (rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes,
        tx_packets, tx_errs, tx_drop), as libvirt-python returns them."""
        s = self._call("virDomainInterfaceStats", path)
        return (s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop, s.tx_bytes, s.tx_packets,
                s.tx_errs, s.tx_drop)

    def securityLabel(self) -> list[Any]:
        label, enforcing = self._call("virDomainGetSecurityLabel")
        return [label, bool(enforcing)]

    def hasManagedSaveImage(self, flags: int = 0) -> int:
        return int(self._call("virDomainHasManagedSaveImage", flags))

    def OSType(self) -> str:
        return str(self._call("virDomainGetOSType"))

    def maxMemory(self) -> int:
        return int(self._call("virDomainGetMaxMemory"))

    def openConsole(self, dev_name: str | None, st: virStream, flags: int = 0) -> int:
        """virDomainOpenConsole: the driver's stream for the console is attached to ``st``
        (a local device is read and written as an fd stream)."""
        if st.connect() is not self._conn and not self._conn._read_only:
            raise _report(_raw_invalid_arg(
                f"stream must match connection of domain '{self.name()}'",
                "virDomainOpenConsole", "st"))
        try:
            opened = self._call("virDomainOpenConsole", dev_name, flags)
        except QvirtError:
            st._attach(None)
            raise
        st._attach(opened if isinstance(opened, StreamBackend) else FDStream(opened))
        return 0

    def screenshot(self, stream: virStream, screen: int, flags: int = 0) -> str:
        """virDomainScreenshot: the image comes on ``stream``; its MIME type is returned."""
        if stream.connect() is not self._conn and not self._conn._read_only:
            raise _report(_raw_invalid_arg(
                f"stream must match connection of domain '{self.name()}'",
                "virDomainScreenshot", "stream"))
        try:
            mime, opened = self._call("virDomainScreenshot", screen, flags)
        except QvirtError:
            stream._attach(None)
            raise
        stream._attach(opened if isinstance(opened, StreamBackend) else FDStream(opened))
        return str(mime)

    def metadata(self, type: int, uri: str | None, flags: int = 0) -> str:
        """virDomainGetMetadata: the title or the description (elements are not kept)."""
        _exclusive("virDomainGetMetadata", flags, "VIR_DOMAIN_AFFECT_LIVE",
                   "VIR_DOMAIN_AFFECT_CONFIG")
        return str(self._call("virDomainGetMetadata", type, uri, flags))

    def setMetadata(self, type: int, metadata: str | None, key: str | None, uri: str | None,
                    flags: int = 0) -> int:
        """virDomainSetMetadata: a title (one line) or a description; empty removes it."""
        # libvirt refuses a read-only connection first, then a title of several lines.
        if type == C.VIR_DOMAIN_METADATA_TITLE and metadata and "\n" in metadata \
                and not self._conn._read_only:
            raise _report(_raw_invalid_arg("metadata title can't contain newlines",
                                           "virDomainSetMetadata", "metadata"))
        self._call("virDomainSetMetadata", type, metadata, key, uri, flags)
        return 0

    def vcpusFlags(self, flags: int = 0) -> int:
        _exclusive("virDomainGetVcpusFlags", flags, "VIR_DOMAIN_AFFECT_LIVE",
                   "VIR_DOMAIN_AFFECT_CONFIG")
        return int(self._call("virDomainGetVcpusFlags", flags))
