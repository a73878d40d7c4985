"""The test driver's virtual networks (test_driver.c's testNetwork*): definitions in memory,
started and stopped by a flag, with no bridge, dnsmasq or firewall behind them. What libvirt's
test driver lacks (DHCP leases, ports, the inactive XML) is refused as it refuses it.

A network keeps libvirt's two definitions: ``definition`` (virNetworkObj's def, the live one
while active) and ``next_definition`` (its newDef, the persistent config saved aside while a
live one is in use). The test driver never swaps them back on destroy, and neither does this.

Networks live with the node (shared by every test:///default connection); each connection
keeps its own event callbacks, dropped when it closes.
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field

from qvirt import constants as C
from qvirt.conf.network import OWN_BRIDGE_MODES, Bridge, Network
from qvirt.drivers.base import DHCPLease, NetworkEventCallback, NetworkRef
from qvirt.drivers.network import update
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

UPDATE_FLAGS = C.VIR_NETWORK_UPDATE_AFFECT_LIVE | C.VIR_NETWORK_UPDATE_AFFECT_CONFIG

# virCheckFlags of each entry point: (libvirt's function name, flags it accepts).
FLAGS: dict[str, tuple[str, int]] = {
    "list": ("testConnectListAllNetworks", 0x3F),
    "create": ("testNetworkCreateXMLFlags", C.VIR_NETWORK_CREATE_VALIDATE),
    "define": ("testNetworkDefineXMLFlags", C.VIR_NETWORK_DEFINE_VALIDATE),
    "update": ("testNetworkUpdate", UPDATE_FLAGS),
    "xml": ("testNetworkGetXMLDesc", 0),
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


def parse(xml: str, validate: bool = False) -> Network:
    """virNetworkDefParseString as the test driver calls it (no network driver behind it to
    name bridges or pick MACs): a UUID when none is given, and the bridge's STP and delay
    defaults for the modes that make their own bridge."""
    definition = Network.from_xml(xml, validate=validate)
    if definition.uuid is None:
        definition.uuid = str(uuidlib.uuid4())
    if definition.forward_mode in OWN_BRIDGE_MODES:
        if definition.bridge is None:
            definition.bridge = Bridge()
        if definition.bridge.stp is None:
            definition.bridge.stp = True
        if definition.bridge.delay is None:
            definition.bridge.delay = "0"
    return definition


@dataclass
class Net:
    """virNetworkObj as the test driver uses it."""

    definition: Network
    persistent: bool
    active: bool = False
    autostart: bool = False
    next_definition: Network | None = None

    @property
    def name(self) -> str:
        return str(self.definition.name)

    @property
    def uuid(self) -> str:
        return str(self.definition.uuid)

    def ref(self) -> NetworkRef:
        return NetworkRef(self.name, self.uuid)

    def persistent_definition(self) -> Network:
        """virNetworkObjGetPersistentDef."""
        return self.next_definition or self.definition


@dataclass
class NetworkState:
    """The node's networks and everyone's network event callbacks."""

    networks: list[Net] = field(default_factory=list)
    callbacks: dict[int, tuple[str | None, NetworkEventCallback]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def node_networks(documents: list[str]) -> NetworkState:
    """testParseNetworks: each network starts active and persistent, without autostart."""
    return NetworkState([Net(parse(xml), persistent=True, active=True) for xml in documents])


def _no_network(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_NETWORK, domain=ErrorDomain.TEST)


class TestNetwork:
    """One connection's view of the node's networks (NetworkDriver)."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, state: NetworkState, callback_id: Callable[[], int]) -> None:
        self._state = state
        # Event callback ids come from the node's one counter, domain events' too.
        self._callback_id = callback_id
        self._mine: set[int] = set()

    def close(self) -> None:
        with self._state.lock:
            for cid in self._mine:
                self._state.callbacks.pop(cid, None)
        self._mine.clear()

    # Finding networks --------------------------------------------------------------------------

    def _by_name(self, name: str) -> Net:
        with self._state.lock:
            for net in self._state.networks:
                if net.name == name:
                    return net
        raise _no_network(f"no network with matching name '{name}'")

    def _by_uuid(self, uuid: str) -> Net:
        with self._state.lock:
            for net in self._state.networks:
                if net.uuid == uuid:
                    return net
        raise _no_network(f"no network with matching uuid '{uuid}'")

    def connect_list_all_networks(self, flags: int = 0) -> list[NetworkRef]:
        _check_flags("list", flags)
        with self._state.lock:
            return [n.ref() for n in self._state.networks if _matches(n, flags)]

    def network_lookup_by_name(self, name: str) -> NetworkRef:
        return self._by_name(name).ref()

    def network_lookup_by_uuid(self, uuid: str) -> NetworkRef:
        return self._by_uuid(uuid).ref()

    # Lifecycle ---------------------------------------------------------------------------------

    def network_create_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        _check_flags("create", flags)
        definition = parse(xml, bool(flags & C.VIR_NETWORK_CREATE_VALIDATE))
        with self._state.lock:
            net = self._assign(definition, live=True)
            net.active = True
            ref = net.ref()
        self._emit(ref, C.VIR_NETWORK_EVENT_STARTED)
        return ref

    def network_define_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        _check_flags("define", flags)
        definition = parse(xml, bool(flags & C.VIR_NETWORK_DEFINE_VALIDATE))
        with self._state.lock:
            ref = self._assign(definition, live=False).ref()
        self._emit(ref, C.VIR_NETWORK_EVENT_DEFINED)
        return ref

    def _assign(self, definition: Network, live: bool) -> Net:
        """virNetworkObjAssignDef: a UUID and a name name one network; a live definition
        refuses an active network, a persistent one waits aside while the network runs."""
        for net in self._state.networks:
            if net.uuid != definition.uuid:
                continue
            if net.name != definition.name:
                raise OperationFailed(f"network '{net.name}' is already defined with uuid "
                                      f"{net.uuid}", domain=ErrorDomain.NETWORK)
            if live:
                if net.active:
                    raise OperationInvalid(f"network is already active as '{net.name}'",
                                           domain=ErrorDomain.NETWORK)
                if net.persistent and net.next_definition is None:
                    net.next_definition = net.definition
                net.definition = definition
            else:
                if net.active or (not net.persistent):
                    net.next_definition = definition
                else:
                    net.definition = definition
                net.persistent = True
            return net
        for net in self._state.networks:
            if net.name == definition.name:
                raise OperationFailed(f"network '{net.name}' already exists with uuid "
                                      f"{net.uuid}", domain=ErrorDomain.NETWORK)
        net = Net(definition, persistent=not live)
        self._state.networks.append(net)
        return net

    def network_undefine(self, net: NetworkRef) -> None:
        with self._state.lock:
            obj = self._by_name(net.name)
            if obj.active:
                raise OperationInvalid(f"Network '{net.name}' is still running",
                                       domain=ErrorDomain.TEST)
            self._state.networks.remove(obj)
        self._emit(net, C.VIR_NETWORK_EVENT_UNDEFINED)

    def network_create(self, net: NetworkRef) -> None:
        with self._state.lock:
            obj = self._by_name(net.name)
            if obj.active:
                raise OperationInvalid(f"Network '{net.name}' is already running",
                                       domain=ErrorDomain.TEST)
            obj.active = True
            ref = obj.ref()
        self._emit(ref, C.VIR_NETWORK_EVENT_STARTED)

    def network_destroy(self, net: NetworkRef) -> None:
        """testNetworkDestroy: an inactive network is "destroyed" again without complaint."""
        with self._state.lock:
            obj = self._by_name(net.name)
            obj.active = False
            ref = obj.ref()
            if not obj.persistent:
                self._state.networks.remove(obj)
        self._emit(ref, C.VIR_NETWORK_EVENT_STOPPED)

    def network_update(self, net: NetworkRef, command: int, section: int, parent_index: int,
                       xml: str, flags: int = 0) -> None:
        """testNetworkUpdate, virNetworkObjUpdate: both copies changed before either is
        kept."""
        _check_flags("update", flags)
        with self._state.lock:
            obj = self._by_uuid(net.uuid)
            if not flags & UPDATE_FLAGS:
                flags |= C.VIR_NETWORK_UPDATE_AFFECT_LIVE if obj.active \
                    else C.VIR_NETWORK_UPDATE_AFFECT_CONFIG
            if flags & C.VIR_NETWORK_UPDATE_AFFECT_LIVE and not obj.active:
                raise OperationInvalid("network is not running", domain=ErrorDomain.NETWORK)
            if flags & C.VIR_NETWORK_UPDATE_AFFECT_CONFIG:
                if not obj.persistent:
                    raise OperationInvalid("cannot change persistent config of a transient "
                                           "network", domain=ErrorDomain.NETWORK)
                if obj.active and obj.next_definition is None:
                    obj.next_definition = obj.definition.copy()
            live = update.apply(obj.definition, command, section, parent_index, xml) \
                if flags & C.VIR_NETWORK_UPDATE_AFFECT_LIVE else None
            config = update.apply(obj.persistent_definition(), command, section,
                                  parent_index, xml) \
                if flags & C.VIR_NETWORK_UPDATE_AFFECT_CONFIG else None
            if config is not None:
                # virNetworkObjReplacePersistentDef: an inactive network's config is its
                # definition (what it saved aside stays aside).
                if obj.active:
                    obj.next_definition = config
                else:
                    obj.definition = config
            if live is not None:
                obj.definition = live

    # Information -------------------------------------------------------------------------------

    def network_get_xml_desc(self, net: NetworkRef, flags: int = 0) -> str:
        _check_flags("xml", flags)
        return str(self._by_name(net.name).definition.to_xml())

    def network_get_bridge_name(self, net: NetworkRef) -> str:
        definition = self._by_name(net.name).definition
        bridge = definition.bridge.name if definition.bridge is not None else None
        if not bridge:
            raise InternalError(f"network '{definition.name}' does not have a bridge name.",
                                domain=ErrorDomain.TEST)
        return str(bridge)

    def network_get_autostart(self, net: NetworkRef) -> bool:
        return self._by_name(net.name).autostart

    def network_set_autostart(self, net: NetworkRef, autostart: bool) -> None:
        """testNetworkSetAutostart: a transient network takes the mark too."""
        self._by_name(net.name).autostart = autostart

    def network_is_active(self, net: NetworkRef) -> bool:
        return self._by_uuid(net.uuid).active

    def network_is_persistent(self, net: NetworkRef) -> bool:
        return self._by_uuid(net.uuid).persistent

    def network_get_dhcp_leases(self, net: NetworkRef, mac: str | None,
                                flags: int = 0) -> list[DHCPLease]:
        raise NoSupport("virNetworkGetDHCPLeases", domain=ErrorDomain.NETWORK)

    # Events ------------------------------------------------------------------------------------

    def connect_network_event_register_any(self, net: NetworkRef | None, event_id: int,
                                           callback: NetworkEventCallback) -> int:
        if event_id != C.VIR_NETWORK_EVENT_ID_LIFECYCLE:
            raise InvalidArg(f"unsupported network event ID {event_id}",
                             domain=ErrorDomain.NETWORK)
        uuid = net.uuid if net else None
        with self._state.lock:
            # libvirt-python hands libvirt one C callback per event id, so a connection's
            # second registration for the same network is a duplicate to libvirt.
            if any(self._state.callbacks[cid][0] == uuid for cid in self._mine):
                raise InvalidArg("event callback already tracked", domain=ErrorDomain.NONE)
            cid = self._callback_id()
            self._state.callbacks[cid] = (uuid, callback)
            self._mine.add(cid)
            return cid

    def connect_network_event_deregister_any(self, callback_id: int) -> None:
        with self._state.lock:
            if callback_id not in self._mine:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.NONE)
            self._mine.discard(callback_id)
            self._state.callbacks.pop(callback_id, None)

    def _emit(self, ref: NetworkRef, event: int) -> None:
        with self._state.lock:
            wanted = [cb for uuid, cb in self._state.callbacks.values()
                      if uuid in (None, ref.uuid)]
        for callback in wanted:
            callback(ref, C.VIR_NETWORK_EVENT_ID_LIFECYCLE, event, 0)


# Listing filters: a network passes a group when the group is not asked for or one of its
# asked-for flags matches (virNetworkMatch).
_FILTERS: tuple[tuple[tuple[int, Callable[[Net], bool]], ...], ...] = (
    ((C.VIR_CONNECT_LIST_NETWORKS_ACTIVE, lambda n: n.active),
     (C.VIR_CONNECT_LIST_NETWORKS_INACTIVE, lambda n: not n.active)),
    ((C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT, lambda n: n.persistent),
     (C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT, lambda n: not n.persistent)),
    ((C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART, lambda n: n.autostart),
     (C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART, lambda n: not n.autostart)),
)


def _matches(net: Net, flags: int) -> bool:
    for group in _FILTERS:
        asked = [test for flag, test in group if flags & flag]
        if asked and not any(test(net) for test in asked):
            return False
    return True
