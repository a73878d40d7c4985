"""dumpxml --xpath and --wrap (virshDumpXML): the document is parsed without its blank text,
each selected node is printed reformatted (libxml2's xmlNodeDump: double quotes, two-space
indentation), or all of them inside one <nodes> element."""

from __future__ import annotations

from lxml import etree

from qvirt.cli.virsh.control import Abort, Control
from qvirt.cli.virsh.grammar import Args


def _dump(node: object) -> str:
    if isinstance(node, etree._Element):
        return etree.tostring(node, pretty_print=True, with_tail=False,
                              encoding="unicode").rstrip("\n")
    if isinstance(node, etree._ElementUnicodeResult) and node.is_attribute:
        return f' {node.attrname!s}="{_attr_escape(str(node))}"'
    return str(node)


def _attr_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def select(ctl: Control, xml: str, xpath: str, wrap: bool) -> str:
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(xml.encode(), parser)
    try:
        found = root.getroottree().xpath(xpath)
    except etree.XPathError:
        # libxml2 reports on stderr itself; virsh prints nothing else and succeeds.
        ctl.err.write(f"XPath error : Invalid expression\n{xpath}\n")
        return ""
    if not isinstance(found, list):
        raise ctl.fail(f"internal error: Incorrect xpath '{xpath}'")
    if wrap:
        nodes = etree.Element("nodes")
        for node in found:
            if isinstance(node, etree._Element):
                nodes.append(_copy(node))
            elif isinstance(node, etree._ElementUnicodeResult) and node.is_attribute:
                # xmlAddChild of an attribute node: it becomes the wrapper's attribute.
                nodes.set(str(node.attrname), str(node))
        return etree.tostring(nodes, pretty_print=True, encoding="unicode")
    return "".join(_dump(node) + "\n" for node in found)


def _copy(node: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(node, with_tail=False))


def quiet_option(args: Args) -> str | None:
    """--xpath as vshCommandOptStringQuiet reads it: an empty one fails the command without a
    word."""
    value = args.get("xpath")
    if value == "":
        raise Abort
    return value if isinstance(value, str) else None
