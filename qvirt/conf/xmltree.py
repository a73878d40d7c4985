"""Raw XML: a safe parser with libvirt's error texts, and libvirt's way of writing XML out.

Schema modules never touch lxml: they declare fields (xmlobject.py), and this module is the only
place that parses text or prints it. Output follows libvirt's virBuffer formatting: two-space
indentation, attributes in single quotes, empty elements self-closed, and <, >, &, ' and "
escaped in attribute values and text alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from qvirt.errors import XMLDetail, XMLError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                          remove_pis=True, huge_tree=False, load_dtd=False)

Element = etree._Element


def parse(text: str | bytes, context: str) -> Element:
    """The root element of ``text``; libxml2's own message in the error, as libvirt reports it.

    ``context`` names the document as libvirt's parse helper does ("(domain_definition)").
    """
    if isinstance(text, str):
        text = _utf8(text)
    try:
        root = etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as err:
        raise XMLDetail(_syntax_message(err, text, context)) from err
    if root is None:
        raise XMLError("missing root element")
    return root


def _utf8(text: str) -> bytes:
    """Strings from the wire carry bytes that are not UTF-8 as surrogates (surrogateescape):
    give libxml2 those bytes back, so it refuses them in its own words as libvirt's parser
    does; any other lone surrogate goes through as bytes libxml2 refuses the same way."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _syntax_message(err: etree.XMLSyntaxError, text: bytes, context: str) -> str:
    """libvirt's catchXMLError layout: "ctx:line: message", the line, and a caret under the
    column; "(null)" stands for the line when the parser stopped at the end of the input."""
    line_no, column = err.lineno or 1, max(err.offset or 0, 0)
    lines = text.decode("utf-8", "replace").splitlines()
    source = lines[line_no - 1] if 0 < line_no <= len(lines) else "(null)"
    message = (err.msg or "parser error").rsplit(", line ", 1)[0]
    return f"{context}:{line_no}: {message}\n{source}\n{'-' * column}^"


def local_name(node: Element) -> str:
    tag = node.tag
    return tag.split("}", 1)[1] if isinstance(tag, str) and tag.startswith("{") else str(tag)


def raw_string(node: Element) -> str:
    """A subtree as libvirt keeps it verbatim (<metadata>): copied out of its document, so it
    declares only the namespaces it uses (not xmlns:qemu from <domain>), blank text dropped
    as libvirt's parser drops it, and printed re-indented."""
    clone = copy.deepcopy(node)
    etree.cleanup_namespaces(clone)
    for sub in clone.iter():
        if sub.text is not None and not sub.text.strip() and len(sub):
            sub.text = None
        if sub is not clone and sub.tail is not None and not sub.tail.strip():
            sub.tail = None
    clone.tail = None
    return str(etree.tostring(clone, encoding="unicode", pretty_print=True))


@dataclass
class Node:
    """An output element: attributes keep insertion order, which is libvirt's order."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | RawXML] = field(default_factory=list)
    text: str | None = None
    # libvirt opens and closes some elements on two lines even when empty (<devices>).
    open_empty: bool = False

    def child(self, tag: str) -> Node:
        """The first child named ``tag``, appended if there is none."""
        for c in self.children:
            if isinstance(c, Node) and c.tag == tag:
                return c
        node = Node(tag)
        self.children.append(node)
        return node

    def is_empty(self) -> bool:
        return not self.attrs and not self.children and self.text is None

    def to_string(self, indent: int = 0) -> str:
        out: list[str] = []
        _write(self, indent, out)
        return "".join(out)


@dataclass
class RawXML:
    """A verbatim subtree, printed as given, re-indented to its place."""

    xml: str


def escape(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def _write(node: Node, indent: int, out: list[str]) -> None:
    pad = " " * indent
    attrs = "".join(f" {k}='{escape(v)}'" for k, v in node.attrs.items())
    if not node.children and node.text is None:
        if node.open_empty:
            out.append(f"{pad}<{node.tag}{attrs}>\n{pad}</{node.tag}>\n")
        else:
            out.append(f"{pad}<{node.tag}{attrs}/>\n")
        return
    if not node.children:
        out.append(f"{pad}<{node.tag}{attrs}>{escape(node.text or '')}</{node.tag}>\n")
        return
    out.append(f"{pad}<{node.tag}{attrs}>")
    if node.text:
        out.append(escape(node.text))
    out.append("\n")
    for c in node.children:
        if isinstance(c, Node):
            _write(c, indent + 2, out)
        else:
            lines = c.xml.strip("\n").splitlines()
            out.extend(" " * (indent + 2) + ln + "\n" for ln in lines)
    out.append(f"{pad}</{node.tag}>\n")
