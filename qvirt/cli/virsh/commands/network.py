"""Networking: the net-* commands (virsh-network.c)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import editor, table
from qvirt.cli.virsh.commands.pool import interruptible, now_stamp, timeout_ms
from qvirt.cli.virsh.control import BY_NAME, BY_UUID, Abort, Control
from qvirt.cli.virsh.grammar import Args, Command, CommandGroup, Opt, OptType, file_opt
from qvirt.cli.virsh.listing import ListKind, collect, lookup
from qvirt.cli.virsh.xpath import quiet_option, select
from qvirt.errors import ErrorNumber, QvirtError

BOOL, STRING, INT = OptType.BOOL, OptType.STRING, OptType.INT

EVENTS = ("Defined", "Undefined", "Started", "Stopped")
EVENT_IDS = ("lifecycle",)

# virNetworkUpdateCommand and virNetworkSection, by the names net-update takes.
UPDATE_COMMANDS = {"modify": C.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
                   "delete": C.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                   "add-last": C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                   "add-first": C.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST,
                   "add": C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST}
SECTIONS = {"bridge": C.VIR_NETWORK_SECTION_BRIDGE, "domain": C.VIR_NETWORK_SECTION_DOMAIN,
            "ip": C.VIR_NETWORK_SECTION_IP,
            "ip-dhcp-host": C.VIR_NETWORK_SECTION_IP_DHCP_HOST,
            "ip-dhcp-range": C.VIR_NETWORK_SECTION_IP_DHCP_RANGE,
            "forward": C.VIR_NETWORK_SECTION_FORWARD,
            "forward-interface": C.VIR_NETWORK_SECTION_FORWARD_INTERFACE,
            "forward-pf": C.VIR_NETWORK_SECTION_FORWARD_PF,
            "portgroup": C.VIR_NETWORK_SECTION_PORTGROUP,
            "dns-host": C.VIR_NETWORK_SECTION_DNS_HOST,
            "dns-txt": C.VIR_NETWORK_SECTION_DNS_TXT,
            "dns-srv": C.VIR_NETWORK_SECTION_DNS_SRV}

# net-list's filters: (option, flag).
LIST_FILTERS = (
    ("persistent", C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT),
    ("transient", C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT),
    ("autostart", C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART),
    ("no-autostart", C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART),
)



def lookup_network(ctl: Control, args: Args, by: int = BY_UUID | BY_NAME) -> qvirt.virNetwork:
    """virshCommandOptNetworkBy: a UUID-long text as a UUID first, then as a name; the last
    look-up's error stays for virsh to print after its own."""
    return network_by(ctl, ctl.opt_req(args, "network"), by)


def network_by(ctl: Control, text: str, by: int = BY_UUID | BY_NAME) -> qvirt.virNetwork:
    conn = ctl.connection()
    return lookup(ctl, text, by, "network", conn.networkLookupByUUIDString,
                  conn.networkLookupByName)


# Lifecycle -----------------------------------------------------------------------------------

def cmd_net_autostart(ctl: Control, args: Args) -> bool:
    net = lookup_network(ctl, args)
    name = ctl.opt_req(args, "network")
    enable = not args.get("disable")
    doing = "mark" if enable else "unmark"
    with ctl.failing(f"failed to {doing} network {name} as autostarted"):
        net.setAutostart(int(enable))
    ctl.print_extra(f"Network {name} {doing}ed as autostarted\n")
    return True


def cmd_net_create(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    flags = C.VIR_NETWORK_CREATE_VALIDATE if args.get("validate") else 0
    xml = ctl.read_file(path)
    conn = ctl.connection()
    with ctl.failing(f"Failed to create network from {path}"):
        net = conn.networkCreateXMLFlags(xml, flags) if flags else conn.networkCreateXML(xml)
    ctl.print_extra(f"Network {net.name()} created from {path}\n")
    return True


def cmd_net_define(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    flags = C.VIR_NETWORK_DEFINE_VALIDATE if args.get("validate") else 0
    xml = ctl.read_file(path)
    conn = ctl.connection()
    with ctl.failing(f"Failed to define network from {path}"):
        net = conn.networkDefineXMLFlags(xml, flags) if flags else conn.networkDefineXML(xml)
    ctl.print_extra(f"Network {net.name()} defined from {path}\n")
    return True


def _net_action(verb: str, done: str, act: Callable[[qvirt.virNetwork], object]
                ) -> Callable[[Control, Args], bool]:
    """net-start, -destroy, -undefine: one call on the named network."""
    def handler(ctl: Control, args: Args) -> bool:
        net = lookup_network(ctl, args)
        name = ctl.opt_req(args, "network")
        with ctl.failing(f"Failed to {verb} network {name}"):
            act(net)
        ctl.print_extra(f"Network {name} {done}\n")
        return True
    return handler


def cmd_net_update(ctl: Control, args: Args) -> bool:
    ctl.exclusive(args, "current", "live")
    ctl.exclusive(args, "current", "config")
    net = lookup_network(ctl, args)
    command_name = ctl.opt_req(args, "command")
    command = UPDATE_COMMANDS.get(command_name)
    if command is None:
        raise ctl.fail(f"unrecognized command name '{command_name}'")
    section_name = ctl.opt_req(args, "section")
    section = SECTIONS.get(section_name)
    if section is None:
        raise ctl.fail(f"unrecognized section name '{section_name}'")
    parent_index = ctl.opt_int(args, "parent-index")
    xml = ctl.opt_req(args, "xml")
    if not xml.startswith("<"):
        xml = ctl.read_file(xml)
    config, live = bool(args.get("config")), bool(args.get("live"))
    flags = (C.VIR_NETWORK_UPDATE_AFFECT_CONFIG if config else 0) | \
        (C.VIR_NETWORK_UPDATE_AFFECT_LIVE if live else 0)
    with ctl.failing(f"Failed to update network {net.name()}"):
        net.update(command, section, -1 if parent_index is None else parent_index, xml, flags)
    if config:
        affected = "persistent config and live state" if live else "persistent config"
    elif live:
        affected = "live state"
    else:
        affected = "live state" if _is_active(net) else "persistent config"
    ctl.print_extra(f"Updated network {net.name()} {affected}")
    return True


def _is_active(net: qvirt.virNetwork) -> bool:
    """virNetworkIsActive's answer as a C test reads it: an error (-1) is true."""
    try:
        return bool(net.isActive())
    except QvirtError:
        return True


# Information ---------------------------------------------------------------------------------

def cmd_net_dumpxml(ctl: Control, args: Args) -> bool:
    net = lookup_network(ctl, args)
    flags = C.VIR_NETWORK_XML_INACTIVE if args.get("inactive") else 0
    xpath = quiet_option(args)
    xml = net.XMLDesc(flags)
    if xpath is None:
        ctl.print(xml)
        return True
    ctl.print(select(ctl, xml, xpath, bool(args.get("wrap"))))
    return True


def cmd_net_info(ctl: Control, args: Args) -> bool:
    net = lookup_network(ctl, args)

    def line(label: str, value: object) -> None:
        ctl.print(f"{label:<15} {value}\n")

    line("Name:", net.name())
    line("UUID:", net.UUIDString())
    with suppress(QvirtError):
        line("Active:", "yes" if net.isActive() else "no")
    try:
        line("Persistent:", "yes" if net.isPersistent() else "no")
    except QvirtError:
        line("Persistent:", "unknown")
    try:
        line("Autostart:", "yes" if net.autostart() else "no")
    except QvirtError:
        line("Autostart:", "no autostart")
    with suppress(QvirtError):
        line("Bridge:", net.bridgeName())
    ctl.last_error = None
    return True


def cmd_net_name(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_network(ctl, args, by=BY_UUID).name()}\n")
    return True


def cmd_net_uuid(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_network(ctl, args, by=BY_NAME).UUIDString()}\n")
    return True


NETWORK_LIST = ListKind(
    C.VIR_CONNECT_LIST_NETWORKS_ACTIVE,
    C.VIR_CONNECT_LIST_NETWORKS_INACTIVE,
    C.VIR_CONNECT_LIST_NETWORKS_PERSISTENT,
    C.VIR_CONNECT_LIST_NETWORKS_TRANSIENT,
    C.VIR_CONNECT_LIST_NETWORKS_AUTOSTART,
    C.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART,
    "networks",
    "network",
)


def cmd_net_list(ctl: Control, args: Args) -> bool:
    show = [name for name in ("table", "name", "uuid") if args.get(name)]
    if len(show) > 1:
        raise ctl.fail("Only one argument from --table, --name and --uuid may be specified.")
    flags = C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
    if args.get("inactive"):
        flags = C.VIR_CONNECT_LIST_NETWORKS_INACTIVE
    if args.get("all"):
        flags = C.VIR_CONNECT_LIST_NETWORKS_ACTIVE | C.VIR_CONNECT_LIST_NETWORKS_INACTIVE
    for option, flag in LIST_FILTERS:
        if args.get(option):
            flags |= flag
    nets = collect(ctl, ctl.connection().listAllNetworks, flags, NETWORK_LIST)
    if show == ["name"]:
        for net in nets:
            ctl.print(f"{net.name()}\n")
        return True
    if show == ["uuid"]:
        for net in nets:
            ctl.print(f"{net.UUIDString()}\n")
        return True
    rows = []
    for net in nets:
        try:
            autostart = "yes" if net.autostart() else "no"
        except QvirtError:
            autostart = "no autostart"
        rows.append([net.name(), "active" if _is_active(net) else "inactive", autostart,
                     "yes" if _is_persistent(net) else "no"])
    ctl.last_error = None
    ctl.print(table.render(["Name", "State", "Autostart", "Persistent"], rows))
    return True


def _is_persistent(net: qvirt.virNetwork) -> bool:
    try:
        return bool(net.isPersistent())
    except QvirtError:
        return True


def cmd_net_dhcp_leases(ctl: Control, args: Args) -> bool:
    mac = ctl.opt_str(args, "mac")
    net = lookup_network(ctl, args)
    name = ctl.opt_req(args, "network")
    with ctl.failing(f"Failed to get leases info for {name}"):
        leases = net.DHCPLeases(mac, 0)
    rows = []
    for lease in sorted(leases, key=lambda lease: str(lease["mac"] or "").lower()):
        expiry = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(lease["expirytime"]))
        kind = {C.VIR_IP_ADDR_TYPE_IPV4: "ipv4", C.VIR_IP_ADDR_TYPE_IPV6: "ipv6"}.get(
            lease["type"])
        rows.append([expiry, lease["mac"] or "-", kind or "-",
                     f"{lease['ipaddr']}/{lease['prefix']}", lease["hostname"] or "-",
                     lease["clientid"] or "-"])
    ctl.print(table.render(["Expiry Time", "MAC address", "Protocol", "IP address",
                            "Hostname", "Client ID or DUID"], rows))
    return True


# net-edit ------------------------------------------------------------------------------------

def cmd_net_edit(ctl: Control, args: Args) -> bool:
    """virsh-edit.c's loop for a network: the inactive definition (or the only one, from a
    driver that takes no flags), edited, compared and defined."""
    net = lookup_network(ctl, args)
    conn = ctl.connection()
    flags = C.VIR_NETWORK_XML_INACTIVE
    try:
        doc = net.XMLDesc(flags)
    except QvirtError as err:
        if err.code != ErrorNumber.INVALID_ARG:
            raise
        flags = 0
        ctl.last_error = None
        doc = net.XMLDesc(flags)
    return editor.edit_loop(ctl, net.name(), doc, lambda: net.XMLDesc(flags),
                            lambda xml, _validate: conn.networkDefineXML(xml).name(), "Network {}",
                            relax=False)


# net-event -----------------------------------------------------------------------------------

def cmd_net_event(ctl: Control, args: Args) -> bool:
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
    net = None
    if args.get("network") is not None:
        with suppress(Abort):
            net = lookup_network(ctl, args)
    count = [0]
    stop = threading.Event()
    interrupted: list[bool] = []

    def lifecycle(conn: Any, n: Any, event: int, detail: int, opaque: Any) -> None:
        if not loop and count[0]:
            return
        text = EVENTS[event] if 0 <= event < len(EVENTS) else "unknown"
        prefix = f"{now_stamp()}: " if stamp else ""
        ctl.print(f"{prefix}event 'lifecycle' for network {n.name()}: {text}\n")
        ctl.out.flush()
        count[0] += 1
        if not loop:
            stop.set()

    conn = ctl.connection()
    with interruptible(stop, interrupted):
        callback_id = conn.networkEventRegisterAny(net, event_id, lifecycle, None)
        try:
            finished = stop.wait(timeout / 1000 if timeout is not None else None)
        finally:
            try:
                conn.networkEventDeregisterAny(callback_id)
            except QvirtError as err:
                ctl.last_error = err
                count[0] = 0
    if interrupted:
        ctl.print("event loop interrupted\n")
    elif not finished:
        ctl.print("event loop timed out\n")
    ctl.print(f"events received: {count[0]}\n")
    return count[0] > 0


# Network ports -------------------------------------------------------------------------------

def _lookup_port(ctl: Control, net: qvirt.virNetwork, args: Args) -> qvirt.virNetworkPort:
    """virshCommandOptNetworkPort: by UUID only."""
    text = ctl.opt_req(args, "port")
    try:
        return net.portLookupByUUIDString(text)
    except QvirtError:
        raise ctl.fail(f"failed to get network port '{text}'") from None


def cmd_net_port_list(ctl: Control, args: Args) -> bool:
    if args.get("table") and args.get("uuid"):
        raise ctl.fail("Only one argument from --table and --uuid may be specified.")
    net = lookup_network(ctl, args)
    with ctl.failing(None):
        ports = sorted(net.listAllPorts(0), key=lambda p: p.UUIDString())
    if args.get("uuid"):
        for port in ports:
            ctl.print(f"{port.UUIDString()}\n")
        return True
    ctl.print(table.render(["UUID"], [[port.UUIDString()] for port in ports]))
    return True


def cmd_net_port_create(ctl: Control, args: Args) -> bool:
    net = lookup_network(ctl, args)
    path = ctl.opt_req(args, "file")
    xml = ctl.read_file(path)
    flags = C.VIR_NETWORK_PORT_CREATE_VALIDATE if args.get("validate") else 0
    # (sic: virsh says "network" here)
    with ctl.failing(f"Failed to create network from {path}"):
        port = net.portCreateXML(xml, flags)
    ctl.print_extra(f"Network port {port.UUIDString()} created from {path}\n")
    return True


def _succeeding(handler: Callable[[Control, Args], bool]) -> Callable[[Control, Args], bool]:
    """net-port-dumpxml and net-port-delete as virsh 9.0 has them: their failures still
    report success, so virsh prints no libvirt error after its own."""
    def run(ctl: Control, args: Args) -> bool:
        try:
            return handler(ctl, args)
        except Abort:
            ctl.last_error = None
            return True
    return run


@_succeeding
def cmd_net_port_dumpxml(ctl: Control, args: Args) -> bool:
    port = _lookup_port(ctl, lookup_network(ctl, args), args)
    xpath = quiet_option(args)
    xml = port.XMLDesc(0)
    ctl.print(xml if xpath is None else select(ctl, xml, xpath, bool(args.get("wrap"))))
    return True


@_succeeding
def cmd_net_port_delete(ctl: Control, args: Args) -> bool:
    port = _lookup_port(ctl, lookup_network(ctl, args), args)
    with ctl.failing(f"Failed to delete network port {port.UUIDString()}"):
        port.delete(0)
    ctl.print_extra(f"Network port {port.UUIDString()} deleted\n")
    return True


NETWORK_OPT = Opt("network", OptType.DATA, "network name or uuid", required=True)
VALIDATE_OPT = Opt("validate", BOOL, "validate the XML against the schema")
PORT_OPT = Opt("port", OptType.DATA, "port UUID", required=True)
XPATH_OPTS = (Opt("xpath", STRING, "xpath expression to filter the XML document",
                  keyword_only=True),
              Opt("wrap", BOOL, "wrap xpath results in an common root element"))

GROUP = CommandGroup("Networking", "network", (
    Command("net-autostart", cmd_net_autostart, "autostart a network",
            "Configure a network to be automatically started at boot.", (
                NETWORK_OPT, Opt("disable", BOOL, "disable autostarting"))),
    Command("net-create", cmd_net_create, "create a network from an XML file",
            "Create a network.", (file_opt("file containing an XML network description"),
                                  VALIDATE_OPT)),
    Command("net-define", cmd_net_define,
            "define an inactive persistent virtual network or modify an existing persistent "
            "one from an XML file", "Define or modify a persistent virtual network.", (
                file_opt("file containing an XML network description"), VALIDATE_OPT)),
    Command("net-destroy", _net_action("destroy", "destroyed", lambda n: n.destroy()),
            "destroy (stop) a network", "Forcefully stop a given network.", (NETWORK_OPT,)),
    Command("net-dhcp-leases", cmd_net_dhcp_leases, "print lease info for a given network",
            "Print lease info for a given network", (
                NETWORK_OPT, Opt("mac", STRING, "MAC address"))),
    Command("net-dumpxml", cmd_net_dumpxml, "network information in XML",
            "Output the network information as an XML dump to stdout.", (
                NETWORK_OPT, Opt("inactive", BOOL, "show inactive defined XML"),
                *XPATH_OPTS)),
    Command("net-edit", cmd_net_edit, "edit XML configuration for a network",
            "Edit the XML configuration for a network.", (NETWORK_OPT,)),
    Command("net-event", cmd_net_event, "Network Events",
            "List event types, or wait for network events to occur", (
                Opt("network", STRING, "filter by network name or uuid"),
                Opt("event", STRING, "which event type to wait for"),
                Opt("loop", BOOL, "loop until timeout or interrupt, rather than one-shot"),
                Opt("timeout", INT, "timeout seconds"),
                Opt("list", BOOL, "list valid event types"),
                Opt("timestamp", BOOL, "show timestamp for each printed event"))),
    Command("net-info", cmd_net_info, "network information",
            "Returns basic information about the network", (NETWORK_OPT,)),
    Command("net-list", cmd_net_list, "list networks", "Returns list of networks.", (
        Opt("inactive", BOOL, "list inactive networks"),
        Opt("all", BOOL, "list inactive & active networks"),
        Opt("persistent", BOOL, "list persistent networks"),
        Opt("transient", BOOL, "list transient networks"),
        Opt("autostart", BOOL, "list networks with autostart enabled"),
        Opt("no-autostart", BOOL, "list networks with autostart disabled"),
        Opt("uuid", BOOL, "list uuid's only"),
        Opt("name", BOOL, "list network names only"),
        Opt("table", BOOL, "list table (default)"))),
    Command("net-name", cmd_net_name, "convert a network UUID to network name", "", (
        Opt("network", OptType.DATA, "network uuid", required=True),)),
    Command("net-start", _net_action("start", "started", lambda n: n.create()),
            "start a (previously defined) inactive network", "Start a network.",
            (NETWORK_OPT,)),
    Command("net-undefine", _net_action("undefine", "has been undefined",
                                        lambda n: n.undefine()),
            "undefine a persistent network",
            "Undefine the configuration for a persistent network.", (NETWORK_OPT,)),
    Command("net-update", cmd_net_update,
            "update parts of an existing network's configuration", "", (
                NETWORK_OPT,
                Opt("command", OptType.DATA,
                    "type of update (add-first, add-last (add), delete, or modify)",
                    required=True),
                Opt("section", OptType.DATA, "which section of network configuration to update",
                    required=True),
                Opt("xml", OptType.DATA,
                    "name of file containing xml (or, if it starts with '<', the complete xml "
                    "element itself) to add/modify, or to be matched for search",
                    required=True),
                Opt("parent-index", INT, "which parent object to search through"),
                Opt("config", BOOL, "affect next network startup"),
                Opt("live", BOOL, "affect running network"),
                Opt("current", BOOL, "affect current state of network"))),
    Command("net-uuid", cmd_net_uuid, "convert a network name to network UUID", "", (
        Opt("network", OptType.DATA, "network name", required=True),)),
    Command("net-port-list", cmd_net_port_list, "list network ports",
            "Returns list of network ports.", (
                NETWORK_OPT, Opt("uuid", BOOL, "list uuid's only"),
                Opt("table", BOOL, "list table (default)"))),
    Command("net-port-create", cmd_net_port_create, "create a network port from an XML file",
            "Create a network port.", (
                NETWORK_OPT, file_opt("file containing an XML network port description"),
                VALIDATE_OPT)),
    Command("net-port-dumpxml", cmd_net_port_dumpxml, "network port information in XML",
            "Output the network port information as an XML dump to stdout.", (
                NETWORK_OPT, PORT_OPT, *XPATH_OPTS)),
    Command("net-port-delete", cmd_net_port_delete, "delete the specified network port",
            "Delete the specified network port.", (NETWORK_OPT, PORT_OPT)),
))
