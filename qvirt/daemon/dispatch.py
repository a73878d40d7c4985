"""REMOTE program procedure -> handler, each a thin adapter from wire shapes to the public
API's single call path (qvirt.client.entry.call) on the daemon's driver.

Every client of one qvirtd shares one driver (the QEMU driver holds an exclusive lock on its
root), so a client is a ``Session``: the shared driver, whether the client came in on the
read-only socket, the URI it asked for, and its event registrations. The read-only filter is
entry.call's own, so the refusal text is libvirt's ("read only access prevents
virDomainDefineXMLFlags"), named after the API the procedure stands for, as libvirtd's
libvirt.c check names it. A stream-opening procedure's handler returns the device the
connection then relays (daemon/streams.py).
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qvirt import constants as C
from qvirt.client import entry
from qvirt.client.api import LIB_VERSION
from qvirt.daemon import network, storage
from qvirt.daemon.events import ClientEvents, NetworkEvents, PoolEvents, Push
from qvirt.daemon.wire import to_chars, to_ref, to_wire, to_wire_list
from qvirt.drivers.base import DomainRef, HypervisorDriver
from qvirt.errors import ErrorDomain, InternalError, QvirtError
from qvirt.rpc.errors import RPCError
from qvirt.rpc.packet import Header, Message, MessageType, Status
from qvirt.rpc.remote import (
    PROCEDURES,
    REMOTE_DOMAIN_LIST_MAX,
    REMOTE_NODE_CPU_STATS_MAX,
    REMOTE_NODE_MAX_CELLS,
    REMOTE_NODE_MEMORY_STATS_MAX,
    AuthType,
    Procedure,
    decode_call,
)

# driver.h's feature numbers virsh and libvirt-python ask about.
FEATURE_PROGRAM_KEEPALIVE = 10
FEATURE_REMOTE_EVENT_CALLBACK = 14
FEATURE_REMOTE_CLOSE_CALLBACK = 15
FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER = 16
# The features of the protocol itself that qvirtd serves: keepalive, events by callback id
# (procedures 316-318) and close callbacks (360, 361); and NETWORK_UPDATE's args in their
# declared order (a client that finds the feature missing swaps command and section, as
# libvirt.c's virNetworkUpdate has since 0.10.2; libvirtd 9.0 has it). Every other feature
# is a driver's (migration and the like) and none of those exists yet.
SERVED_FEATURES = frozenset({FEATURE_PROGRAM_KEEPALIVE, FEATURE_REMOTE_EVENT_CALLBACK,
                             FEATURE_REMOTE_CLOSE_CALLBACK,
                             FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER})

# libvirtd opens the URI the client named; qvirtd always serves its own root and reports the
# name the client gave, or this one for a NULL name (what libvirtd's probe picks as root).
DEFAULT_URI = "qemu:///system"


@dataclass
class Session:
    """One client's view of the daemon: the shared driver once CONNECT_OPEN has run, and
    what the client registered on it."""

    driver: HypervisorDriver
    read_only: bool
    push: Push                         # a frame to this client, from any thread
    uri: str | None = None
    # Auth "none" still takes an AUTH_LIST call to complete, as under libvirtd.
    authenticated: bool = False
    opened: bool = False
    # CONNECT_CLOSE ends the connection once its reply is out.
    closed: bool = False
    events: ClientEvents = field(init=False)
    pool_events: PoolEvents = field(init=False)
    net_events: NetworkEvents = field(init=False)

    def __post_init__(self) -> None:
        self.events = ClientEvents(self.api, self.push)
        self.pool_events = PoolEvents(self.api, self.push)
        self.net_events = NetworkEvents(self.api, self.push)

    def clear_events(self) -> None:
        """Every event registration dropped: the client closed or went away."""
        self.events.clear()
        self.pool_events.clear()
        self.net_events.clear()

    def api(self, name: str, *args: Any) -> Any:
        """The public API's call path; errors stay in the daemon's reply, not a handler."""
        return entry.call(self.driver, self.read_only, name, *args, quiet=True)


Handler = Callable[[Session, Any], Any]


def _dom_ret(ref: DomainRef) -> dict[str, Any]:
    return {"dom": to_wire(ref)}


def _check_max(value: int, what: str) -> None:
    """remoteDispatch*'s bound on a caller's buffer size, with its text."""
    if value > REMOTE_DOMAIN_LIST_MAX:
        raise RPCError(f"{what} > REMOTE_DOMAIN_LIST_MAX")


def _list_all(s: Session, args: Any) -> dict[str, Any]:
    refs: list[DomainRef] = s.api("virConnectListAllDomains", args["flags"])
    return {"domains": to_wire_list(refs if args["need_results"] else []), "ret": len(refs)}


def _list_ids(s: Session, args: Any) -> dict[str, Any]:
    _check_max(args["maxids"], "maxids")
    refs = s.api("virConnectListAllDomains", C.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    return {"ids": [r.id for r in refs][:args["maxids"]]}


def _list_defined(s: Session, args: Any) -> dict[str, Any]:
    _check_max(args["maxnames"], "maxnames")
    refs = s.api("virConnectListAllDomains", C.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
    return {"names": [r.name for r in refs][:args["maxnames"]]}


def _count(flags: int) -> Handler:
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {"num": len(s.api("virConnectListAllDomains", flags))}
    return handler


def _node_info(s: Session, args: Any) -> dict[str, Any]:
    info = s.api("virNodeGetInfo")
    return {"model": info.model.encode(), "memory": info.memory, "cpus": info.cpus,
            "mhz": info.mhz, "nodes": info.nodes, "sockets": info.sockets,
            "cores": info.cores, "threads": info.threads}


def _cells_free_memory(s: Session, args: Any) -> dict[str, Any]:
    if args["maxcells"] > REMOTE_NODE_MAX_CELLS:
        raise RPCError("maxCells > REMOTE_NODE_MAX_CELLS")
    return {"cells": s.api("virNodeGetCellsFreeMemory", args["startCell"], args["maxcells"])}


def _node_stats(api: str, index: str, maximum: int) -> Handler:
    """NODE_GET_CPU_STATS and NODE_GET_MEMORY_STATS: asked with nparams 0, the count only;
    else up to nparams figures (and nparams 0, as remoteDispatchNodeGet*Stats leaves it)."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        if args["nparams"] > maximum:
            raise RPCError("nparams too large")
        stats: dict[str, int] = s.api(api, args[index], args["flags"])
        if args["nparams"] == 0:
            return {"params": [], "nparams": len(stats)}
        params = [{"field": k, "value": v} for k, v in stats.items()]
        return {"params": params[:args["nparams"]], "nparams": 0}
    return handler


def _cpu_map(s: Session, args: Any) -> dict[str, Any]:
    """The map as libvirt's cpumap bytes: CPU n is bit n % 8 of byte n // 8."""
    present, online_map, online = s.api("virNodeGetCPUMap", args["flags"])
    cpumap = bytearray((present + 7) // 8)
    for cpu, up in enumerate(online_map):
        if up:
            cpumap[cpu // 8] |= 1 << cpu % 8
    return {"cpumap": bytes(cpumap) if args["need_map"] else b"",
            "online": online if args["need_online"] else 0, "ret": present}


def _dom_info(s: Session, args: Any) -> dict[str, Any]:
    i = s.api("virDomainGetInfo", to_ref(args["dom"]))
    return {"state": i.state, "maxMem": i.max_mem, "memory": i.memory,
            "nrVirtCpu": i.nr_virt_cpu, "cpuTime": i.cpu_time}


def _dom_state(s: Session, args: Any) -> dict[str, Any]:
    state, reason = s.api("virDomainGetState", to_ref(args["dom"]), args["flags"])
    return {"state": state, "reason": reason}


def _connect_open(s: Session, args: Any) -> None:
    s.uri = args["name"] or DEFAULT_URI
    s.opened = True


def _auth_list(s: Session, args: Any) -> dict[str, Any]:
    """Auth "none" is the only kind served: listing it authenticates the client."""
    s.authenticated = True
    return {"types": [AuthType.NONE]}


def _supports_feature(s: Session, args: Any) -> dict[str, Any]:
    return {"supported": int(args["feature"] in SERVED_FEATURES)}


def _connect_close(s: Session, args: Any) -> None:
    s.clear_events()
    s.closed = True


def _close_callback(s: Session, args: Any) -> None:
    """(Un)registering a close callback: the QEMU driver never closes under its clients, so
    there is nothing to relay, and libvirt's own call succeeds without a driver method."""


def _event_register(s: Session, args: Any) -> dict[str, Any]:
    dom = to_ref(args["dom"]) if args["dom"] is not None else None
    return {"callbackID": s.events.register(args["eventID"], dom, legacy=False)}


def _event_register_legacy(s: Session, args: Any) -> None:
    s.events.register(args["eventID"], None, legacy=True)


def _node_security_model(s: Session, args: Any) -> dict[str, Any]:
    model, doi = s.api("virNodeGetSecurityModel")
    return {"model": to_chars(model), "doi": to_chars(doi)}


def _security_label(s: Session, args: Any) -> dict[str, Any]:
    label, enforcing = s.api("virDomainGetSecurityLabel", to_ref(args["dom"]))
    return {"label": to_chars(label), "enforcing": int(enforcing)}


def _open_console(s: Session, args: Any) -> Any:
    """A stream-opening call: the handler returns the device, which the connection relays
    once the reply is out, and the reply (void here)."""
    return s.api("virDomainOpenConsole", to_ref(args["dom"]), args["dev_name"],
                 args["flags"]), None


def _screenshot(s: Session, args: Any) -> Any:
    mime, device = s.api("virDomainScreenshot", to_ref(args["dom"]), args["screen"],
                         args["flags"])
    return device, {"mime": mime}


def _dom_void(api: str, *names: str) -> Handler:
    """A domain procedure whose reply is void: the API with the domain and ``names`` args."""
    def handler(s: Session, args: Any) -> None:
        s.api(api, to_ref(args["dom"]), *(args[n] for n in names))
    return handler


def _dom_value(api: str, key: str, *names: str, convert: Callable[[Any], Any] = int) -> Handler:
    """A domain procedure replying one value under ``key``."""
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {key: convert(s.api(api, to_ref(args["dom"]), *(args[n] for n in names)))}
    return handler


def _conn_value(api: str, key: str, *names: str) -> Handler:
    def handler(s: Session, args: Any) -> dict[str, Any]:
        return {key: s.api(api, *(args[n] for n in names))}
    return handler


def _returns_dom(api: str, *names: str, dom: bool = False) -> Handler:
    def handler(s: Session, args: Any) -> dict[str, Any]:
        first = (to_ref(args["dom"]),) if dom else ()
        return _dom_ret(s.api(api, *first, *(args[n] for n in names)))
    return handler


def _define(s: Session, args: Any) -> dict[str, Any]:
    return _dom_ret(s.api("virDomainDefineXML", args["xml"], 0))


def _create_xml(s: Session, args: Any) -> dict[str, Any]:
    return _dom_ret(s.api("virDomainCreateXML", args["xml_desc"], args["flags"]))


def _create(s: Session, args: Any) -> None:
    s.api("virDomainCreate", to_ref(args["dom"]), 0)


def _undefine(s: Session, args: Any) -> None:
    s.api("virDomainUndefine", to_ref(args["dom"]), 0)


def _destroy(s: Session, args: Any) -> None:
    s.api("virDomainDestroy", to_ref(args["dom"]), 0)


def _shutdown(s: Session, args: Any) -> None:
    s.api("virDomainShutdown", to_ref(args["dom"]), 0)


def _set_autostart(s: Session, args: Any) -> None:
    s.api("virDomainSetAutostart", to_ref(args["dom"]), bool(args["autostart"]))


def _lookup_uuid(s: Session, args: Any) -> dict[str, Any]:
    return _dom_ret(s.api("virDomainLookupByUUID", str(uuidlib.UUID(bytes=args["uuid"]))))


# Procedures served before CONNECT_OPEN, as libvirtd serves them without a connection.
BEFORE_OPEN = frozenset({"AUTH_LIST", "CONNECT_OPEN", "CONNECT_CLOSE"})

HANDLERS: dict[str, Handler] = {
    "CONNECT_OPEN": _connect_open,
    "CONNECT_CLOSE": _connect_close,
    "AUTH_LIST": _auth_list,
    "CONNECT_SUPPORTS_FEATURE": _supports_feature,
    "CONNECT_GET_TYPE": _conn_value("virConnectGetType", "type"),
    "CONNECT_GET_VERSION": _conn_value("virConnectGetVersion", "hv_ver"),
    "CONNECT_GET_LIB_VERSION": lambda s, a: {"lib_ver": LIB_VERSION},
    "CONNECT_GET_HOSTNAME": _conn_value("virConnectGetHostname", "hostname"),
    "CONNECT_GET_URI": lambda s, a: {"uri": s.uri},
    "CONNECT_GET_CAPABILITIES": _conn_value("virConnectGetCapabilities", "capabilities"),
    "CONNECT_GET_MAX_VCPUS": _conn_value("virConnectGetMaxVcpus", "max_vcpus", "type"),
    "NODE_GET_INFO": _node_info,
    "CONNECT_LIST_ALL_DOMAINS": _list_all,
    "CONNECT_LIST_DOMAINS": _list_ids,
    "CONNECT_LIST_DEFINED_DOMAINS": _list_defined,
    "CONNECT_NUM_OF_DOMAINS": _count(C.VIR_CONNECT_LIST_DOMAINS_ACTIVE),
    "CONNECT_NUM_OF_DEFINED_DOMAINS": _count(C.VIR_CONNECT_LIST_DOMAINS_INACTIVE),
    "DOMAIN_LOOKUP_BY_NAME": _returns_dom("virDomainLookupByName", "name"),
    "DOMAIN_LOOKUP_BY_ID": _returns_dom("virDomainLookupByID", "id"),
    "DOMAIN_LOOKUP_BY_UUID": _lookup_uuid,
    "DOMAIN_DEFINE_XML": _define,
    "DOMAIN_DEFINE_XML_FLAGS": _returns_dom("virDomainDefineXMLFlags", "xml", "flags"),
    "DOMAIN_UNDEFINE": _undefine,
    "DOMAIN_UNDEFINE_FLAGS": _dom_void("virDomainUndefineFlags", "flags"),
    "DOMAIN_CREATE": _create,
    "DOMAIN_CREATE_WITH_FLAGS": _returns_dom("virDomainCreateWithFlags", "flags", dom=True),
    "DOMAIN_CREATE_XML": _create_xml,
    "DOMAIN_GET_XML_DESC": _dom_value("virDomainGetXMLDesc", "xml", "flags", convert=str),
    "DOMAIN_SUSPEND": _dom_void("virDomainSuspend"),
    "DOMAIN_RESUME": _dom_void("virDomainResume"),
    "DOMAIN_SHUTDOWN": _shutdown,
    "DOMAIN_SHUTDOWN_FLAGS": _dom_void("virDomainShutdownFlags", "flags"),
    "DOMAIN_REBOOT": _dom_void("virDomainReboot", "flags"),
    "DOMAIN_RESET": _dom_void("virDomainReset", "flags"),
    "DOMAIN_DESTROY": _destroy,
    "DOMAIN_DESTROY_FLAGS": _dom_void("virDomainDestroyFlags", "flags"),
    "DOMAIN_GET_INFO": _dom_info,
    "DOMAIN_GET_STATE": _dom_state,
    "DOMAIN_IS_ACTIVE": _dom_value("virDomainIsActive", "active"),
    "DOMAIN_IS_PERSISTENT": _dom_value("virDomainIsPersistent", "persistent"),
    "DOMAIN_GET_AUTOSTART": _dom_value("virDomainGetAutostart", "autostart"),
    "DOMAIN_SET_AUTOSTART": _set_autostart,
    "DOMAIN_HAS_MANAGED_SAVE_IMAGE": _dom_value("virDomainHasManagedSaveImage", "result",
                                                "flags"),
    "DOMAIN_GET_OS_TYPE": _dom_value("virDomainGetOSType", "type", convert=str),
    "DOMAIN_GET_MAX_MEMORY": _dom_value("virDomainGetMaxMemory", "memory"),
    "DOMAIN_GET_VCPUS_FLAGS": _dom_value("virDomainGetVcpusFlags", "num", "flags"),
    "NODE_GET_SECURITY_MODEL": _node_security_model,
    "NODE_GET_FREE_MEMORY": _conn_value("virNodeGetFreeMemory", "freeMem"),
    "NODE_GET_CELLS_FREE_MEMORY": _cells_free_memory,
    "NODE_GET_CPU_STATS": _node_stats("virNodeGetCPUStats", "cpuNum",
                                      REMOTE_NODE_CPU_STATS_MAX),
    "NODE_GET_MEMORY_STATS": _node_stats("virNodeGetMemoryStats", "cellNum",
                                         REMOTE_NODE_MEMORY_STATS_MAX),
    "NODE_GET_CPU_MAP": _cpu_map,
    "CONNECT_DOMAIN_XML_TO_NATIVE": _conn_value("virConnectDomainXMLToNative", "nativeConfig",
                                                "nativeFormat", "domainXml", "flags"),
    "DOMAIN_GET_METADATA": _dom_value("virDomainGetMetadata", "metadata", "type", "uri",
                                      "flags", convert=str),
    "DOMAIN_SET_METADATA": _dom_void("virDomainSetMetadata", "type", "metadata", "key", "uri",
                                     "flags"),
    "DOMAIN_GET_SECURITY_LABEL": _security_label,
    "DOMAIN_OPEN_CONSOLE": _open_console,
    "DOMAIN_SCREENSHOT": _screenshot,
    "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY": _event_register,
    "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY":
        lambda s, a: s.events.deregister(a["callbackID"]),
    "CONNECT_DOMAIN_EVENT_REGISTER_ANY": _event_register_legacy,
    "CONNECT_DOMAIN_EVENT_DEREGISTER_ANY": lambda s, a: s.events.deregister_legacy(a["eventID"]),
    "CONNECT_REGISTER_CLOSE_CALLBACK": _close_callback,
    "CONNECT_UNREGISTER_CLOSE_CALLBACK": _close_callback,
    **storage.HANDLERS,
    **network.HANDLERS,
}


# Procedures the driver answers from its memory, without waiting on a monitor, a job or the
# disk: the daemon runs them on its own loop instead of paying a worker thread's two hops
# (more than the call itself). CONNECT_GET_VERSION probes QEMU on the driver's first use only.
INLINE = frozenset({
    "CONNECT_OPEN", "CONNECT_CLOSE", "AUTH_LIST", "CONNECT_SUPPORTS_FEATURE",
    "CONNECT_GET_TYPE", "CONNECT_GET_VERSION", "CONNECT_GET_LIB_VERSION", "CONNECT_GET_URI",
    "CONNECT_LIST_ALL_DOMAINS", "CONNECT_LIST_DOMAINS", "CONNECT_LIST_DEFINED_DOMAINS",
    "CONNECT_NUM_OF_DOMAINS", "CONNECT_NUM_OF_DEFINED_DOMAINS",
    "DOMAIN_LOOKUP_BY_NAME", "DOMAIN_LOOKUP_BY_ID", "DOMAIN_LOOKUP_BY_UUID",
    "DOMAIN_GET_XML_DESC", "DOMAIN_GET_INFO", "DOMAIN_GET_STATE", "DOMAIN_IS_ACTIVE",
    "DOMAIN_IS_PERSISTENT", "DOMAIN_GET_OS_TYPE", "DOMAIN_GET_MAX_MEMORY",
    "DOMAIN_GET_VCPUS_FLAGS",
})


def unknown_procedure(proc: int) -> QvirtError:
    """virNetServerProgramDispatchCall's refusal of a procedure it has no dispatcher for."""
    return RPCError(f"unknown procedure: {proc}")


def prepare(session: Session, message: Message) -> tuple[Procedure, Any]:
    """The procedure a CALL names and its args, or the QvirtError owed as its reply: checks
    in virNetServerProgramDispatchCall's order (status, procedure, auth, payload)."""
    header = message.header
    if header.status != Status.OK:
        raise RPCError(f"Unexpected message status {header.status & 0xFFFFFFFF}")
    procedure = PROCEDURES.get(header.proc)
    if procedure is None or procedure.name not in HANDLERS:
        raise unknown_procedure(header.proc)
    if not session.authenticated and procedure.name != "AUTH_LIST":
        raise RPCError("authentication required")
    return decode_call(message)


def run(session: Session, procedure: Procedure, args: Any) -> Any:
    """Run one decoded call (blocking: the server calls it in a worker thread)."""
    if not (session.opened or procedure.name in BEFORE_OPEN
            or (procedure.name == "CONNECT_SUPPORTS_FEATURE"
                and args["feature"] == FEATURE_PROGRAM_KEEPALIVE)):
        raise InternalError("hypervisor connection not open", domain=ErrorDomain.RPC)
    return HANDLERS[procedure.name](session, args)


def is_call(header: Header) -> bool:
    """Whether a message is a call (the only kind owed a reply): CALL, or CALL_WITH_FDS as
    libvirtd dispatches it too. No procedure served here takes descriptors, and the
    daemon's stream transport carries none: such a call is served without them."""
    return header.type in (MessageType.CALL, MessageType.CALL_WITH_FDS)

