"""The network procedures' handlers, and the domain device ones that plug guests into
networks: thin adapters from remote_protocol.x's shapes to the public API's call path on the
session driver (its ``network`` part answers the network ones, the driver itself the device
ones), as libvirtd's generated dispatchers (remote_dispatch.h) are. The legacy name lists
virsh still falls back to are served from the same driver list, as libvirtd serves them."""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt import constants as C
from qvirt.daemon.adapters import Adapters
from qvirt.daemon.wire import net_ref, net_wire, to_ref
from qvirt.drivers.base import DHCPLease, NetworkRef
from qvirt.rpc.errors import RPCError
from qvirt.rpc.remote import REMOTE_NETWORK_LIST_MAX

if TYPE_CHECKING:
    from qvirt.daemon.dispatch import Handler, Session


# Argument converters by field name: the wire shape -> what the driver takes.
_ADAPT = Adapters({"net": net_ref, "dom": to_ref, "autostart": bool})
_void, _value = _ADAPT.void, _ADAPT.value


def _net(api: str, *names: str) -> Handler:
    """A procedure replying remote_nonnull_network ``net``."""
    return _value(api, "net", *names, convert=net_wire)


def _xml_only(api: str) -> Handler:
    """NETWORK_CREATE_XML and NETWORK_DEFINE_XML: the flag-less calls, flags 0."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {"net": net_wire(s.api(api, args["xml"], 0))}
    return handler


def _by_uuid(s: Session, args: Any) -> dict[str, Any]:
    return {"net": net_wire(s.api("virNetworkLookupByUUID",
                                  str(uuidlib.UUID(bytes=args["uuid"]))))}


def _list_all(s: Session, args: Any) -> dict[str, Any]:
    refs: list[NetworkRef] = s.api("virConnectListAllNetworks", args["flags"])
    return {"nets": [net_wire(r) for r in refs] if args["need_results"] else [],
            "ret": len(refs)}


def _names(flags: int) -> Handler:
    """CONNECT_LIST_(DEFINED_)NETWORKS: names of the active (inactive) networks."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        if args["maxnames"] > REMOTE_NETWORK_LIST_MAX:
            raise RPCError("maxnames > REMOTE_NETWORK_LIST_MAX")
        refs = s.api("virConnectListAllNetworks", flags)
        return {"names": [r.name for r in refs][:args["maxnames"]]}
    return handler


def _count(flags: int) -> Handler:
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {"num": len(s.api("virConnectListAllNetworks", flags))}
    return handler


def _lease_wire(lease: DHCPLease) -> dict[str, Any]:
    return {"iface": lease.iface, "expirytime": lease.expirytime, "type": lease.type,
            "mac": lease.mac, "iaid": lease.iaid, "ipaddr": lease.ipaddr,
            "prefix": lease.prefix, "hostname": lease.hostname, "clientid": lease.clientid}


def _dhcp_leases(s: Session, args: Any) -> dict[str, Any]:
    leases: list[DHCPLease] = s.api("virNetworkGetDHCPLeases", net_ref(args["net"]),
                                    args["mac"], args["flags"])
    return {"leases": [_lease_wire(x) for x in leases] if args["need_results"] else [],
            "ret": len(leases)}


def _event_register(s: Session, args: Any) -> dict[str, Any]:
    net = net_ref(args["net"]) if args["net"] is not None else None
    return {"callbackID": s.net_events.register(args["eventID"], net)}


def _interface_stats(s: Session, args: Any) -> dict[str, Any]:
    st = s.api("virDomainInterfaceStats", to_ref(args["dom"]), args["device"])
    return {"rx_bytes": st.rx_bytes, "rx_packets": st.rx_packets, "rx_errs": st.rx_errs,
            "rx_drop": st.rx_drop, "tx_bytes": st.tx_bytes, "tx_packets": st.tx_packets,
            "tx_errs": st.tx_errs, "tx_drop": st.tx_drop}


def _live_device(api: str) -> Handler:
    """DOMAIN_ATTACH_DEVICE and _DETACH_DEVICE: the flag-less calls change the running
    domain only, as qemuDomainAttachDevice passes VIR_DOMAIN_AFFECT_LIVE."""
    def handler(s: Session, args: Any) -> None:
        s.api(api, to_ref(args["dom"]), args["xml"], C.VIR_DOMAIN_AFFECT_LIVE)
    return handler


_ACTIVE = C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
_INACTIVE = C.VIR_CONNECT_LIST_NETWORKS_INACTIVE

HANDLERS: dict[str, Handler] = {
    "CONNECT_LIST_ALL_NETWORKS": _list_all,
    "CONNECT_NUM_OF_NETWORKS": _count(_ACTIVE),
    "CONNECT_LIST_NETWORKS": _names(_ACTIVE),
    "CONNECT_NUM_OF_DEFINED_NETWORKS": _count(_INACTIVE),
    "CONNECT_LIST_DEFINED_NETWORKS": _names(_INACTIVE),
    "NETWORK_LOOKUP_BY_NAME": _net("virNetworkLookupByName", "name"),
    "NETWORK_LOOKUP_BY_UUID": _by_uuid,
    "NETWORK_CREATE_XML": _xml_only("virNetworkCreateXML"),
    "NETWORK_CREATE_XML_FLAGS": _net("virNetworkCreateXMLFlags", "xml", "flags"),
    "NETWORK_DEFINE_XML": _xml_only("virNetworkDefineXML"),
    "NETWORK_DEFINE_XML_FLAGS": _net("virNetworkDefineXMLFlags", "xml", "flags"),
    "NETWORK_UNDEFINE": _void("virNetworkUndefine", "net"),
    "NETWORK_UPDATE": _void("virNetworkUpdate", "net", "command", "section", "parentIndex",
                            "xml", "flags"),
    "NETWORK_CREATE": _void("virNetworkCreate", "net"),
    "NETWORK_DESTROY": _void("virNetworkDestroy", "net"),
    "NETWORK_GET_XML_DESC": _value("virNetworkGetXMLDesc", "xml", "net", "flags", convert=str),
    "NETWORK_GET_BRIDGE_NAME": _value("virNetworkGetBridgeName", "name", "net", convert=str),
    "NETWORK_GET_AUTOSTART": _value("virNetworkGetAutostart", "autostart", "net"),
    "NETWORK_SET_AUTOSTART": _void("virNetworkSetAutostart", "net", "autostart"),
    "NETWORK_IS_ACTIVE": _value("virNetworkIsActive", "active", "net"),
    "NETWORK_IS_PERSISTENT": _value("virNetworkIsPersistent", "persistent", "net"),
    "NETWORK_GET_DHCP_LEASES": _dhcp_leases,
    "CONNECT_NETWORK_EVENT_REGISTER_ANY": _event_register,
    "CONNECT_NETWORK_EVENT_DEREGISTER_ANY": lambda s, a: s.net_events.deregister(a["callbackID"]),
    "DOMAIN_ATTACH_DEVICE": _live_device("virDomainAttachDevice"),
    "DOMAIN_DETACH_DEVICE": _live_device("virDomainDetachDevice"),
    "DOMAIN_ATTACH_DEVICE_FLAGS": _void("virDomainAttachDeviceFlags", "dom", "xml", "flags"),
    "DOMAIN_DETACH_DEVICE_FLAGS": _void("virDomainDetachDeviceFlags", "dom", "xml", "flags"),
    "DOMAIN_UPDATE_DEVICE_FLAGS": _void("virDomainUpdateDeviceFlags", "dom", "xml", "flags"),
    "DOMAIN_INTERFACE_STATS": _interface_stats,
}
