"""A guest's network interfaces: attach-interface, detach-interface and domif-setlink
(virsh-domain.c, Domain Management) and domiflist, domifstat and domif-getlink
(virsh-domain-monitor.c, Domain Monitoring). Each group's table takes its commands from here
in virsh's order."""

from __future__ import annotations

import re

from lxml import etree

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import table
from qvirt.cli.virsh.control import Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, Opt, OptType
from qvirt.errors import QvirtError
from qvirt.util.mac import parse_mac

BOOL, STRING = OptType.BOOL, OptType.STRING
ULLONG_MAX = 2**64 - 1

# The interface types attach-interface can write a <source> for; any other type, known to
# libvirt or not, it refuses.
ATTACHABLE = ("network", "bridge", "direct", "hostdev", "vhostuser")
SOURCE_MODES = ("server", "client")
RATE_FIELDS = ("average", "peak", "burst", "floor")
_PCI = re.compile(r"\s*(?:0[xX])?([0-9a-fA-F]+):(?:0[xX])?([0-9a-fA-F]+):"
                  r"(?:0[xX])?([0-9a-fA-F]+)\.(?:0[xX])?([0-9a-fA-F]+)")


def _affect(ctl: Control, args: Args) -> tuple[int, bool]:
    """The --persistent/--config/--live/--current set of attach- and detach-interface:
    (flags, whether --current was given)."""
    ctl.exclusive(args, "persistent", "current")
    ctl.exclusive(args, "current", "live")
    ctl.exclusive(args, "current", "config")
    flags = C.VIR_DOMAIN_AFFECT_CURRENT
    if args.get("config") or args.get("persistent"):
        flags |= C.VIR_DOMAIN_AFFECT_CONFIG
    if args.get("live"):
        flags |= C.VIR_DOMAIN_AFFECT_LIVE
    return flags, bool(args.get("current"))


def _persistent_live(dom: qvirt.virDomain, args: Args, flags: int) -> int:
    """--persistent on a running domain changes it live too."""
    if args.get("persistent"):
        try:
            if dom.isActive():
                flags |= C.VIR_DOMAIN_AFFECT_LIVE
        except QvirtError:
            pass
    return flags


def _rate(ctl: Control, text: str) -> dict[str, int]:
    """virshParseRateStr: 'average,peak,burst,floor', empty fields skipped."""
    fields = text.split(",")
    if len(fields) > len(RATE_FIELDS):
        raise ctl.fail(f"Rate string '{text}' has too many fields")
    rate = dict.fromkeys(RATE_FIELDS, 0)
    for name, field in zip(RATE_FIELDS, fields, strict=False):
        if not field:
            continue
        digits = field.lstrip(" \t\n\v\f\r")
        if digits.startswith("+"):
            digits = digits[1:]
        if not digits.isdigit() or not digits.isascii() or int(digits) > ULLONG_MAX:
            raise ctl.fail(f"field '{name}' is malformed")
        rate[name] = int(digits)
    return rate


def _rate_attrs(rate: dict[str, int], names: tuple[str, ...]) -> str:
    return "".join(f" {name}='{rate[name]}'" for name in names if rate[name] > 0)


def cmd_attach_interface(ctl: Control, args: Args) -> bool:
    flags, current = _affect(ctl, args)
    o = {key: ctl.opt_str(args, key) for key in (
        "type", "source", "target", "mac", "script", "model", "alias", "inbound", "outbound",
        "source-mode")}
    type, source = str(o["type"]), str(o["source"])
    if type not in ATTACHABLE:
        raise ctl.fail(f"No support for {type} in command 'attach-interface'")
    mode = o["source-mode"]
    if mode is not None and mode not in SOURCE_MODES:
        raise ctl.fail(f"Invalid source mode: {mode}")
    inbound = outbound = None
    if o["inbound"] is not None:
        inbound = _rate(ctl, o["inbound"])
        if not inbound["average"] and not inbound["floor"]:
            raise ctl.fail("either inbound average or floor is mandatory")
    if o["outbound"] is not None:
        outbound = _rate(ctl, o["outbound"])
        if not outbound["average"]:
            raise ctl.fail("outbound average is mandatory")
        if outbound["floor"]:
            raise ctl.fail("outbound floor is unsupported yet")
    managed = " managed='yes'" if args.get("managed") else ""
    lines = [f"<interface type='{type}'{managed}>"]
    if type in ("network", "bridge"):
        lines.append(f"  <source {type}='{source}'/>")
    elif type == "direct":
        lines.append(f"  <source dev='{source}'/>")
    elif type == "hostdev":
        pci = _PCI.match(source)
        if pci is None:
            raise ctl.fail(f"cannot parse pci address '{source}' for network interface")
        domain, bus, slot, function = (int(part, 16) for part in pci.groups())
        lines += ["  <source>",
                  f"    <address type='pci' domain='0x{domain:04x}' bus='0x{bus:02x}' "
                  f"slot='0x{slot:02x}' function='0x{function:x}'/>",
                  "  </source>"]
    else:
        if mode is None:
            raise ctl.fail("source-mode is mandatory")
        lines.append(f"  <source type='unix' path='{source}' mode='{mode}'/>")
    for key, element in (("target", "target dev"), ("mac", "mac address"),
                         ("script", "script path"), ("model", "model type"),
                         ("alias", "alias name")):
        if o[key] is not None:
            lines.append(f"  <{element}='{o[key]}'/>")
    if inbound is not None or outbound is not None:
        lines.append("  <bandwidth>")
        if inbound is not None:
            lines.append(f"    <inbound{_rate_attrs(inbound, RATE_FIELDS)}/>")
        if outbound is not None:
            lines.append(f"    <outbound{_rate_attrs(outbound, RATE_FIELDS[:3])}/>")
        lines.append("  </bandwidth>")
    lines.append("</interface>")
    xml = "".join(line + "\n" for line in lines)
    if args.get("print-xml"):
        ctl.print(xml)
        return True
    dom = ctl.lookup_domain(args)
    flags = _persistent_live(dom, args, flags)
    with ctl.failing("Failed to attach interface"):
        if flags or current:
            dom.attachDeviceFlags(xml, flags)
        else:
            dom.attachDevice(xml)
    ctl.print_extra("Interface attached successfully\n")
    return True


def _document(dom: qvirt.virDomain, flags: int) -> etree._Element:
    """The domain's XML as virsh parses it, blank text kept."""
    return etree.fromstring(dom.XMLDesc(flags).encode())


def _detach_one(ctl: Control, dom: qvirt.virDomain, flags: int, current: bool, type: str,
                mac: str | None, print_xml: bool) -> None:
    """virshDomainDetachInterface: the interface of that type (and MAC) in the definition
    ``flags`` reads, handed back as virsh serializes it."""
    xml_flags = C.VIR_DOMAIN_XML_INACTIVE if flags & C.VIR_DOMAIN_AFFECT_CONFIG else 0
    root = _document(dom, xml_flags)
    xpath = f"/domain/devices/interface[@type='{type}']"
    try:
        found = root.xpath(xpath)
    except etree.XPathError:
        # libxml2 reports on stderr itself, the caret under where the type's quote ended
        # the literal.
        column = len("/domain/devices/interface[@type='") + type.index("'") + 1
        ctl.err.write(f"XPath error : Invalid predicate\n{xpath}\n{' ' * column}^\n")
        found = []
    assert isinstance(found, list)
    nodes = [node for node in found if isinstance(node, etree._Element)]
    if not nodes:
        raise ctl.fail(f"No interface found whose type is {type}")
    if mac is None and len(nodes) > 1:
        raise ctl.fail(f"Domain has {len(nodes)} interfaces. Please specify which one to "
                       f"detach using --mac")
    match = nodes[0] if mac is None else None
    if mac is not None:
        wanted = parse_mac(mac)
        for node in nodes:
            for element in node.findall("mac"):
                if wanted is not None and parse_mac(element.get("address")) == wanted:
                    if match is not None:
                        raise ctl.fail(
                            f"Domain has multiple interfaces matching MAC address {mac}. "
                            f"You must use detach-device and specify the device pci "
                            f"address to remove it.")
                    match = node
        if match is None:
            raise ctl.fail(f"No interface with MAC address {mac} was found")
    assert match is not None
    text = str(etree.tostring(match, with_tail=False, encoding="unicode"))
    if print_xml:
        ctl.print(text)
        return
    with ctl.failing("Failed to detach interface"):
        if flags or current:
            dom.detachDeviceFlags(text, flags)
        else:
            dom.detachDevice(text)


def cmd_detach_interface(ctl: Control, args: Args) -> bool:
    flags, current = _affect(ctl, args)
    dom = ctl.lookup_domain(args)
    type = ctl.opt_req(args, "type")
    mac = ctl.opt_str(args, "mac")
    print_xml = bool(args.get("print-xml"))
    flags = _persistent_live(dom, args, flags)
    if flags & C.VIR_DOMAIN_AFFECT_CONFIG:
        _detach_one(ctl, dom, C.VIR_DOMAIN_AFFECT_CONFIG, current, type, mac, print_xml)
    if not flags & C.VIR_DOMAIN_AFFECT_CONFIG or flags & C.VIR_DOMAIN_AFFECT_LIVE:
        _detach_one(ctl, dom, flags & ~C.VIR_DOMAIN_AFFECT_CONFIG, current, type, mac,
                    print_xml)
    if not print_xml:
        ctl.print_extra("Interface detached successfully\n")
    return True


def cmd_domif_setlink(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    iface = ctl.opt_req(args, "interface")
    state = ctl.opt_req(args, "state")
    if state not in ("up", "down"):
        raise ctl.fail(f"invalid link state '{state}'")
    flags = C.VIR_DOMAIN_AFFECT_CONFIG if args.get("config") else C.VIR_DOMAIN_AFFECT_LIVE
    try:
        if not dom.isActive():
            flags = C.VIR_DOMAIN_AFFECT_CONFIG
    except QvirtError:
        pass
    root = _document(dom, C.VIR_DOMAIN_XML_INACTIVE if flags & C.VIR_DOMAIN_AFFECT_CONFIG
                     else 0)
    nics = root.findall("devices/interface")
    if not nics:
        raise ctl.fail("Failed to extract interface information or no interfaces found")
    for node in nics:
        mac = node.xpath("string(./mac/@address)")
        target = node.xpath("string(./target/@dev)")
        if (mac and str(mac).lower() == iface.lower()) or (target and target == iface):
            break
    else:
        raise ctl.fail(f"interface '{iface}' not found")
    link = node.find("link")
    if link is None:
        link = etree.SubElement(node, "link")
    else:
        link.attrib.clear()
    link.set("state", state)
    text = str(etree.tostring(node, with_tail=False, encoding="unicode"))
    if args.get("print-xml"):
        ctl.print(text)
        return True
    with ctl.failing("Failed to update interface link state"):
        dom.updateDeviceFlags(text, flags)
    ctl.print_extra("Device updated successfully\n")
    return True


# Monitoring ----------------------------------------------------------------------------------

def cmd_domif_getlink(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    iface = ctl.opt_req(args, "interface")
    root = _document(dom, C.VIR_DOMAIN_XML_INACTIVE if args.get("config") else 0)
    mac = parse_mac(iface)
    mac_text = ":".join(f"{b:02x}" for b in mac) if mac is not None else ""
    found = [node for node in root.findall("devices/interface")
             if (mac_text and node.xpath("string(./mac/@address)") == mac_text)
             or node.xpath("string(./target/@dev)") == iface]
    if not found:
        if mac_text:
            raise ctl.fail(f"Interface (mac: {mac_text}) not found.")
        raise ctl.fail(f"Interface (dev: {iface}) not found.")
    if len(found) > 1:
        raise ctl.fail("multiple matching interfaces found")
    state = str(found[0].xpath("string(./link/@state)")) or "up"
    ctl.print(f"{iface} {state}")
    return True


def cmd_domiflist(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    root = _document(dom, C.VIR_DOMAIN_XML_INACTIVE if args.get("inactive") else 0)
    rows = []
    for node in root.findall("devices/interface"):
        source = node.xpath("string(./source/@bridge|./source/@dev|./source/@network|"
                            "./source/@name|./source/@path)")
        cells = [node.xpath("string(./target/@dev)"), node.get("type") or "",
                 source, node.xpath("string(./model/@type)"),
                 node.xpath("string(./mac/@address)")]
        rows.append([str(cell) or "-" for cell in cells])
    ctl.print(table.render(["Interface", "Type", "Source", "Model", "MAC"], rows))
    return True


def cmd_domifstat(ctl: Control, args: Args) -> bool:
    name = ctl.opt_req(args, "domain")
    dom = ctl.lookup_domain(args)
    device = ctl.opt_req(args, "interface")
    with ctl.failing(f"Failed to get interface stats {name} {device}"):
        stats = dom.interfaceStats(device)
    for label, value in zip(("rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes",
                             "tx_packets", "tx_errs", "tx_drop"), stats, strict=True):
        if value >= 0:
            ctl.print(f"{device} {label} {value}\n")
    return True


AFFECT_OPTS = (Opt("persistent", BOOL, "make live change persistent"),
               Opt("config", BOOL, "affect next boot"),
               Opt("live", BOOL, "affect running domain"),
               Opt("current", BOOL, "affect current domain"))

ATTACH_INTERFACE = Command(
    "attach-interface", cmd_attach_interface, "attach network interface",
    "Attach new network interface.", (
        DOMAIN_OPT,
        Opt("type", OptType.DATA, "network interface type", required=True),
        Opt("source", OptType.DATA, "source of network interface", required=True),
        Opt("target", STRING, "target network name"),
        Opt("mac", STRING, "MAC address"),
        Opt("script", STRING, "script used to bridge network interface"),
        Opt("model", STRING, "model type"),
        Opt("alias", STRING, "custom alias name of interface device"),
        Opt("inbound", STRING, "control domain's incoming traffics"),
        Opt("outbound", STRING, "control domain's outgoing traffics"),
        *AFFECT_OPTS,
        Opt("print-xml", BOOL, "print XML document rather than attach the interface"),
        Opt("managed", BOOL,
            "libvirt will automatically detach/attach the device from/to host"),
        Opt("source-mode", STRING, "mode attribute of <source/> element")))
DETACH_INTERFACE = Command(
    "detach-interface", cmd_detach_interface, "detach network interface",
    "Detach network interface.", (
        DOMAIN_OPT,
        Opt("type", OptType.DATA, "network interface type", required=True),
        Opt("mac", STRING, "MAC address"),
        *AFFECT_OPTS,
        Opt("print-xml", BOOL, "print XML document rather than detach the interface")))
DOMIF_SETLINK = Command(
    "domif-setlink", cmd_domif_setlink, "set link state of a virtual interface",
    "Set link state of a domain's virtual interface. This command wraps usage of "
    "update-device command.", (
        DOMAIN_OPT,
        Opt("interface", OptType.DATA, "interface device (MAC Address)", required=True),
        Opt("state", OptType.DATA, "new state of the device", required=True),
        Opt("config", BOOL, "affect next boot"),
        Opt("print-xml", BOOL,
            "print XML document rather than set the interface link state")))
DOMIF_GETLINK = Command(
    "domif-getlink", cmd_domif_getlink, "get link state of a virtual interface",
    "Get link state of a domain's virtual interface.", (
        DOMAIN_OPT,
        Opt("interface", OptType.DATA, "interface device (MAC Address)", required=True),
        Opt("config", BOOL, "Get persistent interface state")))
DOMIFLIST = Command(
    "domiflist", cmd_domiflist, "list all domain virtual interfaces",
    "Get the summary of virtual interfaces for a domain.", (
        DOMAIN_OPT, Opt("inactive", BOOL, "get inactive rather than running configuration")))
DOMIFSTAT = Command(
    "domifstat", cmd_domifstat, "get network interface stats for a domain",
    "Get network interface stats for a running domain.", (
        DOMAIN_OPT,
        Opt("interface", OptType.DATA, "interface device specified by name or MAC Address",
            required=True)))
