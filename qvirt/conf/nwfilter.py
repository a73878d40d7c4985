"""The <filter> document (virsh nwfilter-define / nwfilter-dumpxml).

A filter's body is one ordered list mixing <rule>s and <filterref>s: their relative order is
part of the filter (it decides the order of equal-priority rules), so both are kept in one list.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, ClassVar

from qvirt.conf.nwfilter_protocols import MATCH_CLASSES, ProtocolMatch
from qvirt.conf.xmlobject import UUID, Attr, Child, Field, ParseContext, XMLObject
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ConfigUnsupported, ErrorDomain, InternalError, InvalidArg, XMLDetail

# Default priorities of the chains named after a protocol (or prefixed with one: arp-xyz).
CHAIN_PRIORITIES = {"mac": -800, "vlan": -750, "ipv4": -700, "ipv6": -600, "arp": -500,
                    "rarp": -400}
# Chains other than root are named after a protocol, alone or as a prefix (arp-xyz).
CHAIN_PREFIXES = ("stp", *CHAIN_PRIORITIES)
ACTIONS = ("drop", "accept", "reject", "return", "continue")
DIRECTIONS = ("in", "out", "inout")


class Parameter(XMLObject):
    TAG = "parameter"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr("@value")


class FilterRef(XMLObject):
    TAG = "filterref"
    ORDER = ("filter", "parameters")
    filter = Attr("@filter")
    parameters = Child(Parameter, single=False)

    def post_parse(self) -> None:
        if self.filter is None:
            # libvirt 9.0 reports a <filterref> without filter with the rule's message.
            raise InternalError("rule node requires action attribute")
        # libvirt keeps parameters in a table keyed by name and writes them sorted by name;
        # the values of one name (a list: IP=a, IP=b) keep their order.
        # Parameters lacking a name or a value are dropped without a word.
        self.parameters = sorted((p for p in self.parameters if p.name and p.value is not None),
                                 key=lambda p: str(p.name))


class _Matches(Field):
    """The protocol elements of a rule: all of the first protocol kind given; libvirt ignores
    elements of any other kind after it."""

    def default(self) -> list[ProtocolMatch]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[ProtocolMatch]:
        found: list[ProtocolMatch] = []
        for child in node:
            if not isinstance(child.tag, str) or child.tag not in MATCH_CLASSES:
                continue
            if found and child.tag != found[0].TAG:
                continue
            found.append(MATCH_CLASSES[child.tag].from_element(child, ctx))
        return found

    def format(self, value: Any, node: Node) -> None:
        node.children.extend(m.to_node() for m in value)


class Rule(XMLObject):
    TAG = "rule"
    ORDER = ("action", "direction", "priority", "statematch", "matches")
    action = Attr("@action")
    direction = Attr("@direction")
    priority = Attr("@priority")
    statematch = Attr("@statematch")
    matches = _Matches()

    def post_parse(self) -> None:
        if self.action is None:
            raise InternalError("rule node requires action attribute")
        if self.action not in ACTIONS:
            raise ConfigUnsupported("unknown rule action attribute value")
        if self.direction is None:
            raise InternalError("rule node requires direction attribute")
        if self.direction not in DIRECTIONS:
            raise ConfigUnsupported("unknown rule direction attribute value")
        # A priority that is no number in [-1000, 1000] is ignored: the rule gets the default.
        try:
            priority = int(str(self.priority))
        except ValueError:
            priority = None
        ok = priority is not None and -1000 <= priority <= 1000
        self.priority = str(priority) if ok else None
        # Only a disabled state match is written: 0 or false in any case; all else is enabled.
        off = self.statematch is not None and self.statematch.lower() in ("0", "false")
        self.statematch = "false" if off else None


class _Entries(Field):
    """<rule> and <filterref> children, in document order."""

    KINDS: ClassVar[dict[str, type[XMLObject]]] = {"rule": Rule, "filterref": FilterRef}

    def default(self) -> list[XMLObject]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[XMLObject]:
        return [self.KINDS[c.tag].from_element(c, ctx) for c in node
                if isinstance(c.tag, str) and c.tag in self.KINDS]

    def format(self, value: Any, node: Node) -> None:
        node.children.extend(e.to_node() for e in value)


class NWFilter(XMLObject):
    ERROR_DOMAIN = ErrorDomain.NWFILTER
    SCHEMA = "nwfilter"
    TAG = "filter"
    KEEP_EMPTY = True
    ORDER = ("name", "chain", "priority", "uuid", "entries")
    name = Attr("@name")
    chain = Attr("@chain")
    priority = Attr("@priority")
    uuid = Attr("uuid")
    entries = _Entries()

    @property
    def rules(self) -> list[Rule]:
        return [e for e in self.entries if isinstance(e, Rule)]

    @property
    def filterrefs(self) -> list[FilterRef]:
        return [e for e in self.entries if isinstance(e, FilterRef)]

    def post_parse(self) -> None:
        """virNWFilterDefParseXML's checks, with its messages."""
        if not self.name:
            raise InternalError("filter has no name")
        if "/" in self.name:
            raise XMLDetail("invalid char in name: /")
        if self.chain is not None and self.chain != "root" and not any(
                self.chain == c or self.chain.startswith(c + "-") for c in CHAIN_PREFIXES):
            raise InvalidArg(f"Invalid chain name '{self.chain}'. Please use a chain name "
                             f"called 'root' or any of the following prefixes: mac, vlan, stp, "
                             f"arp, rarp, ipv4, ipv6")
        if self.priority is not None:
            try:
                priority = int(self.priority)
            except ValueError:
                raise InvalidArg(f"Could not parse chain priority '{self.priority}'") from None
            if not -1000 <= priority <= 1000:
                raise InvalidArg(f"Priority '{self.priority}' is outside valid range of "
                                 f"[-1000,1000]")
            self.priority = str(priority)
        if self.uuid is not None and self.uuid.strip():
            try:
                self.uuid = UUID.parse(self.uuid)
            except ValueError:
                raise InternalError("malformed uuid element") from None
        elif self.uuid is not None:
            self.uuid = None


def apply_defaults(f: NWFilter) -> None:
    """What libvirt sets when it defines the filter: a UUID, chain root, the chain's default
    priority (none written for the root chain, for stp, or when 0), and priority 500 on every
    rule."""
    if f.uuid is None:
        f.uuid = str(uuidlib.uuid4())
    if f.chain is None:
        f.chain = "root"
    if f.priority is None:
        base = f.chain.split("-", 1)[0]
        if base in CHAIN_PRIORITIES:
            f.priority = str(CHAIN_PRIORITIES[base])
    if f.priority == "0" or f.chain == "root":
        f.priority = None
    for rule in f.rules:
        if rule.priority is None:
            rule.priority = "500"
