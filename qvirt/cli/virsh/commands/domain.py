"""Domain Management: definition, lifecycle, XML and autostart (virsh-domain.c)."""

from __future__ import annotations

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import console, editor, screenshot
from qvirt.cli.virsh.commands import iface
from qvirt.cli.virsh.control import BY_ID, BY_NAME, BY_UUID, Control
from qvirt.cli.virsh.grammar import (
    DOMAIN_OPT,
    Args,
    Command,
    CommandGroup,
    Handler,
    Opt,
    OptType,
    domain_opt,
    file_opt,
    split_commas,
)
from qvirt.cli.virsh.xpath import select
from qvirt.errors import ErrorNumber, QvirtError

BOOL, STRING = OptType.BOOL, OptType.STRING

VALIDATE_OPT = Opt("validate", BOOL, "validate the XML against the schema")
CONSOLE_OPT = Opt("console", BOOL, "attach to console after creation")
PAUSED_OPT = Opt("paused", BOOL, "leave the guest paused after creation")
AUTODESTROY_OPT = Opt("autodestroy", BOOL,
                      "automatically destroy the guest when virsh disconnects")
PASS_FDS_OPT = Opt("pass-fds", STRING, "pass file descriptors N,M,... to the guest")
RESET_NVRAM_OPT = Opt("reset-nvram", BOOL, "re-initialize NVRAM from its pristine template")
MODE_OPT = Opt("mode", STRING, "shutdown mode: acpi|agent|initctl|signal|paravirt")


def _flags(args: Args, table: tuple[tuple[str, int], ...]) -> int:
    flags = 0
    for name, flag in table:
        if args.get(name):
            flags |= flag
    return flags


def _pass_fds(ctl: Control, args: Args) -> None:
    """virshFetchPassFdsList: only checked, qvirt's API does not pass descriptors yet."""
    text = ctl.opt_str(args, "pass-fds")
    if text is None:
        return
    for part in text.split(","):
        if not part.isdigit():
            raise ctl.fail(f"Unable to parse FD number '{part}'")


# define, create, undefine ---------------------------------------------------------------------

def cmd_define(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    flags = C.VIR_DOMAIN_DEFINE_VALIDATE if args.get("validate") else 0
    xml = ctl.read_file(path)
    conn = ctl.connection()
    with ctl.failing(f"Failed to define domain from {path}"):
        dom = conn.defineXMLFlags(xml, flags) if flags else conn.defineXML(xml)
    ctl.print_extra(f"Domain '{dom.name()}' defined from {path}\n")
    return True


def cmd_create(ctl: Control, args: Args) -> bool:
    path = ctl.opt_req(args, "file")
    xml = ctl.read_file(path)
    _pass_fds(ctl, args)
    flags = _flags(args, (("paused", C.VIR_DOMAIN_START_PAUSED),
                          ("autodestroy", C.VIR_DOMAIN_START_AUTODESTROY),
                          ("validate", C.VIR_DOMAIN_START_VALIDATE),
                          ("reset-nvram", C.VIR_DOMAIN_START_RESET_NVRAM)))
    with ctl.failing(f"Failed to create domain from {path}"):
        dom = ctl.connection().createXML(xml, flags)
    ctl.print_extra(f"Domain '{dom.name()}' created from {path}\n")
    return console.run_console(ctl, dom, None, 0) if args.get("console") else True


UNDEFINE_FLAGS = (
    ("managed-save", C.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE),
    ("snapshots-metadata", C.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA),
    ("checkpoints-metadata", C.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA),
    ("nvram", C.VIR_DOMAIN_UNDEFINE_NVRAM),
    ("keep-nvram", C.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM),
    ("tpm", C.VIR_DOMAIN_UNDEFINE_TPM),
    ("keep-tpm", C.VIR_DOMAIN_UNDEFINE_KEEP_TPM),
)


def cmd_undefine(ctl: Control, args: Args) -> bool:
    ctl.exclusive(args, "nvram", "keep-nvram")
    ctl.exclusive(args, "tpm", "keep-tpm")
    storage = ctl.opt_str(args, "storage")
    if storage is not None or args.get("remove-all-storage"):
        raise ctl.fail("removing storage volumes is not supported by qvirt yet")
    if args.get("delete-storage-volume-snapshots"):
        raise ctl.fail("'--delete-storage-volume-snapshots' requires "
                       "'--remove-all-storage'")
    if args.get("wipe-storage"):
        raise ctl.fail("'--wipe-storage' requires '--storage <string>' or "
                       "'--remove-all-storage'")
    dom = ctl.lookup_domain(args)
    name = dom.name()
    flags = _flags(args, UNDEFINE_FLAGS)
    with ctl.failing(f"Failed to undefine domain '{name}'"):
        try:
            dom.undefineFlags(flags)
        except QvirtError as err:
            if err.code != ErrorNumber.NO_SUPPORT or flags:
                raise
            dom.undefine()
    ctl.print_extra(f"Domain '{name}' has been undefined\n")
    return True


# lifecycle ------------------------------------------------------------------------------------

def cmd_start(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args, by=BY_NAME | BY_UUID)
    name = dom.name()
    _pass_fds(ctl, args)
    if dom.ID() >= 0:
        raise ctl.fail("Domain is already active")
    flags = _flags(args, (("paused", C.VIR_DOMAIN_START_PAUSED),
                          ("autodestroy", C.VIR_DOMAIN_START_AUTODESTROY),
                          ("bypass-cache", C.VIR_DOMAIN_START_BYPASS_CACHE),
                          ("force-boot", C.VIR_DOMAIN_START_FORCE_BOOT),
                          ("reset-nvram", C.VIR_DOMAIN_START_RESET_NVRAM)))
    if flags & C.VIR_DOMAIN_START_FORCE_BOOT:
        # Force boot can be emulated where the driver refuses the flag: drop the managed save
        # image, if any, and start plainly.
        try:
            dom.createWithFlags(flags)
        except QvirtError as err:
            if err.code not in (ErrorNumber.NO_SUPPORT, ErrorNumber.INVALID_ARG):
                ctl.last_error = err
                return False
            ctl.last_error = None
            flags &= ~C.VIR_DOMAIN_START_FORCE_BOOT
        else:
            return _started(ctl, dom, args)
    with ctl.failing(f"Failed to start domain '{name}'"):
        if flags:
            dom.createWithFlags(flags)
        else:
            dom.create()
    return _started(ctl, dom, args)


def _started(ctl: Control, dom: qvirt.virDomain, args: Args) -> bool:
    """start's last words, then its console if asked for."""
    ctl.print_extra(f"Domain '{dom.name()}' started\n")
    return console.run_console(ctl, dom, None, 0) if args.get("console") else True


# --mode words and their flags (shutdown and reboot share them).
SHUTDOWN_MODES = (("acpi", C.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN),
                  ("agent", C.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT),
                  ("initctl", C.VIR_DOMAIN_SHUTDOWN_INITCTL),
                  ("signal", C.VIR_DOMAIN_SHUTDOWN_SIGNAL),
                  ("paravirt", C.VIR_DOMAIN_SHUTDOWN_PARAVIRT))


def _modes(ctl: Control, args: Args, expecting: str) -> int:
    text = ctl.opt_str(args, "mode")
    if text is None:
        return 0
    flags = 0
    known = dict(SHUTDOWN_MODES)
    for mode in split_commas(text):
        if mode not in known:
            raise ctl.fail(f"Unknown mode {mode} value, expecting {expecting}")
        flags |= known[mode]
    return flags


def cmd_shutdown(ctl: Control, args: Args) -> bool:
    flags = _modes(ctl, args, "'acpi', 'agent', 'initctl', 'signal', or 'paravirt'")
    dom = ctl.lookup_domain(args)
    name = dom.name()
    with ctl.failing(f"Failed to shutdown domain '{name}'"):
        if flags:
            dom.shutdownFlags(flags)
        else:
            dom.shutdown()
    ctl.print_extra(f"Domain '{name}' is being shutdown\n")
    return True


def cmd_reboot(ctl: Control, args: Args) -> bool:
    flags = _modes(ctl, args, "'acpi', 'agent', 'initctl', 'signal' or 'paravirt'")
    dom = ctl.lookup_domain(args)
    name = dom.name()
    with ctl.failing(f"Failed to reboot domain '{name}'"):
        dom.reboot(flags)
    ctl.print_extra(f"Domain '{name}' is being rebooted\n")
    return True


def _simple(verb: str, done: str, action: str) -> Handler:
    """reset, suspend, resume: look the domain up, call, report."""

    def handler(ctl: Control, args: Args) -> bool:
        dom = ctl.lookup_domain(args)
        name = dom.name()
        with ctl.failing(f"Failed to {verb} domain '{name}'"):
            getattr(dom, action)()
        ctl.print_extra(f"Domain '{name}' {done}\n")
        return True

    return handler


def cmd_destroy(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    name = dom.name()
    flags = _flags(args, (("graceful", C.VIR_DOMAIN_DESTROY_GRACEFUL),
                          ("remove-logs", C.VIR_DOMAIN_DESTROY_REMOVE_LOGS)))
    with ctl.failing(f"Failed to destroy domain '{name}'"):
        if flags:
            dom.destroyFlags(flags)
        else:
            dom.destroy()
    ctl.print_extra(f"Domain '{name}' destroyed\n")
    return True


# XML ------------------------------------------------------------------------------------------

DUMPXML_FLAGS = (("inactive", C.VIR_DOMAIN_XML_INACTIVE),
                 ("security-info", C.VIR_DOMAIN_XML_SECURE),
                 ("update-cpu", C.VIR_DOMAIN_XML_UPDATE_CPU),
                 ("migratable", C.VIR_DOMAIN_XML_MIGRATABLE))


def cmd_dumpxml(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    flags = _flags(args, DUMPXML_FLAGS)
    xpath = ctl.opt_str(args, "xpath")
    with ctl.failing(None):
        xml = dom.XMLDesc(flags)
    if xpath is None:
        ctl.print(xml)
        return True
    ctl.print(select(ctl, xml, xpath, bool(args.get("wrap"))))
    return True


def cmd_domxml_to_native(ctl: Control, args: Args) -> bool:
    fmt = ctl.opt_req(args, "format")
    path = ctl.opt_str(args, "xml")
    ctl.exclusive(args, "domain", "xml")
    if args.get("domain") is not None:
        with ctl.failing("failed to retrieve XML"):
            xml = ctl.lookup_domain(args).XMLDesc(0)
    elif path is not None:
        xml = ctl.read_file(path)
    else:
        raise ctl.fail("need either domain or domain XML")
    with ctl.failing(None):
        native = ctl.connection().domainXMLToNative(fmt, xml, 0)
    ctl.print(f"{native}\n")
    return True


def cmd_domxml_from_native(ctl: Control, args: Args) -> bool:
    fmt = ctl.opt_req(args, "format")
    config = ctl.read_file(ctl.opt_req(args, "config"))
    with ctl.failing(None):
        xml = ctl.connection().domainXMLFromNative(fmt, config, 0)
    ctl.print(xml)
    return True


# autostart and id conversions ----------------------------------------------------------------

def cmd_autostart(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    name = dom.name()
    enable = not args.get("disable")
    doing = "mark" if enable else "unmark"
    with ctl.failing(f"Failed to {doing} domain '{name}' as autostarted"):
        dom.setAutostart(int(enable))
    ctl.print_extra(f"Domain '{name}' {doing}ed as autostarted\n")
    return True


def cmd_domid(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args, by=BY_NAME | BY_UUID)
    ctl.print(f"{dom.ID()}\n" if dom.ID() >= 0 else "-\n")
    return True


def cmd_domname(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args, by=BY_ID | BY_UUID)
    ctl.print(f"{dom.name()}\n")
    return True


def cmd_domuuid(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args, by=BY_NAME | BY_ID)
    ctl.print(f"{dom.UUIDString()}\n")
    return True


GROUP = CommandGroup("Domain Management", "domain", (
    iface.ATTACH_INTERFACE,
    Command("autostart", cmd_autostart, "autostart a domain",
            "Configure a domain to be automatically started at boot.", (
                DOMAIN_OPT,
                Opt("disable", BOOL, "disable autostarting"))),
    console.COMMAND,
    Command("create", cmd_create, "create a domain from an XML file", "Create a domain.", (
        file_opt("file containing an XML domain description"),
        CONSOLE_OPT, PAUSED_OPT, AUTODESTROY_OPT, PASS_FDS_OPT, VALIDATE_OPT,
        RESET_NVRAM_OPT)),
    Command("define", cmd_define, "define (but don't start) a domain from an XML file",
            "Define a domain.", (
                file_opt("file containing an XML domain description"),
                VALIDATE_OPT)),
    editor.DESC,
    Command("destroy", cmd_destroy, "destroy (stop) a domain",
            "Forcefully stop a given domain, but leave its resources intact.", (
                DOMAIN_OPT,
                Opt("graceful", BOOL, "terminate gracefully"),
                Opt("remove-logs", BOOL, "remove domain logs"))),
    iface.DETACH_INTERFACE,
    Command("domid", cmd_domid, "convert a domain name or UUID to domain id", "",
            (domain_opt("domain name or uuid"),)),
    iface.DOMIF_SETLINK,
    Command("domname", cmd_domname, "convert a domain id or UUID to domain name", "",
            (domain_opt("domain id or uuid"),)),
    Command("domuuid", cmd_domuuid, "convert a domain name or id to domain UUID", "",
            (domain_opt("domain id or name"),)),
    Command("domxml-from-native", cmd_domxml_from_native, "Convert native config to domain XML",
            "Convert native guest configuration format to domain XML format.", (
                Opt("format", OptType.DATA, "source config data format", required=True),
                Opt("config", OptType.DATA, "config data file to import from",
                    required=True))),
    Command("domxml-to-native", cmd_domxml_to_native, "Convert domain XML to native config",
            "Convert domain XML config to a native guest configuration format.", (
                Opt("format", OptType.DATA, "target config data type format", required=True),
                Opt("domain", STRING, "domain name, id or uuid", keyword_only=True),
                Opt("xml", STRING, "xml data file to export from"))),
    Command("dumpxml", cmd_dumpxml, "domain information in XML",
            "Output the domain information as an XML dump to stdout.", (
                DOMAIN_OPT,
                Opt("inactive", BOOL, "show inactive defined XML"),
                Opt("security-info", BOOL,
                    "include security sensitive information in XML dump"),
                Opt("update-cpu", BOOL, "update guest CPU according to host CPU"),
                Opt("migratable", BOOL, "provide XML suitable for migrations"),
                Opt("xpath", STRING, "xpath expression to filter the XML document",
                    keyword_only=True),
                Opt("wrap", BOOL, "wrap xpath results in an common root element"))),
    editor.EDIT,
    Command("reboot", cmd_reboot, "reboot a domain",
            "Run a reboot command in the target domain.", (DOMAIN_OPT, MODE_OPT)),
    Command("reset", _simple("reset", "was reset", "reset"), "reset a domain",
            "Reset the target domain as if by power button", (DOMAIN_OPT,)),
    Command("resume", _simple("resume", "resumed", "resume"), "resume a domain",
            "Resume a previously suspended domain.", (DOMAIN_OPT,)),
    screenshot.COMMAND,
    Command("shutdown", cmd_shutdown, "gracefully shutdown a domain",
            "Run shutdown in the target domain.", (DOMAIN_OPT, MODE_OPT)),
    Command("start", cmd_start, "start a (previously defined) inactive domain",
            "Start a domain, either from the last managedsave\n"
            "    state, or via a fresh boot if no managedsave state\n"
            "    is present.", (
                domain_opt("name of the inactive domain"),
                CONSOLE_OPT, PAUSED_OPT, AUTODESTROY_OPT,
                Opt("bypass-cache", BOOL, "avoid file system cache when loading"),
                Opt("force-boot", BOOL, "force fresh boot by discarding any managed save"),
                PASS_FDS_OPT, RESET_NVRAM_OPT)),
    Command("suspend", _simple("suspend", "suspended", "suspend"), "suspend a domain",
            "Suspend a running domain.", (DOMAIN_OPT,)),
    Command("undefine", cmd_undefine, "undefine a domain",
            "Undefine an inactive domain, or convert persistent to transient.", (
                DOMAIN_OPT,
                Opt("managed-save", BOOL, "remove domain managed state file"),
                Opt("storage", STRING, "remove associated storage volumes (comma separated "
                    "list of targets or source paths) (see domblklist)"),
                Opt("remove-all-storage", BOOL,
                    "remove all associated storage volumes (use with caution)"),
                Opt("delete-storage-volume-snapshots", BOOL,
                    "delete snapshots associated with volume(s), requires "
                    "--remove-all-storage (must be supported by storage driver)"),
                Opt("wipe-storage", BOOL, "wipe data on the removed volumes"),
                Opt("snapshots-metadata", BOOL,
                    "remove all domain snapshot metadata (vm must be inactive)"),
                Opt("checkpoints-metadata", BOOL,
                    "remove all domain checkpoint metadata (vm must be inactive)"),
                Opt("nvram", BOOL, "remove nvram file"),
                Opt("keep-nvram", BOOL, "keep nvram file"),
                Opt("tpm", BOOL, "remove TPM state"),
                Opt("keep-tpm", BOOL, "keep TPM state"))),
))
