"""Declarative XML objects: a class names its element and declares its fields, and one generic
parser and one generic formatter serve every schema (STYLE.md section 1).

A field's ``path`` is relative to the object's element: ``"@type"`` (an attribute),
``"name"`` (a child's text), ``"source/@file"`` (an attribute of a child), ``"."`` (the
element's own text). Parsing keeps only what is declared, as libvirt drops what it does not
know; with ``validate=True`` anything undeclared is an error instead, as libvirt's
VIR_DOMAIN_DEFINE_VALIDATE rejects it. Formatting walks ``ORDER``, creating child elements in
the order their first field is written, which is how libvirt's format functions order them.
"""

from __future__ import annotations

import copy
import re
import uuid as uuidlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, Self, TypeVar

from qvirt.conf import xmltree
from qvirt.conf.xmltree import Element, Node, RawXML
from qvirt.errors import DevError, ErrorDomain, InvalidSchema, QvirtError, XMLError

T = TypeVar("T")


# Conversions ------------------------------------------------------------------------------

class Conv(Generic[T]):
    """Text <-> value for one kind of field. ``parse`` raises ValueError with a reason."""

    expected = ""

    def parse(self, text: str) -> T:
        raise NotImplementedError

    def format(self, value: T) -> str:
        return str(value)


class _Str(Conv[str]):
    def parse(self, text: str) -> str:
        return text


class _Int(Conv[int]):
    def __init__(self, minimum: int | None = None, maximum: int | None = None,
                 expected: str = "Expected integer value") -> None:
        self.minimum, self.maximum, self.expected = minimum, maximum, expected

    def parse(self, text: str) -> int:
        stripped = text.strip()
        try:
            value = int(stripped, 16) if stripped.lower().startswith("0x") else int(stripped, 10)
        except ValueError:
            raise ValueError(self.expected) from None
        if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            raise ValueError(self.expected)
        return value


class _Hex(_Int):
    """Integers written as 0x-prefixed hex, as libvirt writes PCI addresses."""

    def __init__(self, width: int) -> None:
        super().__init__(0, None, "Expected non-negative integer value")
        self.width = width

    def format(self, value: int) -> str:
        return f"0x{value:0{self.width}x}"


class _HexShort(Conv[int]):
    """0x-prefixed hex without padding, as libvirt prints a PCI function ('0x%x')."""

    expected = "Expected non-negative integer value"

    def parse(self, text: str) -> int:
        return UInt.parse(text)

    def format(self, value: int) -> str:
        return f"0x{value:x}"


class Choice(Conv[str]):
    """One of a fixed set of strings (libvirt's VIR_ENUM tables)."""

    def __init__(self, *values: str) -> None:
        self.values = values

    def parse(self, text: str) -> str:
        if text not in self.values:
            raise ValueError("")
        return text


class EnumConv(Conv[Enum]):
    def __init__(self, enum: type[Enum]) -> None:
        self.enum = enum

    def parse(self, text: str) -> Enum:
        try:
            return self.enum(text)
        except ValueError:
            raise ValueError("") from None

    def format(self, value: Enum) -> str:
        return str(value.value)


class _Bool(Conv[bool]):
    def __init__(self, true: str, false: str) -> None:
        self.true, self.false = true, false

    def parse(self, text: str) -> bool:
        if text == self.true:
            return True
        if text == self.false:
            return False
        raise ValueError("")

    def format(self, value: bool) -> str:
        return self.true if value else self.false


class _UUID(Conv[str]):
    """RFC 4122 UUIDs, with or without dashes (libvirt accepts both), written with dashes."""

    def parse(self, text: str) -> str:
        compact = text.strip().replace("-", "")
        if not re.fullmatch(r"[0-9a-fA-F]{32}", compact):
            raise ValueError("")
        return str(uuidlib.UUID(compact))


class _Mac(Conv[str]):
    def parse(self, text: str) -> str:
        parts = re.split("[:-]", text.strip())
        if len(parts) != 6 or not all(re.fullmatch("[0-9a-fA-F]{1,2}", p) for p in parts):
            raise ValueError("")
        return ":".join(f"{int(p, 16):02x}" for p in parts)


Str = _Str()
Int = _Int()
UInt = _Int(0, None, "Expected non-negative integer value")
Hex2 = _Hex(2)
Hex8 = _Hex(8)
HexShort = _HexShort()
Hex4 = _Hex(4)
YesNo = _Bool("yes", "no")
OnOff = _Bool("on", "off")
UUID = _UUID()
MacAddr = _Mac()


# Parse context -----------------------------------------------------------------------------

@dataclass
class ParseContext:
    """What one parse consumed, so that validate mode can name what nobody declared.

    It also indexes each element's children by tag, once: a class looks up every declared
    field among the children, and walking them per field made parsing quadratic.

    lxml hands out one Python proxy per node only while a reference to it lives, so the
    proxies themselves are kept here: their ids then stay valid until the check.
    """

    validate: bool = False
    seen_elements: dict[int, Element] = field(default_factory=dict)
    seen_attrs: set[tuple[int, str]] = field(default_factory=set)
    # id(element) -> (the element, kept alive, and its element children by tag)
    _index: dict[int, tuple[Element, dict[str, list[Element]]]] = field(default_factory=dict)

    def element(self, node: Element) -> None:
        self.seen_elements[id(node)] = node

    def attr(self, node: Element, name: str) -> None:
        self.seen_elements.setdefault(id(node), node)
        self.seen_attrs.add((id(node), name))

    def children(self, node: Element) -> dict[str, list[Element]]:
        """``node``'s element children by tag, in document order."""
        entry = self._index.get(id(node))
        if entry is None:
            kids: dict[str, list[Element]] = {}
            for child in node:
                tag = child.tag
                if isinstance(tag, str):
                    kids.setdefault(tag, []).append(child)
            entry = self._index[id(node)] = (node, kids)
        return entry[1]

    def check(self, root: Element, schema: str) -> None:
        """Raise libvirt's schema error for the first element or attribute nobody declared,
        worded as libxml2's RelaxNG validator words it for libvirt's schema file."""
        head = f"Unable to validate doc against /usr/share/libvirt/schemas/{schema}.rng\n"
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            if id(node) not in self.seen_elements:
                raise InvalidSchema(head + f"Element {_parent_name(node)} has extra content: "
                                    f"{xmltree.local_name(node)}\n")
            for name in node.attrib:
                if (id(node), str(name)) not in self.seen_attrs:
                    raise InvalidSchema(head + f"Invalid attribute {name!s} for element "
                                        f"{xmltree.local_name(node)}\n")


def _parent_name(node: Element) -> str:
    parent = node.getparent()
    return xmltree.local_name(parent) if parent is not None else ""


# Fields ------------------------------------------------------------------------------------

class Field:
    """One declared piece of an object's XML."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def default(self) -> Any:
        return None

    def parse(self, node: Element, ctx: ParseContext) -> Any:
        raise NotImplementedError

    def format(self, value: Any, node: Node) -> None:
        raise NotImplementedError

    # A non-data descriptor (no __set__): once a value sits in the instance's __dict__, reads
    # find it there at C speed; this runs only for a field not set (or left at its default,
    # see XMLObject.compact), and stores a default other than None, so that a default list
    # can be appended to.
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.default()
        return value if value is None else obj.__dict__.setdefault(self.name, value)


def _split(path: str) -> tuple[list[str], str | None]:
    """("a/b/@c") -> (["a", "b"], "c"); ("a/b") -> (["a", "b"], None)."""
    parts = [p for p in path.split("/") if p and p != "."]
    if parts and parts[-1].startswith("@"):
        return parts[:-1], parts[-1][1:]
    return parts, None


def _walk(node: Element, steps: Sequence[str], ctx: ParseContext) -> Element | None:
    for step in steps:
        found = ctx.children(node).get(step)
        if not found:
            return None
        node = found[0]
        ctx.element(node)
    return node


def _children(node: Element, tag: str, ctx: ParseContext) -> list[Element]:
    return ctx.children(node).get(tag, [])


def _make(node: Node, steps: Sequence[str]) -> Node:
    for step in steps:
        node = node.child(step)
    return node


class Attr(Field):
    """A value: an attribute, or an element's text. ``multi`` gives a list from repeated
    elements (``"boot/@dev"`` is every <boot dev=...>)."""

    def __init__(self, path: str, conv: Conv[Any] = Str, *, multi: bool = False,
                 required: bool = False) -> None:
        self.path, self.conv, self.multi, self.required = path, conv, multi, required
        self.steps, self.attr = _split(path)

    def default(self) -> Any:
        return [] if self.multi else None

    def _convert(self, text: str, element: str, what: str) -> Any:
        try:
            return self.conv.parse(text)
        except ValueError as err:
            reason = f". {err}" if str(err) else "."
            raise XMLError(f"Invalid value for {what} in element '{element}': "
                           f"'{text}'{reason}", domain=ErrorDomain.XML) from None

    def _read(self, node: Element, ctx: ParseContext) -> Any:
        if self.attr is not None:
            text = node.get(self.attr)
            ctx.attr(node, self.attr)
            if text is None:
                return None
            return self._convert(text, xmltree.local_name(node), f"attribute '{self.attr}'")
        text = node.text or ""
        if self.conv is not Str:
            text = text.strip()
        return self._convert(text, xmltree.local_name(node), "element")

    def parse(self, node: Element, ctx: ParseContext) -> Any:
        if self.multi:
            *head, last = self.steps
            parent = _walk(node, head, ctx)
            if parent is None:
                return []
            values = []
            for elem in _children(parent, last, ctx):
                ctx.element(elem)
                value = self._read(elem, ctx)
                if value is not None:
                    values.append(value)
            return values
        target = _walk(node, self.steps, ctx)
        value = None if target is None else self._read(target, ctx)
        if value is None and self.required:
            where = xmltree.local_name(node)
            what = f"attribute '{self.attr}'" if self.attr else f"element '{self.path}'"
            raise XMLError(f"Missing required {what} in element '{where}'",
                           domain=ErrorDomain.XML)
        return value

    def format(self, value: Any, node: Node) -> None:
        if value is None or (self.multi and not value):
            return
        if self.multi:
            *head, last = self.steps
            parent = _make(node, head)
            for v in value:
                elem = Node(last)
                parent.children.append(elem)
                self._write(elem, v)
            return
        self._write(_make(node, self.steps), value)

    def _write(self, target: Node, value: Any) -> None:
        if self.attr is not None:
            target.attrs[self.attr] = self.conv.format(value)
        else:
            target.text = self.conv.format(value)


class Flag(Field):
    """True when the element at ``path`` is present (``<acpi/>``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps, _ = _split(path)

    def default(self) -> bool:
        return False

    def parse(self, node: Element, ctx: ParseContext) -> bool:
        return _walk(node, self.steps, ctx) is not None

    def format(self, value: Any, node: Node) -> None:
        if value:
            _make(node, self.steps)


class Raw(Field):
    """A subtree kept verbatim (``<metadata>``): its children as libxml2 printed them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps, _ = _split(path)

    def parse(self, node: Element, ctx: ParseContext) -> list[str] | None:
        target = _walk(node, self.steps, ctx)
        if target is None:
            return None
        for sub in target.iter():
            ctx.element(sub)
            for name in sub.attrib:
                ctx.attr(sub, str(name))
        return [xmltree.raw_string(c) for c in target if isinstance(c.tag, str)]

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        target = _make(node, self.steps)
        target.children.extend(RawXML(x) for x in value)


def _is_default(value: Any, default: Any) -> bool:
    """None, False or an empty list where the field's default is the same."""
    return value is default or (type(value) is list and type(default) is list
                                and not value and not default)


ObjT = TypeVar("ObjT", bound="XMLObject")


class Child(Field, Generic[ObjT]):
    """Sub-objects: every child element named ``cls.TAG`` (under ``path``, if given)."""

    def __init__(self, cls: type[ObjT] | Callable[[], type[ObjT]], *, single: bool = True,
                 path: str = "") -> None:
        self._cls = cls
        self.single, self.path = single, path
        self.steps, _ = _split(path)

    @property
    def cls(self) -> type[ObjT]:
        """Resolved late, so that a class may name one declared after it (lambda: Cls)."""
        if isinstance(self._cls, type):
            return self._cls
        return self._cls()

    def default(self) -> Any:
        return None if self.single else []

    def parse(self, node: Element, ctx: ParseContext) -> Any:
        parent = _walk(node, self.steps, ctx)
        elems = [] if parent is None else _children(parent, self.cls.TAG, ctx)
        objs = [self.cls.from_element(e, ctx) for e in elems]
        if self.single:
            return objs[0] if objs else None
        return objs

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        items = [value] if self.single else value
        if not items:
            return
        parent = _make(node, self.steps)
        for obj in items:
            out = obj.to_node()
            if not out.is_empty() or obj.KEEP_EMPTY:
                parent.children.append(out)


# Objects -----------------------------------------------------------------------------------

class XMLObject:
    """Base of every schema class. Subclasses set TAG and ORDER and declare fields."""

    TAG: ClassVar[str] = ""
    ORDER: ClassVar[tuple[str, ...]] = ()
    # Written even with nothing in it (<acpi/> style objects, <devices/> when empty).
    KEEP_EMPTY: ClassVar[bool] = False
    # Printed <x>\n</x> rather than <x/> when empty, as libvirt prints <devices>.
    OPEN_EMPTY: ClassVar[bool] = False
    # The error domain of a document's errors (VIR_FROM_DOMAIN, VIR_FROM_NETWORK, ...).
    ERROR_DOMAIN: ClassVar[int] = ErrorDomain.NONE
    # libvirt's schema file for the document, when it is not named after the root element.
    SCHEMA: ClassVar[str] = ""
    _fields: ClassVar[dict[str, Field]] = {}
    # Each field's default, to compare with (never handed out: a default list is made anew).
    _blank: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Field] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Field):
                    fields[name] = value
        unknown = [n for n in cls.ORDER if n not in fields]
        if unknown:
            raise DevError(f"{cls.__name__}.ORDER names undeclared fields {unknown}")
        # Fields a class declares itself must all be placed; inherited ones (DeviceDef's
        # <boot>, say) are left out by the subclasses that do not take them.
        own = [n for n, v in vars(cls).items() if isinstance(v, Field)]
        missing = [n for n in own if n not in cls.ORDER]
        if missing and cls.TAG:  # a class without TAG is an abstract base (DeviceDef)
            raise DevError(f"{cls.__name__}.ORDER leaves out fields {missing}")
        if len(set(cls.ORDER)) != len(cls.ORDER):
            raise DevError(f"{cls.__name__}.ORDER repeats a field")
        cls._fields = {n: fields[n] for n in cls.ORDER}
        cls._blank = {n: f.default() for n, f in cls._fields.items()}

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            if name not in self._fields:
                raise DevError(f"{type(self).__name__} has no field {name}")
            setattr(self, name, value)

    # Parsing ---------------------------------------------------------------------------

    @classmethod
    def from_element(cls, node: Element, ctx: ParseContext) -> Self:
        ctx.element(node)
        obj = cls()
        values, blank = obj.__dict__, cls._blank
        for name, f in cls._fields.items():
            value = f.parse(node, ctx)
            if not _is_default(value, blank[name]):
                values[name] = value
        obj.post_parse()
        return obj

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        """Parse a whole document; its errors carry the document's ERROR_DOMAIN."""
        try:
            return cls._from_xml(text, validate, context)
        except QvirtError as err:
            if err.domain == ErrorDomain.NONE:
                err.domain = cls.ERROR_DOMAIN
            raise

    @classmethod
    def _from_xml(cls, text: str | bytes, validate: bool, context: str | None) -> Self:
        root = xmltree.parse(text, context or f"({cls.TAG}_definition)")
        if root.tag != cls.TAG:
            raise XMLError(f"expecting root element of '{cls.TAG}', "
                           f"not '{xmltree.local_name(root)}'", domain=ErrorDomain.XML)
        ctx = ParseContext(validate=validate)
        obj = cls.from_element(root, ctx)
        if validate:
            ctx.check(root, cls.SCHEMA or cls.TAG)
        return obj

    def post_parse(self) -> None:
        """Checks across fields, after every field is read. Raise XMLError or ConfigUnsupported."""

    # Formatting ------------------------------------------------------------------------

    def to_node(self) -> Node:
        node = Node(self.TAG, open_empty=self.OPEN_EMPTY)
        # Straight from __dict__: a field never set holds its default, and neither a default
        # nor None ever writes anything, so both are skipped without a call.
        values = self.__dict__
        for name, f in self._fields.items():
            value = values.get(name)
            if value is not None:
                f.format(value, node)
        return node

    def to_xml(self) -> str:
        return self.to_node().to_string()

    def compact(self) -> None:
        """Forget every field of this tree that holds its default (it reads the same), so that
        an object kept for long, as a driver keeps each definition, holds only what was set:
        a domain's tree has ~140 entries of which ~55 say something."""
        blank = self._blank
        # A new dict: one never shrinks its table when entries are deleted.
        values = self.__dict__ = {n: v for n, v in self.__dict__.items()
                                  if n not in blank or not _is_default(v, blank[n])}
        for value in values.values():
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, XMLObject):
                    item.compact()

    # Comparison and copies -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields
                          if getattr(self, n) not in (None, [], False))
        return f"{type(self).__name__}({shown})"

    def copy(self) -> Self:
        return copy.deepcopy(self)

    @classmethod
    def fields(cls) -> Iterable[tuple[str, Field]]:
        return cls._fields.items()
