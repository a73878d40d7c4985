"""Domain Monitoring: list, dominfo, domstate, domcontrol (virsh-domain-monitor.c)."""

from __future__ import annotations

import functools

from lxml import etree

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import table
from qvirt.cli.virsh.commands import iface
from qvirt.cli.virsh.control import UINT_MAX, Abort, Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, CommandGroup, Opt, OptType
from qvirt.errors import ErrorNumber, QvirtError

BOOL = OptType.BOOL

STATES = ("no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed",
          "pmsuspended")

# virshDomain*Reason tables, indexed by state.
REASONS: dict[int, tuple[str, ...]] = {
    C.VIR_DOMAIN_NOSTATE: ("unknown",),
    C.VIR_DOMAIN_RUNNING: ("unknown", "booted", "migrated", "restored", "from snapshot",
                           "unpaused", "migration canceled", "save canceled", "event wakeup",
                           "crashed", "post-copy", "post-copy failed"),
    C.VIR_DOMAIN_BLOCKED: ("unknown",),
    C.VIR_DOMAIN_PAUSED: ("unknown", "user", "migrating", "saving", "dumping", "I/O error",
                          "watchdog", "from snapshot", "shutting down", "creating snapshot",
                          "crashed", "starting up", "post-copy", "post-copy failed",
                          "api error"),
    C.VIR_DOMAIN_SHUTDOWN: ("unknown", "user"),
    C.VIR_DOMAIN_SHUTOFF: ("unknown", "shutdown", "destroyed", "crashed", "migrated", "saved",
                           "failed", "from snapshot", "daemon"),
    C.VIR_DOMAIN_CRASHED: ("unknown", "panicked"),
    C.VIR_DOMAIN_PMSUSPENDED: ("unknown",),
}

CONTROL_STATES = ("ok", "background job", "occupied", "error")
CONTROL_ERROR_REASONS = ("", "unknown", "monitor failure", "internal (locking) error")


def state_text(state: int) -> str:
    return STATES[state] if 0 <= state < len(STATES) else "no state"


def reason_text(state: int, reason: int) -> str:
    reasons = REASONS.get(state, ())
    return reasons[reason] if 0 <= reason < len(reasons) else "unknown"


def domain_state(ctl: Control, dom: qvirt.virDomain) -> tuple[int, int]:
    """virshDomainState: virDomainGetState, or the state of virDomainGetInfo where the driver
    has no GetState."""
    with ctl.failing(None):
        try:
            state, reason = dom.state()
            return state, reason
        except QvirtError as err:
            if err.code != ErrorNumber.NO_SUPPORT:
                raise
        return dom.info()[0], 0


# list ----------------------------------------------------------------------------------------

# (option, flag) pairs of list's filters, in the order virsh ORs them in.
LIST_FILTERS = (
    ("persistent", C.VIR_CONNECT_LIST_DOMAINS_PERSISTENT),
    ("transient", C.VIR_CONNECT_LIST_DOMAINS_TRANSIENT),
    ("with-managed-save", C.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE),
    ("without-managed-save", C.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE),
    ("autostart", C.VIR_CONNECT_LIST_DOMAINS_AUTOSTART),
    ("no-autostart", C.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART),
    ("with-snapshot", C.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT),
    ("without-snapshot", C.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT),
    ("with-checkpoint", C.VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT),
    ("without-checkpoint", C.VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT),
    ("state-running", C.VIR_CONNECT_LIST_DOMAINS_RUNNING),
    ("state-paused", C.VIR_CONNECT_LIST_DOMAINS_PAUSED),
    ("state-shutoff", C.VIR_CONNECT_LIST_DOMAINS_SHUTOFF),
    ("state-other", C.VIR_CONNECT_LIST_DOMAINS_OTHER),
)


def _domain_order(a: qvirt.virDomain, b: qvirt.virDomain) -> int:
    """virshDomainSorter: running domains by id, then the others by name, case-blind."""
    ida, idb = a.ID(), b.ID()
    if ida < 0 and idb < 0:
        na, nb = a.name().lower(), b.name().lower()
        return (na > nb) - (na < nb)
    if ida >= 0 and idb >= 0:
        return (ida > idb) - (ida < idb)
    return -1 if ida >= 0 else 1


def title_of(ctl: Control, dom: qvirt.virDomain) -> str:
    """virshGetDomainDescription for the title, by the XML fallback (qvirt has no
    virDomainGetMetadata yet, which the fallback stands in for)."""
    with ctl.failing(None):
        xml = dom.XMLDesc(0)
    root = etree.fromstring(xml.encode())
    return str(root.xpath("string(./title[1])"))


def cmd_list(ctl: Control, args: Args) -> bool:
    flags = C.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    if args.get("inactive") or args.get("state-shutoff"):
        flags = C.VIR_CONNECT_LIST_DOMAINS_INACTIVE
    if args.get("all"):
        flags = C.VIR_CONNECT_LIST_DOMAINS_INACTIVE | C.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    for name, flag in LIST_FILTERS:
        if args.get(name):
            flags |= flag
    for other in ("name", "uuid", "id"):
        ctl.exclusive(args, "table", other)
    show_uuid, show_name, show_id = (bool(args.get(o)) for o in ("uuid", "name", "id"))
    show_table = not (show_uuid or show_name or show_id)
    with ctl.failing("Failed to list domains"):
        domains = ctl.connection().listAllDomains(flags)
    domains.sort(key=functools.cmp_to_key(_domain_order))
    header = ["Id", "Name", "State"] + (["Title"] if args.get("title") else [])
    rows = []
    for dom in domains:
        id_text = str(dom.ID()) if dom.ID() >= 0 else "-"
        if show_table:
            try:
                state, _reason = domain_state(ctl, dom)
            except Abort:
                ctl.last_error = None
                continue
            if (args.get("managed-save") and state == C.VIR_DOMAIN_SHUTOFF
                    and _has_managed_save(dom)):
                text = "saved"
            else:
                text = state_text(state)
            row = [id_text, dom.name(), text]
            if args.get("title"):
                row.append(title_of(ctl, dom))
            rows.append(row)
            continue
        parts = []
        if show_uuid:
            parts.append(dom.UUIDString())
        if show_id:
            if dom.ID() < 0 and not show_uuid and not show_name:
                continue
            parts.append(id_text)
        if show_name:
            parts.append(dom.name())
        ctl.print(" ".join(parts) + "\n")
    if show_table:
        ctl.print(table.render(header, rows))
    return True


def _has_managed_save(dom: qvirt.virDomain) -> bool:
    try:
        return bool(dom.hasManagedSaveImage(0))
    except QvirtError:
        return False


# dominfo, domstate, domcontrol ---------------------------------------------------------------

def _line(ctl: Control, label: str, value: object) -> None:
    ctl.print(f"{label:<15} {value}\n")


def cmd_dominfo(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    ok = True
    _line(ctl, "Id:", dom.ID() if dom.ID() >= 0 else "-")
    _line(ctl, "Name:", dom.name())
    _line(ctl, "UUID:", dom.UUIDString())
    try:
        _line(ctl, "OS Type:", dom.OSType())
    except QvirtError as err:
        ctl.last_error = err
    try:
        state, max_mem, memory, vcpus, cpu_time = dom.info()
    except QvirtError as err:
        ctl.last_error = err
        ok = False
    else:
        _line(ctl, "State:", state_text(state))
        _line(ctl, "CPU(s):", vcpus)
        if cpu_time:
            _line(ctl, "CPU time:", f"{cpu_time / 1e9:.1f}s")
        _line(ctl, "Max memory:", f"{max_mem} KiB" if max_mem != UINT_MAX else "no limit")
        _line(ctl, "Used memory:", f"{memory} KiB")
    try:
        _line(ctl, "Persistent:", "yes" if dom.isPersistent() else "no")
    except QvirtError as err:
        ctl.last_error = err
        _line(ctl, "Persistent:", "unknown")
    try:
        _line(ctl, "Autostart:", "enable" if dom.autostart() else "disable")
    except QvirtError as err:
        ctl.last_error = err
    try:
        _line(ctl, "Managed save:", "yes" if dom.hasManagedSaveImage(0) else "no")
    except QvirtError as err:
        ctl.last_error = err
        _line(ctl, "Managed save:", "unknown")
    try:
        model, doi = ctl.connection().getSecurityModel()
    except QvirtError as err:
        if err.code != ErrorNumber.NO_SUPPORT:
            ctl.last_error = err
            return False
        ctl.last_error = None
    else:
        if model:
            _line(ctl, "Security model:", model)
            _line(ctl, "Security DOI:", doi)
            with ctl.failing(None):
                label, enforcing = dom.securityLabel()
            if label:
                _line(ctl, "Security label:",
                      f"{label} ({'enforcing' if enforcing else 'permissive'})")
    return ok


def cmd_domstate(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    state, reason = domain_state(ctl, dom)
    if args.get("reason"):
        ctl.print(f"{state_text(state)} ({reason_text(state, reason)})\n")
    else:
        ctl.print(f"{state_text(state)}\n")
    return True


def cmd_domcontrol(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    with ctl.failing(None):
        state, details, state_time = dom.controlInfo(0)
    text = CONTROL_STATES[state] if 0 <= state < len(CONTROL_STATES) else "unknown"
    if state not in (C.VIR_DOMAIN_CONTROL_OK, C.VIR_DOMAIN_CONTROL_ERROR):
        ctl.print(f"{text} ({state_time / 1000.0:0.3f}s)\n")
    elif state == C.VIR_DOMAIN_CONTROL_ERROR and details > 0:
        why = (CONTROL_ERROR_REASONS[details] if details < len(CONTROL_ERROR_REASONS)
               else "unknown")
        ctl.print(f"{text}: {why}\n")
    else:
        ctl.print(f"{text}\n")
    return True


GROUP = CommandGroup("Domain Monitoring", "monitor", (
    Command("domcontrol", cmd_domcontrol, "domain control interface state",
            "Returns state of a control interface to the domain.", (DOMAIN_OPT,)),
    iface.DOMIF_GETLINK,
    iface.DOMIFLIST,
    iface.DOMIFSTAT,
    Command("dominfo", cmd_dominfo, "domain information",
            "Returns basic information about the domain.", (DOMAIN_OPT,)),
    Command("domstate", cmd_domstate, "domain state", "Returns state about a domain.", (
        DOMAIN_OPT,
        Opt("reason", BOOL, "also print reason for the state"))),
    Command("list", cmd_list, "list domains", "Returns list of domains.", (
        Opt("inactive", BOOL, "list inactive domains"),
        Opt("all", BOOL, "list inactive & active domains"),
        Opt("transient", BOOL, "list transient domains"),
        Opt("persistent", BOOL, "list persistent domains"),
        Opt("with-snapshot", BOOL, "list domains with existing snapshot"),
        Opt("without-snapshot", BOOL, "list domains without a snapshot"),
        Opt("with-checkpoint", BOOL, "list domains with existing checkpoint"),
        Opt("without-checkpoint", BOOL, "list domains without a checkpoint"),
        Opt("state-running", BOOL, "list domains in running state"),
        Opt("state-paused", BOOL, "list domains in paused state"),
        Opt("state-shutoff", BOOL, "list domains in shutoff state"),
        Opt("state-other", BOOL, "list domains in other states"),
        Opt("autostart", BOOL, "list domains with autostart enabled"),
        Opt("no-autostart", BOOL, "list domains with autostart disabled"),
        Opt("with-managed-save", BOOL, "list domains with managed save state"),
        Opt("without-managed-save", BOOL, "list domains without managed save"),
        Opt("uuid", BOOL, "list uuid's only"),
        Opt("name", BOOL, "list domain names only"),
        Opt("id", BOOL, "list domain IDs only"),
        Opt("table", BOOL, "list table (default)"),
        Opt("managed-save", BOOL, "mark inactive domains with managed save state"),
        Opt("title", BOOL, "show domain title"))),
))
