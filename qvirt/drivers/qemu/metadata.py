"""A domain's metadata as virDomainObjGetMetadata and virDomainObjSetMetadata handle it: the
title, the description, and the elements of <metadata>, each found by its namespace URI.

A Domain object is never edited in place (the driver caches its formatted XML by identity),
so setting returns a changed copy.
"""

from __future__ import annotations

from lxml import etree

from qvirt import constants as C
from qvirt.conf.domain import Domain
from qvirt.conf.xmltree import raw_string
from qvirt.errors import ErrorDomain, ErrorNumber, InvalidArg, OperationInvalid, QvirtError

TYPES = (C.VIR_DOMAIN_METADATA_DESCRIPTION, C.VIR_DOMAIN_METADATA_TITLE,
         C.VIR_DOMAIN_METADATA_ELEMENT)


def _not_present() -> QvirtError:
    return QvirtError("Requested metadata element is not present",
                      code=ErrorNumber.NO_DOMAIN_METADATA, domain=ErrorDomain.DOMAIN)


def impact(active: bool, persistent: bool, flags: int) -> tuple[bool, bool]:
    """virDomainObjUpdateModificationImpact: (live, config) the flags come to."""
    live = bool(flags & C.VIR_DOMAIN_AFFECT_LIVE)
    config = bool(flags & C.VIR_DOMAIN_AFFECT_CONFIG)
    if not live and not config:
        live, config = active, not active
    if live and not active:
        raise OperationInvalid("domain is not running", domain=ErrorDomain.DOMAIN)
    if config and not persistent:
        raise OperationInvalid("transient domains do not have any persistent config",
                               domain=ErrorDomain.DOMAIN)
    return live, config


def _check_type(type: int) -> None:
    if type not in TYPES:
        raise InvalidArg(f"unknown metadata type '{type}'", domain=ErrorDomain.DOMAIN)


def _uri_of(raw: str) -> str | None:
    return etree.QName(etree.fromstring(raw)).namespace


def get(d: Domain, type: int, uri: str | None) -> str:
    """The title, the description, or the element in namespace ``uri``."""
    _check_type(type)
    if type == C.VIR_DOMAIN_METADATA_TITLE:
        value = d.title
    elif type == C.VIR_DOMAIN_METADATA_DESCRIPTION:
        value = d.description
    else:
        value = next((_bare(raw) for raw in d.metadata or [] if _uri_of(raw) == uri), None)
    if value is None:
        raise _not_present()
    return str(value)


def _bare(raw: str) -> str:
    """An element as virDomainDefGetMetadata gives it back: out of its namespace, which
    the caller named, and printed as libvirt prints it."""
    node = etree.fromstring(raw)
    for sub in node.iter():
        if isinstance(sub.tag, str):
            sub.tag = etree.QName(sub).localname
    etree.cleanup_namespaces(node)
    return raw_string(node).rstrip("\n")


def set_(d: Domain, type: int, metadata: str | None, key: str | None,
         uri: str | None) -> Domain:
    """A copy of ``d`` with the value set; empty or None removes it. An element goes in
    namespace ``uri`` under prefix ``key``, replacing the one already in that namespace."""
    _check_type(type)
    new = d.copy()
    if type == C.VIR_DOMAIN_METADATA_TITLE:
        new.title = metadata or None
    elif type == C.VIR_DOMAIN_METADATA_DESCRIPTION:
        new.description = metadata or None
    else:
        kept = [raw for raw in d.metadata or [] if _uri_of(raw) != uri]
        if metadata:
            kept.append(_element(metadata, key, uri))
        new.metadata = kept or None
    return new


def _element(metadata: str, key: str | None, uri: str | None) -> str:
    """virXMLNodeSanitizeNamespaces on the given element: it and its children moved into
    ``uri`` under prefix ``key``."""
    try:
        node = etree.fromstring(metadata)
    except etree.XMLSyntaxError as err:
        raise QvirtError(f"(metadata_xml):1: {err.msg}", code=ErrorNumber.XML_DETAIL,
                         domain=ErrorDomain.XML) from err
    root = etree.Element(f"{{{uri}}}x", nsmap={str(key): str(uri)})
    moved = _renamed(node, str(uri), root)
    return raw_string(moved)


def _renamed(node: etree._Element, uri: str, parent: etree._Element) -> etree._Element:
    local = etree.QName(node).localname
    out = etree.SubElement(parent, f"{{{uri}}}{local}")
    out.text, out.tail = node.text, None
    for name, value in node.attrib.items():
        out.set(etree.QName(name).localname, value)
    for child in node:
        if isinstance(child.tag, str):
            _renamed(child, uri, out).tail = child.tail
    return out
