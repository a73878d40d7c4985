"""The network driver (libvirt's bridge_driver.c): definitions on disk, running networks'
live XML in the state directory, lifecycle events, updates, DHCP leases, and the guest
ports the QEMU driver plugs into networks.

Calls are synchronous and serialized by one lock; the host work (netlink, nft, dnsmasq)
runs in the caller's thread, and so in its network namespace."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from qvirt import constants as C
from qvirt.conf.network import (
    OWN_BRIDGE_MODES,
    Network,
    apply_defaults,
    without_driver_rules,
)
from qvirt.drivers.base import DHCPLease, NetworkEventCallback, NetworkRef
from qvirt.drivers.network import dnsmasq, leases, lifecycle, netdev, update
from qvirt.drivers.network.default import DEFAULT_XML
from qvirt.drivers.network.objects import NetObj
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InternalError,
    InvalidArg,
    OperationFailed,
    OperationInvalid,
    QvirtError,
)
from qvirt.util.fileio import atomic_write, remove

log = logging.getLogger(__name__)

LIST_FLAGS = (C.VIR_CONNECT_LIST_NETWORKS_INACTIVE | C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
              | C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT | C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT
              | C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART | C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART)
UPDATE_FLAGS = C.VIR_NETWORK_UPDATE_AFFECT_LIVE | C.VIR_NETWORK_UPDATE_AFFECT_CONFIG
MACVTAP_MODES = ("bridge", "private", "vepa", "passthrough")


def no_network(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_NETWORK, domain=ErrorDomain.NETWORK)


def _invalid(detail: str) -> QvirtError:
    return OperationInvalid(detail, domain=ErrorDomain.NETWORK)


def _check_flags(flags: int, allowed: int, func: str) -> None:
    if flags & ~allowed:
        raise InvalidArg(f"unsupported flags (0x{flags & ~allowed:x}) in function {func}",
                         domain=ErrorDomain.NETWORK)


@dataclass(frozen=True)
class Port:
    """Where a guest NIC of type network plugs in: a bridge, or (macvtap pools) a host
    device in a macvtap mode."""

    network: str
    bridge: str | None
    dev: str | None = None
    mode: str | None = None


class LocalNetworkDriver:
    """NetworkDriver over the host's (or the namespace's) own network devices."""

    def __init__(self, paths: NetworkPaths, *, ship_default: bool = False) -> None:
        self.paths = paths
        fresh = not paths.config_dir.exists()
        paths.make_dirs()
        self._lock = threading.RLock()
        self._nets: dict[str, NetObj] = {}       # by name
        self._callbacks: dict[int, tuple[str | None, NetworkEventCallback]] = {}
        self._next_callback = 1
        with self._lock:
            self._load()
            if fresh and ship_default and "default" not in self._nets:
                self._define(Network.from_xml(DEFAULT_XML))
                self._set_autostart(self._nets["default"], True)
            self._autostart()

    # Loading -----------------------------------------------------------------------------

    def _load(self) -> None:
        with without_driver_rules():
            self._load_files()

    def _load_files(self) -> None:
        for path in sorted(self.paths.config_dir.glob("*.xml")):
            try:
                net = Network.from_xml(path.read_text())
            except (OSError, QvirtError) as err:
                log.error("skipping network config %s: %s", path, err)
                continue
            self._nets[str(net.name)] = NetObj(
                net, autostart=self.paths.autostart_link(str(net.name)).exists())
        for path in sorted(self.paths.state_dir.glob("*.xml")):
            try:
                live = Network.from_xml(path.read_text())
            except (OSError, QvirtError) as err:
                log.error("skipping network state %s: %s", path, err)
                continue
            name = str(live.name)
            if not lifecycle.still_up(live):
                lifecycle.stop(live, self.paths)
                remove(path)
                continue
            obj = self._nets.setdefault(name, NetObj(None))
            obj.live = live
            obj.dnsmasq_pid = dnsmasq.read_pid(self.paths.pid(name))

    def _autostart(self) -> None:
        for obj in list(self._nets.values()):
            if obj.autostart and not obj.active:
                try:
                    self._start(obj)
                except QvirtError as err:
                    log.error("autostart of network '%s' failed: %s", obj.name, err)

    def close(self) -> None:
        """Networks outlive the driver, as they outlive libvirtd."""
        with self._lock:
            self._callbacks.clear()

    # Events ------------------------------------------------------------------------------

    def _emit(self, obj: NetObj, event: int) -> None:
        ref = obj.ref()
        for name, callback in list(self._callbacks.values()):
            if name is None or name == ref.name:
                try:
                    callback(ref, C.VIR_NETWORK_EVENT_ID_LIFECYCLE, event, 0)
                except Exception:  # a listener's failure is its own
                    log.exception("network event callback failed")

    def connect_network_event_register_any(self, net: NetworkRef | None, event_id: int,
                                           callback: NetworkEventCallback) -> int:
        if event_id != C.VIR_NETWORK_EVENT_ID_LIFECYCLE:
            raise InvalidArg(f"unsupported event ID {event_id}")
        with self._lock:
            callback_id = self._next_callback
            self._next_callback += 1
            self._callbacks[callback_id] = (net.name if net else None, callback)
            return callback_id

    def connect_network_event_deregister_any(self, callback_id: int) -> None:
        with self._lock:
            if self._callbacks.pop(callback_id, None) is None:
                raise InvalidArg(f"event callback {callback_id} is not registered")

    # Look-ups ----------------------------------------------------------------------------

    def _obj(self, ref: NetworkRef) -> NetObj:
        """networkObjFromNetwork: by UUID, named in the error by the caller's name."""
        for obj in self._nets.values():
            if obj.uuid == ref.uuid:
                return obj
        raise no_network(f"no network with matching uuid '{ref.uuid}' ({ref.name})")

    def connect_list_all_networks(self, flags: int = 0) -> list[NetworkRef]:
        _check_flags(flags, LIST_FLAGS, "connect_list_all_networks")
        with self._lock:
            return sorted((o.ref() for o in self._nets.values() if _matches(o, flags)),
                          key=lambda r: r.name)

    def network_lookup_by_name(self, name: str) -> NetworkRef:
        with self._lock:
            obj = self._nets.get(name)
            if obj is None:
                raise no_network(f"no network with matching name '{name}'")
            return obj.ref()

    def network_lookup_by_uuid(self, uuid: str) -> NetworkRef:
        with self._lock:
            for obj in self._nets.values():
                if obj.uuid == uuid:
                    return obj.ref()
        raise no_network(f"no network with matching uuid '{uuid}'")

    def network_is_active(self, net: NetworkRef) -> bool:
        with self._lock:
            return self._obj(net).active

    def network_is_persistent(self, net: NetworkRef) -> bool:
        with self._lock:
            return self._obj(net).persistent

    def network_get_autostart(self, net: NetworkRef) -> bool:
        with self._lock:
            return self._obj(net).autostart

    def network_get_bridge_name(self, net: NetworkRef) -> str:
        with self._lock:
            obj = self._obj(net)
            bridge = obj.definition.bridge
            if bridge is None or not bridge.name:
                raise InternalError(f"network '{obj.name}' does not have a bridge name.",
                                    domain=ErrorDomain.NETWORK)
            return str(bridge.name)

    def network_get_xml_desc(self, net: NetworkRef, flags: int = 0) -> str:
        _check_flags(flags, C.VIR_NETWORK_XML_INACTIVE, "network_get_xml_desc")
        with self._lock:
            obj = self._obj(net)
            if flags & C.VIR_NETWORK_XML_INACTIVE:
                return obj.inactive_definition().to_xml()
            if not obj.connections:
                return obj.definition.to_xml()
            # A running network with guests plugged in says how many, first of all.
            node = obj.definition.to_node()
            node.attrs = {"connections": str(obj.connections), **node.attrs}
            return node.to_string()

    # Definitions -------------------------------------------------------------------------

    def _parse(self, xml: str, flags: int, validate_flag: int) -> Network:
        return Network.from_xml(xml, validate=bool(flags & validate_flag))

    def _used_bridges(self, name: str) -> set[str]:
        return {str(o.definition.bridge.name) for o in self._nets.values()
                if o.name != name and o.definition.bridge is not None
                and o.definition.bridge.name}

    def _assign(self, net: Network, *, check_live: bool) -> NetObj | None:
        """virNetworkObjAssignDef's checks: a name and a UUID belong to one network. Returns
        the network already holding them, if any."""
        name = str(net.name)
        for obj in self._nets.values():
            if net.uuid is not None and obj.uuid == net.uuid:
                if obj.name != name:
                    raise OperationFailed(f"network '{obj.name}' is already defined with uuid "
                                          f"{net.uuid}", domain=ErrorDomain.NETWORK)
                if check_live and obj.active:
                    raise _invalid(f"network is already active as '{name}'")
                return obj
        existing = self._nets.get(name)
        if existing is not None:
            raise OperationFailed(f"network '{name}' already exists with uuid {existing.uuid}",
                                  domain=ErrorDomain.NETWORK)
        return None

    def _fill(self, net: Network) -> None:
        """networkValidate's naming: a bridge name of its own, unique among networks (and
        for generated names, host devices)."""
        name = str(net.name)
        used = self._used_bridges(name)
        bridge = net.bridge.name if net.bridge else None
        if bridge and "%d" not in bridge and bridge in used:
            raise InternalError(f"bridge name '{bridge}' already in use.",
                                domain=ErrorDomain.NETWORK)
        host = netdev.names() if not bridge or "%d" in bridge else set()
        apply_defaults(net, used | host)

    def network_define_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        _check_flags(flags, C.VIR_NETWORK_DEFINE_VALIDATE, "network_define_xml_flags")
        net = self._parse(xml, flags, C.VIR_NETWORK_DEFINE_VALIDATE)
        with self._lock:
            obj = self._define(net)
            ref = obj.ref()
        return ref

    def _define(self, net: Network) -> NetObj:
        existing = self._assign(net, check_live=False)
        if existing is not None and net.uuid is None:
            net.uuid = existing.uuid
        self._fill(net)
        atomic_write(self.paths.config(str(net.name)), net.to_xml())
        if existing is None:
            obj = NetObj(net)
            self._nets[str(net.name)] = obj
        else:
            obj = existing
            obj.config = net
        self._emit(obj, C.VIR_NETWORK_EVENT_DEFINED)
        return obj

    def network_undefine(self, net: NetworkRef) -> None:
        with self._lock:
            obj = self._obj(net)
            if not obj.persistent:
                raise _invalid("can't undefine transient network")
            remove(self.paths.config(obj.name))
            self._set_autostart(obj, False)
            self._emit(obj, C.VIR_NETWORK_EVENT_UNDEFINED)
            if not obj.active:
                self._forget(obj)
            obj.config = None

    def network_create_xml_flags(self, xml: str, flags: int = 0) -> NetworkRef:
        _check_flags(flags, C.VIR_NETWORK_CREATE_VALIDATE, "network_create_xml_flags")
        net = self._parse(xml, flags, C.VIR_NETWORK_CREATE_VALIDATE)
        with self._lock:
            existing = self._assign(net, check_live=True)
            self._fill(net)
            obj = existing or NetObj(None)
            self._start(obj, net)
            self._nets[obj.name] = obj
            return obj.ref()

    # Lifecycle ---------------------------------------------------------------------------

    def network_create(self, net: NetworkRef) -> None:
        with self._lock:
            obj = self._obj(net)
            if obj.active:
                raise _invalid("network is already active")
            self._start(obj)

    def _start(self, obj: NetObj, transient: Network | None = None) -> None:
        source = transient or obj.config
        assert source is not None
        live = source.copy()
        obj.dnsmasq_pid = lifecycle.start(live, self.paths)
        obj.live = live
        atomic_write(self.paths.state(obj.name), live.to_xml())
        self._emit(obj, C.VIR_NETWORK_EVENT_STARTED)

    def network_destroy(self, net: NetworkRef) -> None:
        """libvirt 9.0 destroys a network with guests plugged in too: their taps stay, off
        any bridge, until the guests stop."""
        with self._lock:
            obj = self._obj(net)
            if not obj.active:
                raise _invalid(f"network '{obj.name}' is not active")
            self._stop(obj)

    def _stop(self, obj: NetObj) -> None:
        assert obj.live is not None
        lifecycle.stop(obj.live, self.paths)
        remove(self.paths.state(obj.name))
        self._emit(obj, C.VIR_NETWORK_EVENT_STOPPED)
        if not obj.persistent:
            self._forget(obj)
        obj.live, obj.dnsmasq_pid = None, None
        obj.ports.clear()

    def _forget(self, obj: NetObj) -> None:
        """networkRemoveInactive: the network gone, its leases with it. A network that is
        only stopped keeps them (libvirt's lease status file stays), so net-dhcp-leases
        still lists them and dnsmasq, started again, gives each guest its old address
        without first probing it."""
        remove(self.paths.dnsmasq(obj.name, "leases"))
        del self._nets[obj.name]

    def network_set_autostart(self, net: NetworkRef, autostart: bool) -> None:
        with self._lock:
            obj = self._obj(net)
            if not obj.persistent:
                raise _invalid("cannot set autostart for transient network")
            self._set_autostart(obj, autostart)

    def _set_autostart(self, obj: NetObj, autostart: bool) -> None:
        link = self.paths.autostart_link(obj.name)
        if autostart and not link.is_symlink():
            link.symlink_to(self.paths.config(obj.name))
        elif not autostart:
            remove(link)
        obj.autostart = autostart

    # Updates and leases ------------------------------------------------------------------

    def network_update(self, net: NetworkRef, command: int, section: int, parent_index: int,
                       xml: str, flags: int = 0) -> None:
        _check_flags(flags, UPDATE_FLAGS, "network_update")
        with self._lock:
            obj = self._obj(net)
            if not flags & UPDATE_FLAGS:
                flags = C.VIR_NETWORK_UPDATE_AFFECT_LIVE if obj.active \
                    else C.VIR_NETWORK_UPDATE_AFFECT_CONFIG
            if flags & C.VIR_NETWORK_UPDATE_AFFECT_LIVE and not obj.active:
                raise _invalid("network is not running")
            if flags & C.VIR_NETWORK_UPDATE_AFFECT_CONFIG and not obj.persistent:
                raise _invalid("cannot change persistent config of a transient network")
            # Both changes are made before either is kept: all or nothing.
            new_config = update.apply(obj.config, command, section, parent_index, xml) \
                if flags & C.VIR_NETWORK_UPDATE_AFFECT_CONFIG and obj.config else None
            new_live = update.apply(obj.live, command, section, parent_index, xml) \
                if flags & C.VIR_NETWORK_UPDATE_AFFECT_LIVE and obj.live else None
            if new_config is not None:
                atomic_write(self.paths.config(obj.name), new_config.to_xml())
                obj.config = new_config
            if new_live is not None:
                obj.live = new_live
                atomic_write(self.paths.state(obj.name), new_live.to_xml())
                self._refresh(obj, section)

    def _refresh(self, obj: NetObj, section: int) -> None:
        """networkUpdate's follow-up on a running network: dnsmasq rereads its hosts files,
        or restarts for a change to its config."""
        live = obj.live
        assert live is not None
        if not dnsmasq.needs_dnsmasq(live):
            return
        if section in update.HOSTS_SECTIONS:
            dnsmasq.reload(live, self.paths)
        elif section in update.DNSMASQ_SECTIONS:
            dnsmasq.stop(obj.name, self.paths)
            obj.dnsmasq_pid = dnsmasq.start(live, self.paths)

    def network_get_dhcp_leases(self, net: NetworkRef, mac: str | None,
                                flags: int = 0) -> list[DHCPLease]:
        _check_flags(flags, 0, "network_get_dhcp_leases")
        with self._lock:
            # A stopped network's leases too: they outlive net-destroy (_forget).
            obj = self._obj(net)
            return leases.read(self.paths.dnsmasq(obj.name, "leases"), obj.definition, mac)

    # Guest ports (for the QEMU driver) ---------------------------------------------------

    def plug(self, name: str, portgroup: str | None = None) -> Port:
        """networkAllocatePort: where a guest NIC of this network goes."""
        with self._lock:
            obj = self._nets.get(name)
            if obj is None:
                raise no_network(f"no network with matching name '{name}'")
            live = obj.live
            if live is None:
                raise _invalid(f"network '{name}' is not active")
            mode = live.forward_mode
            if mode in OWN_BRIDGE_MODES or (mode == "bridge" and live.bridge is not None
                                           and live.bridge.name):
                assert live.bridge is not None
                obj.ports[""] += 1
                return Port(name, str(live.bridge.name))
            if mode in MACVTAP_MODES:
                dev = self._pick_dev(obj, live, str(mode))
                obj.ports[dev] += 1
                return Port(name, None, dev, str(mode))
            raise QvirtError(f"network '{name}' uses forward mode '{mode}', which qvirt "
                             "cannot plug guests into", code=ErrorNumber.CONFIG_UNSUPPORTED,
                             domain=ErrorDomain.NETWORK)

    def reclaim(self, name: str, dev: str | None) -> Port | None:
        """A port a guest holds from before this driver started (networkNotifyPort): counted
        again; None when the network no longer runs."""
        with self._lock:
            obj = self._nets.get(name)
            if obj is None or obj.live is None:
                return None
            obj.ports[dev or ""] += 1
            bridge = obj.live.bridge.name if obj.live.bridge is not None and dev is None \
                else None
            return Port(name, str(bridge) if bridge else None, dev)

    @staticmethod
    def _pick_dev(obj: NetObj, live: Network, mode: str) -> str:
        """The pool's least used device; passthrough hands each device to one guest."""
        devs = [str(i.dev) for i in live.forward.interfaces] if live.forward else []
        if not devs:
            raise InternalError(f"network '{live.name}' uses a direct mode, but has no "
                                "forward dev and no interface pool")
        free = [d for d in devs if mode != "passthrough" or not obj.ports[d]]
        if not free:
            raise InternalError(f"network '{live.name}' requires exclusive access to "
                                "interfaces, but none are available")
        return min(free, key=lambda d: obj.ports[d])

    def unplug(self, network: str, dev: str | None) -> None:
        """networkReleasePort: ``dev`` the pool device a macvtap port used (None: a bridge
        port)."""
        with self._lock:
            obj = self._nets.get(network)
            key = dev or ""
            if obj is not None and obj.ports[key] > 0:
                obj.ports[key] -= 1


def _matches(obj: NetObj, flags: int) -> bool:
    def pair(yes: int, no: int, value: bool) -> bool:
        if flags & (yes | no) in (0, yes | no):
            return True
        return value if flags & yes else not value
    return (pair(C.VIR_CONNECT_LIST_NETWORKS_ACTIVE, C.VIR_CONNECT_LIST_NETWORKS_INACTIVE,
                 obj.active)
            and pair(C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT,
                     C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT, obj.persistent)
            and pair(C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART,
                     C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART, obj.autostart))

