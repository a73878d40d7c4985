"""The remote driver's network part (remote_driver.c's network entry points): the
NetworkDriver interface as REMOTE program calls, offered as ``RemoteDriver.network``.

Each event registration is one server registration (CONNECT_NETWORK_EVENT_REGISTER_ANY hands
back the server's callbackID, which every event names); the server filters on the network,
as libvirtd's network driver does.
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from qvirt import constants as C
from qvirt.drivers.base import DHCPLease, NetworkEventCallback, NetworkRef
from qvirt.errors import ErrorDomain, InvalidArg
from qvirt.rpc.remote import BY_NAME

# driver.h's VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER.
FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER = 16

if TYPE_CHECKING:
    from qvirt.client.remote.rpcclient import RPCClient


def _net_wire(ref: NetworkRef) -> dict[str, Any]:
    return {"name": ref.name, "uuid": uuidlib.UUID(ref.uuid).bytes}


def _net_ref(wire: dict[str, Any]) -> NetworkRef:
    return NetworkRef(wire["name"], str(uuidlib.UUID(bytes=wire["uuid"])))


def _lease(wire: dict[str, Any]) -> DHCPLease:
    return DHCPLease(wire["iface"], wire["expirytime"], wire["type"], wire["mac"],
                     wire["iaid"], wire["ipaddr"], wire["prefix"], wire["hostname"],
                     wire["clientid"])


class RemoteNetwork:
    """The network calls of one connection; thread-safe as its RPC client is."""

    def __init__(self, rpc: RPCClient) -> None:
        self._rpc = rpc
        self._events_lock = threading.Lock()
        self._callbacks: dict[int, NetworkEventCallback] = {}  # the server's callbackID -> ours
        self._update_order_known: bool | None = None

    def _call(self, name: str, args: Any = None) -> Any:
        return self._rpc.call(BY_NAME[name], args)

    def _net(self, procedure: str, net: NetworkRef, **args: Any) -> Any:
        return self._call(procedure, {"net": _net_wire(net), **args})

    def connect_list_all_networks(self, flags: int = 0) -> list[NetworkRef]:
        ret = self._call("CONNECT_LIST_ALL_NETWORKS", {"need_results": 1, "flags": flags})
        return [_net_ref(n) for n in ret["nets"]]

    def network_lookup_by_name(self, name: str) -> NetworkRef:
        return _net_ref(self._call("NETWORK_LOOKUP_BY_NAME", {"name": name})["net"])

    def network_lookup_by_uuid(self, uuid: str) -> NetworkRef:
        return _net_ref(self._call("NETWORK_LOOKUP_BY_UUID",
                                   {"uuid": uuidlib.UUID(uuid).bytes})["net"])

    def network_create_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        """Flags 0 goes as the old call, as remote_driver.c's caller (virsh) picks it: a
        server older than libvirt 7.8 knows no other."""
        if flags:
            ret = self._call("NETWORK_CREATE_XML_FLAGS", {"xml": xml, "flags": flags})
        else:
            ret = self._call("NETWORK_CREATE_XML", {"xml": xml})
        return _net_ref(ret["net"])

    def network_define_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        if flags:
            ret = self._call("NETWORK_DEFINE_XML_FLAGS", {"xml": xml, "flags": flags})
        else:
            ret = self._call("NETWORK_DEFINE_XML", {"xml": xml})
        return _net_ref(ret["net"])

    def network_undefine(self, net: NetworkRef) -> None:
        self._net("NETWORK_UNDEFINE", net)

    def network_update(self, net: NetworkRef, command: int, section: int, parent_index: int,
                       xml: str, flags: int = 0) -> None:
        """A server without the feature reads command and section swapped (libvirt's own
        mistake from 0.10.2): they go swapped to it, as libvirt.c's virNetworkUpdate sends."""
        if self._update_order_known is None:
            self._update_order_known = bool(self._call(
                "CONNECT_SUPPORTS_FEATURE",
                {"feature": FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER})["supported"])
        if not self._update_order_known:
            command, section = section, command
        self._net("NETWORK_UPDATE", net, command=command, section=section,
                  parentIndex=parent_index, xml=xml, flags=flags)

    def network_create(self, net: NetworkRef) -> None:
        self._net("NETWORK_CREATE", net)

    def network_destroy(self, net: NetworkRef) -> None:
        self._net("NETWORK_DESTROY", net)

    def network_get_xml_desc(self, net: NetworkRef, flags: int = 0) -> str:
        return str(self._net("NETWORK_GET_XML_DESC", net, flags=flags)["xml"])

    def network_get_bridge_name(self, net: NetworkRef) -> str:
        return str(self._net("NETWORK_GET_BRIDGE_NAME", net)["name"])

    def network_get_autostart(self, net: NetworkRef) -> bool:
        return bool(self._net("NETWORK_GET_AUTOSTART", net)["autostart"])

    def network_set_autostart(self, net: NetworkRef, autostart: bool) -> None:
        self._net("NETWORK_SET_AUTOSTART", net, autostart=int(autostart))

    def network_is_active(self, net: NetworkRef) -> bool:
        return bool(self._net("NETWORK_IS_ACTIVE", net)["active"])

    def network_is_persistent(self, net: NetworkRef) -> bool:
        return bool(self._net("NETWORK_IS_PERSISTENT", net)["persistent"])

    def network_get_dhcp_leases(self, net: NetworkRef, mac: str | None,
                                flags: int = 0) -> list[DHCPLease]:
        ret = self._net("NETWORK_GET_DHCP_LEASES", net, mac=mac, need_results=1, flags=flags)
        return [_lease(x) for x in ret["leases"]]

    # Events -----------------------------------------------------------------------------

    def connect_network_event_register_any(self, net: NetworkRef | None, event_id: int,
                                           callback: NetworkEventCallback) -> int:
        # Under the lock: an event may arrive before its callback id is noted.
        with self._events_lock:
            ret = self._call("CONNECT_NETWORK_EVENT_REGISTER_ANY", {
                "eventID": event_id, "net": _net_wire(net) if net is not None else None})
            callback_id = int(ret["callbackID"])
            self._callbacks[callback_id] = callback
        return callback_id

    def connect_network_event_deregister_any(self, callback_id: int) -> None:
        with self._events_lock:
            if callback_id not in self._callbacks:
                raise InvalidArg(f"event callback id {callback_id} not registered",
                                 domain=ErrorDomain.NONE)
            self._call("CONNECT_NETWORK_EVENT_DEREGISTER_ANY", {"callbackID": callback_id})
            del self._callbacks[callback_id]

    def on_event(self, msg: Any) -> None:
        """NETWORK_EVENT_LIFECYCLE, on the RPC client's delivery thread."""
        with self._events_lock:
            callback = self._callbacks.get(msg["callbackID"])
        if callback is not None:
            callback(_net_ref(msg["net"]), C.VIR_NETWORK_EVENT_ID_LIFECYCLE, msg["event"],
                     msg["detail"])
