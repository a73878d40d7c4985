"""One client's event registrations (libvirtd's daemonClientEventCallback lists): domain
events and, at the end, storage pool and network events.

Each registration the client makes is one registration with the driver, whose callback turns
the driver's event into a MESSAGE frame for this client alone: the callback form (procedure
316) names its registration in every message and may filter on one domain; the legacy form
(167) sends the bare message. The driver reports events on a thread of its own, so frames
leave through ``push``, which hands them to the connection's loop. Registrations die with
the connection (``clear``), as libvirtd drops a client's callbacks when it goes.

Drivers report lifecycle events only, so far. Registrations for the other event ids are
accepted, as libvirtd accepts them, and stay silent until their events exist.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qvirt import constants as C
from qvirt.daemon.wire import net_wire, pool_wire, to_wire
from qvirt.drivers.base import DomainRef, NetworkRef, StoragePoolRef
from qvirt.errors import ErrorDomain, InternalError, QvirtError
from qvirt.rpc.remote import BY_NAME, event_frame

# libvirt 9.0's VIR_DOMAIN_EVENT_ID_LAST; the legacy calls stop where they were frozen, at the
# ids that existed before callback ids did (remoteDispatchConnectDomainEventRegisterAny).
EVENT_ID_LAST = C.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE + 1
LEGACY_EVENT_ID_LAST = C.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED + 1

# event id -> the MESSAGE procedures carrying it: (legacy form, callback form).
MESSAGES = {
    C.VIR_DOMAIN_EVENT_ID_LIFECYCLE: (BY_NAME["DOMAIN_EVENT_LIFECYCLE"],
                                      BY_NAME["DOMAIN_EVENT_CALLBACK_LIFECYCLE"]),
}

Push = Callable[[bytes], None]
Api = Callable[..., Any]


@dataclass
class Registration:
    event_id: int
    uuid: str | None        # only this domain's events, when the client named one
    legacy: bool
    callback_id: int = -1   # the driver's id, once it has answered; events before are dropped


class ClientEvents:
    """The registrations of one client; calls come from its worker threads, events from the
    driver's thread, so the list is guarded by a lock."""

    def __init__(self, api: Api, push: Push) -> None:
        self._api = api
        self._push = push
        self._lock = threading.Lock()
        self._registrations: list[Registration] = []

    def register(self, event_id: int, dom: DomainRef | None, legacy: bool) -> int:
        limit = LEGACY_EVENT_ID_LAST if legacy else EVENT_ID_LAST
        if not 0 <= event_id < limit:
            raise InternalError(f"unsupported event ID {event_id}", domain=ErrorDomain.RPC)
        reg = Registration(event_id, dom.uuid if dom is not None else None, legacy)
        with self._lock:
            reg.callback_id = self._api(
                "virConnectDomainEventRegisterAny",
                lambda d, event, detail: self._relay(reg, d, event, detail))
            self._registrations.append(reg)
        return reg.callback_id

    def deregister(self, callback_id: int) -> None:
        """CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: by the id register returned."""
        self._drop(lambda r: r.callback_id == callback_id,
                   f"domain event callback {callback_id} not registered")

    def deregister_legacy(self, event_id: int) -> None:
        """CONNECT_DOMAIN_EVENT_DEREGISTER_ANY: the first registration for ``event_id``."""
        if not 0 <= event_id < LEGACY_EVENT_ID_LAST:
            raise InternalError(f"unsupported event ID {event_id}", domain=ErrorDomain.RPC)
        self._drop(lambda r: r.event_id == event_id, f"domain event {event_id} not registered")

    def _drop(self, match: Callable[[Registration], bool], missing: str) -> None:
        with self._lock:
            reg = next((r for r in self._registrations if match(r)), None)
            if reg is None:
                raise InternalError(missing, domain=ErrorDomain.RPC)
            self._api("virConnectDomainEventDeregisterAny", reg.callback_id)
            self._registrations.remove(reg)

    def clear(self) -> None:
        """Every registration dropped: the client closed or went away."""
        with self._lock:
            registrations, self._registrations = self._registrations, []
            for reg in registrations:
                with contextlib.suppress(QvirtError):
                    self._api("virConnectDomainEventDeregisterAny", reg.callback_id)

    def _relay(self, reg: Registration, dom: DomainRef, event: int, detail: int) -> None:
        """The driver's callback (its own thread): this client's frame, if the event is for it."""
        procedures = MESSAGES.get(reg.event_id)
        if reg.callback_id < 0 or procedures is None or reg.uuid not in (None, dom.uuid):
            return
        msg = {"dom": to_wire(dom), "event": event, "detail": detail}
        legacy, callback = procedures
        if reg.legacy:
            self._push(event_frame(legacy, msg))
        else:
            self._push(event_frame(callback, {"callbackID": reg.callback_id, "msg": msg}))


# Storage pool events (VIR_STORAGE_POOL_EVENT_ID_*) -> the MESSAGE procedure carrying each.
POOL_MESSAGES = {
    C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE: BY_NAME["STORAGE_POOL_EVENT_LIFECYCLE"],
    C.VIR_STORAGE_POOL_EVENT_ID_REFRESH: BY_NAME["STORAGE_POOL_EVENT_REFRESH"],
}


class PoolEvents:
    """One client's storage pool event registrations (callback ids only: pool events were
    born after the legacy form). The driver filters on the pool the client named, as
    libvirt's storage driver does; its callback runs on the driver's thread."""

    def __init__(self, api: Api, push: Push) -> None:
        self._api = api
        self._push = push
        self._lock = threading.Lock()
        self._ids: list[int] = []

    def register(self, event_id: int, pool: StoragePoolRef | None) -> int:
        procedure = POOL_MESSAGES.get(event_id)
        if procedure is None:
            raise InternalError(f"unsupported storage pool event ID {event_id}",
                                domain=ErrorDomain.RPC)
        ready = threading.Event()
        ids: list[int] = []

        def relay(ref: StoragePoolRef, got_id: int, event: int, detail: int) -> None:
            if not ready.is_set():
                return
            msg: dict[str, Any] = {"callbackID": ids[0], "pool": pool_wire(ref)}
            if got_id == C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE:
                msg.update(event=event, detail=detail)
            self._push(event_frame(procedure, msg))

        with self._lock:
            callback_id: int = self._api("virConnectStoragePoolEventRegisterAny", pool,
                                         event_id, relay)
            ids.append(callback_id)
            ready.set()
            self._ids.append(callback_id)
        return callback_id

    def deregister(self, callback_id: int) -> None:
        with self._lock:
            if callback_id not in self._ids:
                raise InternalError(f"storage pool event callback {callback_id} not registered",
                                    domain=ErrorDomain.RPC)
            self._api("virConnectStoragePoolEventDeregisterAny", callback_id)
            self._ids.remove(callback_id)

    def clear(self) -> None:
        with self._lock:
            ids, self._ids = self._ids, []
            for callback_id in ids:
                with contextlib.suppress(QvirtError):
                    self._api("virConnectStoragePoolEventDeregisterAny", callback_id)



class NetworkEvents:
    """One client's network event registrations (callback ids only, as for pools; lifecycle
    is the one network event id). The driver filters on the network the client named; its
    callback runs on whichever thread changed the network."""

    def __init__(self, api: Api, push: Push) -> None:
        self._api = api
        self._push = push
        self._lock = threading.Lock()
        self._ids: list[int] = []

    def register(self, event_id: int, net: NetworkRef | None) -> int:
        if event_id != C.VIR_NETWORK_EVENT_ID_LIFECYCLE:
            raise InternalError(f"unsupported network event ID {event_id}",
                                domain=ErrorDomain.RPC)
        procedure = BY_NAME["NETWORK_EVENT_LIFECYCLE"]
        ready = threading.Event()
        ids: list[int] = []

        def relay(ref: NetworkRef, got_id: int, event: int, detail: int) -> None:
            if ready.is_set():
                self._push(event_frame(procedure, {"callbackID": ids[0], "net": net_wire(ref),
                                                   "event": event, "detail": detail}))

        with self._lock:
            callback_id: int = self._api("virConnectNetworkEventRegisterAny", net, event_id,
                                         relay)
            ids.append(callback_id)
            ready.set()
            self._ids.append(callback_id)
        return callback_id

    def deregister(self, callback_id: int) -> None:
        with self._lock:
            if callback_id not in self._ids:
                raise InternalError(f"network event callback {callback_id} not registered",
                                    domain=ErrorDomain.RPC)
            self._api("virConnectNetworkEventDeregisterAny", callback_id)
            self._ids.remove(callback_id)

    def clear(self) -> None:
        with self._lock:
            ids, self._ids = self._ids, []
            for callback_id in ids:
                with contextlib.suppress(QvirtError):
                    self._api("virConnectNetworkEventDeregisterAny", callback_id)
