"""Storage Pool: the pool-* and find-storage-pool-sources* commands (virsh-pool.c)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import editor, table
from qvirt.cli.virsh.capacity import pretty_text
from qvirt.cli.virsh.control import BY_NAME, BY_UUID, INT_MAX, UINT_MAX, Abort, Control
from qvirt.cli.virsh.grammar import (
    Args,
    Command,
    CommandGroup,
    Handler,
    Opt,
    OptType,
    file_opt,
    split_commas,
)
from qvirt.cli.virsh.listing import ListKind, collect, lookup
from qvirt.cli.virsh.xpath import quiet_option, select
from qvirt.errors import ErrorNumber, QvirtError

BOOL, STRING, INT = OptType.BOOL, OptType.STRING, OptType.INT

STATES = ("inactive", "building", "running", "degraded", "inaccessible")
EVENTS = ("Defined", "Undefined", "Started", "Stopped", "Created", "Deleted")
EVENT_IDS = ("lifecycle", "refresh")

# virStoragePoolType's names, in its order, with the pool-list --type flag of each.
POOL_TYPES: dict[str, int] = {
    "dir": C.VIR_CONNECT_LIST_STORAGE_POOLS_DIR, "fs": C.VIR_CONNECT_LIST_STORAGE_POOLS_FS,
    "netfs": C.VIR_CONNECT_LIST_STORAGE_POOLS_NETFS,
    "logical": C.VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL,
    "disk": C.VIR_CONNECT_LIST_STORAGE_POOLS_DISK,
    "iscsi": C.VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI,
    "iscsi-direct": C.VIR_CONNECT_LIST_STORAGE_POOLS_ISCSI_DIRECT,
    "scsi": C.VIR_CONNECT_LIST_STORAGE_POOLS_SCSI,
    "mpath": C.VIR_CONNECT_LIST_STORAGE_POOLS_MPATH,
    "rbd": C.VIR_CONNECT_LIST_STORAGE_POOLS_RBD,
    "sheepdog": C.VIR_CONNECT_LIST_STORAGE_POOLS_SHEEPDOG,
    "gluster": C.VIR_CONNECT_LIST_STORAGE_POOLS_GLUSTER,
    "zfs": C.VIR_CONNECT_LIST_STORAGE_POOLS_ZFS,
    "vstorage": C.VIR_CONNECT_LIST_STORAGE_POOLS_VSTORAGE,
}

# pool-list's filters: (option, flag).
LIST_FILTERS = (
    ("autostart", C.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART),
    ("no-autostart", C.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART),
    ("persistent", C.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT),
    ("transient", C.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT),
)



def state_text(state: int) -> str:
    return STATES[state] if 0 <= state < len(STATES) else "unknown"


def lookup_pool(ctl: Control, args: Args, name: str = "pool",
                by: int = BY_UUID | BY_NAME) -> qvirt.virStoragePool:
    """virshCommandOptPoolBy: a UUID-long text as a UUID first, then as a name; the last
    look-up's error stays for virsh to print after its own."""
    return pool_by(ctl, ctl.opt_req(args, name), by)


def pool_by(ctl: Control, text: str, by: int = BY_UUID | BY_NAME) -> qvirt.virStoragePool:
    conn = ctl.connection()
    return lookup(ctl, text, by, "pool", conn.storagePoolLookupByUUIDString,
                  conn.storagePoolLookupByName)


def _build_flags(ctl: Control, args: Args) -> int:
    """--build, --overwrite and --no-overwrite of pool-start, pool-create, pool-create-as."""
    ctl.exclusive(args, "overwrite", "no-overwrite")
    flags = 0
    if args.get("build"):
        flags |= C.VIR_STORAGE_POOL_CREATE_WITH_BUILD
    if args.get("overwrite"):
        flags |= C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE
    if args.get("no-overwrite"):
        flags |= C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE
    return flags


# Lifecycle -----------------------------------------------------------------------------------

def cmd_pool_autostart(ctl: Control, args: Args) -> bool:
    pool = lookup_pool(ctl, args)
    name = ctl.opt_req(args, "pool")
    enable = not args.get("disable")
    doing = "mark" if enable else "unmark"
    with ctl.failing(f"failed to {doing} pool {name} as autostarted"):
        pool.setAutostart(int(enable))
    ctl.print_extra(f"Pool {name} {doing}ed as autostarted\n")
    return True


def cmd_pool_create(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    flags = _build_flags(ctl, args)
    xml = ctl.read_file(path)
    with ctl.failing(f"Failed to create pool from {path}"):
        pool = ctl.connection().storagePoolCreateXML(xml, flags)
    ctl.print_extra(f"Pool {pool.name()} created from {path}\n")
    return True


def cmd_pool_define(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    flags = C.VIR_STORAGE_POOL_DEFINE_VALIDATE if args.get("validate") else 0
    xml = ctl.read_file(path)
    with ctl.failing(f"Failed to define pool from {path}"):
        pool = ctl.connection().storagePoolDefineXML(xml, flags)
    ctl.print_extra(f"Pool {pool.name()} defined from {path}\n")
    return True


# The <source> parts pool-define-as and pool-create-as write, in virsh's order.
SOURCE_OPTS = ("source-host", "source-path", "source-dev", "source-name", "target",
               "source-format", "auth-type", "auth-username", "secret-usage", "secret-uuid",
               "adapter-name", "adapter-wwnn", "adapter-wwpn", "adapter-parent",
               "adapter-parent-wwnn", "adapter-parent-wwpn", "adapter-parent-fabric-wwn",
               "source-protocol-ver", "source-initiator")


def build_pool_xml(ctl: Control, args: Args) -> tuple[str, str]:
    """virshBuildPoolXML: (name, document) from the options, unescaped as virsh leaves
    them."""
    ctl.exclusive(args, "secret-usage", "secret-uuid")
    name = ctl.opt_req(args, "name")
    type = ctl.opt_req(args, "type")
    o = {key: ctl.opt_str(args, key) for key in SOURCE_OPTS}
    lines = [f"<pool type='{type}'>", f"  <name>{name}</name>"]
    wwns = bool(o["adapter-wwnn"] and o["adapter-wwpn"])
    if any(o[k] for k in ("source-host", "source-path", "source-dev", "source-initiator",
                          "source-format", "source-name", "adapter-name")) or wwns:
        lines.append("  <source>")
        if o["source-host"]:
            lines.append(f"    <host name='{o['source-host']}'/>")
        if o["source-path"]:
            lines.append(f"    <dir path='{o['source-path']}'/>")
        if o["source-dev"]:
            lines.append(f"    <device path='{o['source-dev']}'/>")
        if o["source-initiator"]:
            lines += ["    <initiator>", f"      <iqn name='{o['source-initiator']}'/>",
                      "    </initiator>"]
        if wwns:
            parent = ""
            if o["adapter-parent"]:
                parent = f" parent='{o['adapter-parent']}'"
            elif o["adapter-parent-wwnn"] and o["adapter-parent-wwpn"]:
                parent = (f" parent_wwnn='{o['adapter-parent-wwnn']}'"
                          f" parent_wwpn='{o['adapter-parent-wwpn']}'")
            elif o["adapter-parent-fabric-wwn"]:
                parent = f" parent_fabric_wwn='{o['adapter-parent-fabric-wwn']}'"
            lines.append(f"    <adapter type='fc_host'{parent} wwnn='{o['adapter-wwnn']}' "
                         f"wwpn='{o['adapter-wwpn']}'/>")
        elif o["adapter-name"]:
            lines.append(f"    <adapter type='scsi_host' name='{o['adapter-name']}'/>")
        if o["auth-type"] and o["auth-username"] and (o["secret-usage"] or o["secret-uuid"]):
            secret = (f"usage='{o['secret-usage']}'" if o["secret-usage"]
                      else f"uuid='{o['secret-uuid']}'")
            lines += [f"    <auth type='{o['auth-type']}' username='{o['auth-username']}'>",
                      f"      <secret {secret}/>", "    </auth>"]
        if o["source-format"]:
            lines.append(f"    <format type='{o['source-format']}'/>")
        if o["source-name"]:
            lines.append(f"    <name>{o['source-name']}</name>")
        if o["source-protocol-ver"]:
            lines.append(f"    <protocol ver='{o['source-protocol-ver']}'/>")
        lines.append("  </source>")
    if o["target"]:
        lines += ["  <target>", f"    <path>{o['target']}</path>", "  </target>"]
    lines.append("</pool>")
    return name, "".join(line + "\n" for line in lines)


def cmd_pool_create_as(ctl: Control, args: Args) -> bool:
    flags = _build_flags(ctl, args)
    name, xml = build_pool_xml(ctl, args)
    if args.get("print-xml"):
        ctl.print(xml)
        return True
    with ctl.failing(f"Failed to create pool {name}"):
        ctl.connection().storagePoolCreateXML(xml, flags)
    ctl.print_extra(f"Pool {name} created\n")
    return True


def cmd_pool_define_as(ctl: Control, args: Args) -> bool:
    name, xml = build_pool_xml(ctl, args)
    if args.get("print-xml"):
        ctl.print(xml)
        return True
    with ctl.failing(f"Failed to define pool {name}"):
        ctl.connection().storagePoolDefineXML(xml, 0)
    ctl.print_extra(f"Pool {name} defined\n")
    return True


def _pool_action(verb: str, done: str,
                 act: Callable[[qvirt.virStoragePool, Args], object]) -> Handler:
    """pool-build, -destroy, -delete, -refresh, -undefine: one call on the named pool."""
    def handler(ctl: Control, args: Args) -> bool:
        pool = lookup_pool(ctl, args)
        name = ctl.opt_req(args, "pool")
        with ctl.failing(f"Failed to {verb} pool {name}"):
            act(pool, args)
        ctl.print_extra(f"Pool {name} {done}\n")
        return True
    return handler


def _build(pool: qvirt.virStoragePool, args: Args) -> None:
    flags = 0
    if args.get("no-overwrite"):
        flags |= C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE
    if args.get("overwrite"):
        flags |= C.VIR_STORAGE_POOL_BUILD_OVERWRITE
    pool.build(flags)


def cmd_pool_start(ctl: Control, args: Args) -> bool:
    pool = lookup_pool(ctl, args)
    name = ctl.opt_req(args, "pool")
    flags = _build_flags(ctl, args)
    with ctl.failing(f"Failed to start pool {name}"):
        pool.create(flags)
    ctl.print_extra(f"Pool {name} started\n")
    return True


# Information ---------------------------------------------------------------------------------

def cmd_pool_dumpxml(ctl: Control, args: Args) -> bool:
    flags = C.VIR_STORAGE_XML_INACTIVE if args.get("inactive") else 0
    pool = lookup_pool(ctl, args)
    xpath = quiet_option(args)
    xml = pool.XMLDesc(flags)
    if xpath is None:
        ctl.print(xml)
        return True
    ctl.print(select(ctl, xml, xpath, bool(args.get("wrap"))))
    return True


def cmd_pool_info(ctl: Control, args: Args) -> bool:
    pool = lookup_pool(ctl, args)

    def line(label: str, value: object) -> None:
        ctl.print(f"{label:<15} {value}\n")

    line("Name:", pool.name())
    line("UUID:", pool.UUIDString())
    state, capacity, allocation, available = pool.info()
    line("State:", state_text(state))
    try:
        line("Persistent:", "yes" if pool.isPersistent() else "no")
    except QvirtError as err:
        ctl.last_error = err
        line("Persistent:", "unknown")
    try:
        line("Autostart:", "yes" if pool.autostart() else "no")
    except QvirtError as err:
        ctl.last_error = err
        line("Autostart:", "no autostart")
    if state in (C.VIR_STORAGE_POOL_RUNNING, C.VIR_STORAGE_POOL_DEGRADED):
        for label, value in (("Capacity:", capacity), ("Allocation:", allocation),
                             ("Available:", available)):
            line(label, value if args.get("bytes") else pretty_text(value))
    return True


def cmd_pool_name(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_pool(ctl, args, by=BY_UUID).name()}\n")
    return True


def cmd_pool_uuid(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_pool(ctl, args, by=BY_NAME).UUIDString()}\n")
    return True


def cmd_pool_capabilities(ctl: Control, args: Args) -> bool:
    with ctl.failing("failed to get storage pool capabilities"):
        caps = ctl.connection().getStoragePoolCapabilities(0)
    ctl.print(f"{caps}\n")
    return True


# pool-list -----------------------------------------------------------------------------------

POOL_LIST = ListKind(
    C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE,
    C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE,
    C.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT,
    C.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT,
    C.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART,
    C.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART,
    "pools",
    "pool",
)


def cmd_pool_list(ctl: Control, args: Args) -> bool:
    details = bool(args.get("details"))
    ctl.exclusive(args, "all", "inactive")
    flags = C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE
    if args.get("inactive"):
        flags = C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE
    if args.get("all"):
        flags = C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE | C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE
    for option, flag in LIST_FILTERS:
        if args.get(option):
            flags |= flag
    show_uuid, show_name = bool(args.get("uuid")), bool(args.get("name"))
    types = ctl.opt_str(args, "type")
    ctl.exclusive(args, "details", "uuid")
    ctl.exclusive(args, "details", "name")
    if types is not None:
        for type in split_commas(types):
            if type not in POOL_TYPES:
                raise ctl.fail(f"Invalid pool type '{type}'")
            flags |= POOL_TYPES[type]
    pools = collect(ctl, ctl.connection().listAllStoragePools, flags, POOL_LIST)
    rows = [_row(ctl, pool, details) for pool in pools]
    if not details and (show_uuid or show_name):
        for pool in pools:
            if show_uuid:
                ctl.print(f"{pool.UUIDString():<36}{' ' if show_name else chr(10)}")
            if show_name:
                ctl.print(f"{pool.name():<20}\n")
        return True
    header = ["Name", "State", "Autostart"]
    if details:
        header += ["Persistent", "Capacity", "Allocation", "Available"]
    ctl.print(table.render(header, rows))
    return True


def _row(ctl: Control, pool: qvirt.virStoragePool, details: bool) -> list[str]:
    try:
        autostart = "yes" if pool.autostart() else "no"
    except QvirtError as err:
        ctl.last_error = err
        autostart = "no autostart"
    persistent = ""
    if details:
        try:
            persistent = "yes" if pool.isPersistent() else "no"
        except QvirtError as err:
            ctl.last_error = err
            persistent = "unknown"
    try:
        state, capacity, allocation, available = pool.info()
    except QvirtError as err:
        ctl.last_error = err
        ctl.error("Could not retrieve pool information")
        return ([pool.name(), "unknown", autostart] +
                ([persistent, "unknown", "unknown", "unknown"] if details else []))
    if not details:
        return [pool.name(), "active" if pool.isActive() else "inactive", autostart]
    if state in (C.VIR_STORAGE_POOL_RUNNING, C.VIR_STORAGE_POOL_DEGRADED):
        sizes = [pretty_text(capacity), pretty_text(allocation), pretty_text(available)]
    else:
        sizes = ["-", "-", "-"]
    return [pool.name(), state_text(state), autostart, persistent, *sizes]


# Source discovery ----------------------------------------------------------------------------

def cmd_find_sources_as(ctl: Control, args: Args) -> bool:
    type = ctl.opt_req(args, "type")
    host = ctl.opt_str(args, "host")
    initiator = ctl.opt_str(args, "initiator")
    spec = None
    if host is not None:
        port = ctl.opt_str(args, "port")
        lines = ["<source>", f"  <host name='{host}'" + (f" port='{port}'" if port else "")
                 + "/>"]
        if initiator:
            lines += ["  <initiator>", f"    <iqn name='{initiator}'/>", "  </initiator>"]
        lines.append("</source>")
        spec = "".join(line + "\n" for line in lines)
    with ctl.failing(f"Failed to find any {type} pool sources"):
        found = ctl.connection().findStoragePoolSources(type, spec, 0)
    ctl.print(found)
    return True


def cmd_find_sources(ctl: Control, args: Args) -> bool:
    type = ctl.opt_req(args, "type")
    spec_file = ctl.opt_str(args, "srcSpec")
    spec = ctl.read_file(spec_file) if spec_file is not None else None
    with ctl.failing(f"Failed to find any {type} pool sources"):
        found = ctl.connection().findStoragePoolSources(type, spec, 0)
    ctl.print(found)
    return True


# pool-edit -----------------------------------------------------------------------------------

def cmd_pool_edit(ctl: Control, args: Args) -> bool:
    """virsh-edit.c's loop for a pool: the inactive definition (or the only one, from a
    driver that takes no flags), edited, compared and defined."""
    pool = lookup_pool(ctl, args)
    conn = ctl.connection()
    flags = C.VIR_STORAGE_XML_INACTIVE
    try:
        doc = pool.XMLDesc(flags)
    except QvirtError as err:
        if err.code != ErrorNumber.INVALID_ARG:
            raise
        flags = 0
        ctl.last_error = None
        doc = pool.XMLDesc(flags)
    return editor.edit_loop(ctl, pool.name(), doc, lambda: pool.XMLDesc(flags),
                            lambda xml, _validate: conn.storagePoolDefineXML(xml, 0).name(),
                            "Pool {}", relax=False)


# pool-event ----------------------------------------------------------------------------------

def timeout_ms(ctl: Control, args: Args) -> int | None:
    """vshCommandOptTimeoutToMs: whole seconds, above zero, that fit in an int of ms."""
    seconds = ctl.opt_int(args, "timeout", 0, UINT_MAX)
    if seconds is None:
        return None
    if seconds == 0 or seconds > INT_MAX // 1000:
        raise ctl.fail(f"Numeric value '{seconds}' for <timeout> option is malformed or out "
                       "of range")
    return seconds * 1000


def now_stamp() -> str:
    """virTimeStringNowRaw: UTC, milliseconds, "+0000"."""
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + \
        f".{int(now * 1000) % 1000:03d}+0000"


@contextmanager
def interruptible(stop: threading.Event, interrupted: list[bool]) -> Iterator[None]:
    """vshEventStart's SIGINT: it ends the wait, not virsh."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.append(True)
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_pool_event(ctl: Control, args: Args) -> bool:
    if args.get("list"):
        for name in EVENT_IDS:
            ctl.print(f"{name}\n")
        return True
    event_name = ctl.opt_str(args, "event")
    if event_name is None:
        raise ctl.fail("either --list or --event <type> is required")
    if event_name not in EVENT_IDS:
        raise ctl.fail(f"unknown event type {event_name}")
    event_id = EVENT_IDS.index(event_name)
    loop, stamp = bool(args.get("loop")), bool(args.get("timestamp"))
    timeout = timeout_ms(ctl, args)
    pool = None
    if args.get("pool") is not None:
        with suppress(Abort):
            pool = lookup_pool(ctl, args)
    count = [0]
    stop = threading.Event()
    interrupted: list[bool] = []

    def report(pool_name: str, what: str) -> None:
        if not loop and count[0]:
            return
        prefix = f"{now_stamp()}: " if stamp else ""
        ctl.print(f"{prefix}{what.format(pool_name)}\n")
        ctl.out.flush()
        count[0] += 1
        if not loop:
            stop.set()

    def lifecycle(conn: Any, p: Any, event: int, detail: int, opaque: Any) -> None:
        text = EVENTS[event] if 0 <= event < len(EVENTS) else "unknown"
        report(p.name(), "event 'lifecycle' for storage pool {}: " + text)

    def refresh(conn: Any, p: Any, opaque: Any) -> None:
        report(p.name(), "event 'refresh' for storage pool {}")

    conn = ctl.connection()
    with interruptible(stop, interrupted):
        callback_id = conn.storagePoolEventRegisterAny(
            pool, event_id, lifecycle if event_id == 0 else refresh, None)
        try:
            finished = stop.wait(timeout / 1000 if timeout is not None else None)
        finally:
            try:
                conn.storagePoolEventDeregisterAny(callback_id)
            except QvirtError as err:
                ctl.last_error = err
                count[0] = 0
    if interrupted:
        ctl.print("event loop interrupted\n")
    elif not finished:
        ctl.print("event loop timed out\n")
    ctl.print(f"events received: {count[0]}\n")
    return count[0] > 0


POOL_OPT = Opt("pool", OptType.DATA, "pool name or uuid", required=True)
BUILD_OPTS = (Opt("build", BOOL, "build the pool as normal"),
              Opt("no-overwrite", BOOL, "do not overwrite any existing data"),
              Opt("overwrite", BOOL, "overwrite any existing data"))
X_AS_OPTS = (
    Opt("name", OptType.DATA, "name of the pool", required=True),
    Opt("type", OptType.DATA, "type of the pool", required=True),
    Opt("print-xml", BOOL, "print XML document, but don't define/create"),
    Opt("source-host", STRING, "source-host for underlying storage"),
    Opt("source-path", STRING, "source path for underlying storage"),
    Opt("source-dev", STRING, "source device for underlying storage"),
    Opt("source-name", STRING, "source name for underlying storage"),
    Opt("target", STRING, "target for underlying storage"),
    Opt("source-format", STRING, "format for underlying storage"),
    Opt("auth-type", STRING, "auth type to be used for underlying storage"),
    Opt("auth-username", STRING, "auth username to be used for underlying storage"),
    Opt("secret-usage", STRING, "auth secret usage to be used for underlying storage"),
    Opt("secret-uuid", STRING, "auth secret UUID to be used for underlying storage"),
    Opt("adapter-name", STRING, "adapter name to be used for underlying storage"),
    Opt("adapter-wwnn", STRING, "adapter wwnn to be used for underlying storage"),
    Opt("adapter-wwpn", STRING, "adapter wwpn to be used for underlying storage"),
    Opt("adapter-parent", STRING,
        "adapter parent scsi_hostN to be used for underlying vHBA storage"),
    Opt("adapter-parent-wwnn", STRING,
        "adapter parent scsi_hostN wwnn to be used for underlying vHBA storage"),
    Opt("adapter-parent-wwpn", STRING,
        "adapter parent scsi_hostN wwpn to be used for underlying vHBA storage"),
    Opt("adapter-parent-fabric-wwn", STRING,
        "adapter parent scsi_hostN fabric_wwn to be used for underlying vHBA storage"),
    Opt("source-protocol-ver", STRING, "nfsvers value for NFS pool mount option"),
    Opt("source-initiator", STRING, "initiator iqn for underlying storage"),
)
XPATH_OPTS = (Opt("xpath", STRING, "xpath expression to filter the XML document",
                  keyword_only=True),
              Opt("wrap", BOOL, "wrap xpath results in an common root element"))

GROUP = CommandGroup("Storage Pool", "pool", (
    Command("find-storage-pool-sources-as", cmd_find_sources_as,
            "find potential storage pool sources", "Returns XML <sources> document.", (
                Opt("type", OptType.DATA, "type of storage pool sources to find",
                    required=True),
                Opt("host", STRING, "optional host to query"),
                Opt("port", STRING, "optional port to query"),
                Opt("initiator", STRING, "optional initiator IQN to use for query"))),
    Command("find-storage-pool-sources", cmd_find_sources,
            "discover potential storage pool sources", "Returns XML <sources> document.", (
                Opt("type", OptType.DATA, "type of storage pool sources to discover",
                    required=True),
                Opt("srcSpec", STRING, "optional file of source xml to query for pools"))),
    Command("pool-autostart", cmd_pool_autostart, "autostart a pool",
            "Configure a pool to be automatically started at boot.", (
                POOL_OPT, Opt("disable", BOOL, "disable autostarting"))),
    Command("pool-build", _pool_action("build", "built", _build),
            "build a pool", "Build a given pool.", (POOL_OPT, *BUILD_OPTS[1:])),
    Command("pool-create-as", cmd_pool_create_as, "create a pool from a set of args",
            "Create a pool.", (*X_AS_OPTS, *BUILD_OPTS)),
    Command("pool-create", cmd_pool_create, "create a pool from an XML file",
            "Create a pool.", (file_opt("file containing an XML pool description"),
                               *BUILD_OPTS)),
    Command("pool-define-as", cmd_pool_define_as, "define a pool from a set of args",
            "Define a pool.", X_AS_OPTS),
    Command("pool-define", cmd_pool_define,
            "define an inactive persistent storage pool or modify an existing persistent "
            "one from an XML file", "Define or modify a persistent storage pool.", (
                file_opt("file containing an XML pool description"),
                Opt("validate", BOOL, "validate the XML against the schema"))),
    Command("pool-delete", _pool_action("delete", "deleted", lambda p, a: p.delete(0)),
            "delete a pool", "Delete a given pool.", (POOL_OPT,)),
    Command("pool-destroy", _pool_action("destroy", "destroyed", lambda p, a: p.destroy()),
            "destroy (stop) a pool",
            "Forcefully stop a given pool. Raw data in the pool is untouched", (POOL_OPT,)),
    Command("pool-dumpxml", cmd_pool_dumpxml, "pool information in XML",
            "Output the pool information as an XML dump to stdout.", (
                POOL_OPT, Opt("inactive", BOOL, "show inactive defined XML"), *XPATH_OPTS)),
    Command("pool-edit", cmd_pool_edit, "edit XML configuration for a storage pool",
            "Edit the XML configuration for a storage pool.", (POOL_OPT,)),
    Command("pool-info", cmd_pool_info, "storage pool information",
            "Returns basic information about the storage pool.", (
                POOL_OPT, Opt("bytes", BOOL, "Return pool info in bytes"))),
    Command("pool-list", cmd_pool_list, "list pools", "Returns list of pools.", (
        Opt("inactive", BOOL, "list inactive pools"),
        Opt("all", BOOL, "list inactive & active pools"),
        Opt("transient", BOOL, "list transient pools"),
        Opt("persistent", BOOL, "list persistent pools"),
        Opt("autostart", BOOL, "list pools with autostart enabled"),
        Opt("no-autostart", BOOL, "list pools with autostart disabled"),
        Opt("type", STRING, "only list pool of specified type(s) (if supported)"),
        Opt("details", BOOL, "display extended details for pools"),
        Opt("uuid", BOOL, "list UUID of active pools only"),
        Opt("name", BOOL, "list name of active pools only"))),
    Command("pool-name", cmd_pool_name, "convert a pool UUID to pool name", "", (POOL_OPT,)),
    Command("pool-refresh", _pool_action("refresh", "refreshed", lambda p, a: p.refresh(0)),
            "refresh a pool", "Refresh a given pool.", (POOL_OPT,)),
    Command("pool-start", cmd_pool_start, "start a (previously defined) inactive pool",
            "Start a pool.", (POOL_OPT, *BUILD_OPTS)),
    Command("pool-undefine", _pool_action("undefine", "has been undefined",
                                          lambda p, a: p.undefine()),
            "undefine an inactive pool", "Undefine the configuration for an inactive pool.",
            (POOL_OPT,)),
    Command("pool-uuid", cmd_pool_uuid, "convert a pool name to pool UUID", "", (POOL_OPT,)),
    Command("pool-event", cmd_pool_event, "Storage Pool Events",
            "List event types, or wait for storage pool events to occur", (
                Opt("pool", STRING, "filter by storage pool name or uuid"),
                Opt("event", STRING, "which event type to wait for"),
                Opt("loop", BOOL, "loop until timeout or interrupt, rather than one-shot"),
                Opt("timeout", INT, "timeout seconds"),
                Opt("list", BOOL, "list valid event types"),
                Opt("timestamp", BOOL, "show timestamp for each printed event"))),
    Command("pool-capabilities", cmd_pool_capabilities, "storage pool capabilities",
            "Returns capabilities of storage pool support."),
))
