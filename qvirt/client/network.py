"""Virtual networks in the public API (libvirt-python's virNetwork and virNetworkPort): names,
argument orders and return shapes as libvirt-python has them. Every call goes through
``entry.call``; a handle carries only what libvirt's carries (a network its name and UUID, a
port its network and its own UUID)."""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt.client import entry
from qvirt.drivers.base import DHCPLease, NetworkRef
from qvirt.errors import ErrorDomain, InvalidArg, QvirtError

if TYPE_CHECKING:
    from qvirt.client.api import virConnect


def raw_invalid_arg(message: str, function: str, argname: str) -> QvirtError:
    """virReportInvalidArg from libvirt-network.c (the network domain)."""
    err = InvalidArg(message, domain=ErrorDomain.NETWORK, str1=function, str2=argname,
                     int1=0, int2=0)
    err.message = message
    err.args = (message,)
    entry.report(err)
    return err


def lease_dict(lease: DHCPLease) -> dict[str, Any]:
    """One lease as libvirt-python's DHCPLeases gives it (its keys; None where libvirt has
    NULL)."""
    return {"iface": lease.iface, "expirytime": lease.expirytime, "type": lease.type,
            "mac": lease.mac, "iaid": lease.iaid, "ipaddr": lease.ipaddr,
            "prefix": lease.prefix, "hostname": lease.hostname, "clientid": lease.clientid}


class virNetwork:
    def __init__(self, conn: virConnect, ref: NetworkRef) -> None:
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
        return str(self._call("virNetworkGetXMLDesc", flags))

    def create(self) -> int:
        self._call("virNetworkCreate")
        return 0

    def destroy(self) -> int:
        self._call("virNetworkDestroy")
        return 0

    def undefine(self) -> int:
        self._call("virNetworkUndefine")
        return 0

    def update(self, command: int, section: int, parentIndex: int, xml: str,
               flags: int = 0) -> int:
        self._call("virNetworkUpdate", command, section, parentIndex, xml, flags)
        return 0

    def bridgeName(self) -> str:
        return str(self._call("virNetworkGetBridgeName"))

    def autostart(self) -> int:
        return int(self._call("virNetworkGetAutostart"))

    def setAutostart(self, autostart: int) -> int:
        self._call("virNetworkSetAutostart", bool(autostart))
        return 0

    def isActive(self) -> int:
        return int(self._call("virNetworkIsActive"))

    def isPersistent(self) -> int:
        return int(self._call("virNetworkIsPersistent"))

    def DHCPLeases(self, mac: str | None = None, flags: int = 0) -> list[dict[str, Any]]:
        return [lease_dict(lease)
                for lease in self._call("virNetworkGetDHCPLeases", mac, flags)]

    def listAllPorts(self, flags: int = 0) -> list[virNetworkPort]:
        return [virNetworkPort(self, uuid)
                for uuid in self._call("virNetworkListAllPorts", flags)]

    def portCreateXML(self, xmldesc: str, flags: int = 0) -> virNetworkPort:
        return virNetworkPort(self, str(self._call("virNetworkPortCreateXML", xmldesc, flags)))

    def portLookupByUUID(self, uuid: bytes) -> virNetworkPort:
        if len(uuid) != 16:
            raise raw_invalid_arg("Invalid UUID", "virNetworkPortLookupByUUID", "uuid")
        return virNetworkPort(self, str(self._call("virNetworkPortLookupByUUID",
                                                   str(uuidlib.UUID(bytes=uuid)))))

    def portLookupByUUIDString(self, uuidstr: str) -> virNetworkPort:
        try:
            canonical = str(uuidlib.UUID(uuidstr))
        except ValueError:
            raise raw_invalid_arg(
                "uuidstr in virNetworkPortLookupByUUIDString must be a valid UUID",
                "virNetworkPortLookupByUUIDString", "uuidstr") from None
        return virNetworkPort(self, str(self._call("virNetworkPortLookupByUUID", canonical)))


class virNetworkPort:
    def __init__(self, net: virNetwork, uuid: str) -> None:
        self._net = net
        self._uuid = uuid

    def _call(self, api: str, *args: Any) -> Any:
        return self._net._call(api, self._uuid, *args)

    def network(self) -> virNetwork:
        return self._net

    def connect(self) -> virConnect:
        return self._net.connect()

    def UUID(self) -> bytes:
        return uuidlib.UUID(self._uuid).bytes

    def UUIDString(self) -> str:
        return self._uuid

    def XMLDesc(self, flags: int = 0) -> str:
        return str(self._call("virNetworkPortGetXMLDesc", flags))

    def delete(self, flags: int = 0) -> int:
        self._call("virNetworkPortDelete", flags)
        return 0

    def parameters(self, flags: int = 0) -> dict[str, Any]:
        return dict(self._call("virNetworkPortGetParameters", flags))

    def setParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        self._call("virNetworkPortSetParameters", params, flags)
        return 0
