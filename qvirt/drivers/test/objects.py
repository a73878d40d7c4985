"""The test node's objects that have no driver interface yet (host interfaces, node
devices) as plain records: enough for listings (name, UUID, state) and for their documents as
the node gives them."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree


@dataclass(frozen=True)
class NodeObject:
    name: str
    uuid: str | None       # host interfaces and node devices have none
    active: bool
    persistent: bool
    autostart: bool
    xml: str


def records(documents: list[str], *, active: bool = True) -> list[NodeObject]:
    """Every object of a test node starts active, persistent and without autostart
    (testParseNetworks, testParseInterfaces)."""
    out = []
    for xml in documents:
        root = etree.fromstring(xml.encode())
        name = root.get("name") or root.findtext("name") or ""
        out.append(NodeObject(name=name, uuid=root.findtext("uuid"), active=active,
                              persistent=True, autostart=False, xml=xml))
    return out
