"""Value types the domain document shares: sizes with a unit, and host/guest CPU sets.

libvirt stores every memory size in KiB whatever unit it was written in, and prints it back as
``unit='KiB'``; it stores CPU sets as bitmaps and prints them as compact ranges ("1-2,4,6"),
so both are normalised at parse time, not kept as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from qvirt.conf.xmlobject import Conv, Field, ParseContext, _make, _split, _walk
from qvirt.conf.xmltree import Element, Node
from qvirt.errors import ErrorNumber, InvalidArg, QvirtError, XMLError

# virScaleInteger's multipliers: the first letter picks the power, "iB"/no suffix means 1024,
# "B" 1000.
_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
ULLONG_MAX = 2**64 - 1
LLONG_MAX = 2**63 - 1


def scale(value: int, unit: str | None, default: int = 1024, limit: int = ULLONG_MAX) -> int:
    """``value`` in bytes, as virScaleInteger computes it (``default`` when no unit)."""
    if not unit:
        factor = default
    elif unit.lower() in ("b", "byte", "bytes"):
        factor = 1
    else:
        power = _POWERS.get(unit[0].lower())
        rest = unit[1:]
        if rest == "" or rest.lower() == "ib":
            base = 1024
        elif rest.lower() == "b":
            base = 1000
        else:
            power = None
        if power is None:
            raise InvalidArg(f"unknown suffix '{unit}'")
        factor = base ** power
    if value > limit // factor:
        raise Overflow(f"value too large: {value}{unit or ''}")
    return value * factor


class Overflow(QvirtError):
    code = ErrorNumber.OVERFLOW


class Scaled(Field):
    """A size with a ``unit`` attribute beside it, kept in ``unit`` (KiB unless told), as
    virDomainParseMemory keeps sizes, and written back with that unit.

    ``path`` is an element ("memory": the text is the number) or an attribute ("@memory" of
    a NUMA cell: the number is that attribute); the unit is the ``unit`` attribute of the same
    element. ``default`` is the scale of a number written without a unit. Sizes round up to a
    whole ``unit``, as libvirt rounds them. ``xpath`` is how libvirt's message names the field.
    """

    def __init__(self, path: str, *, unit: str = "KiB", default: int = 1024,
                 limit: int = LLONG_MAX, xpath: str = "") -> None:
        self.path, self.unit, self.default_scale, self.limit = path, unit, default, limit
        self.steps, self.attr = _split(path)
        self.xpath = xpath or (f"./@{self.attr}" if self.attr else f"./{path}[1]")

    def parse(self, node: Element, ctx: ParseContext) -> int | None:
        target = _walk(node, self.steps, ctx)
        if target is None:
            return None
        ctx.attr(target, "unit")
        if self.attr is not None:
            ctx.attr(target, self.attr)
            text = target.get(self.attr)
            if text is None:
                return None
        else:
            text = target.text or ""
        try:
            number = int(text.strip(), 10)
            if number < 0:
                raise ValueError
        except ValueError:
            raise XMLError(f"Invalid value '{text}' for element or attribute "
                           f"'{self.xpath}'") from None
        unit = target.get("unit")
        size = scale(number, unit, self.default_scale, self.limit)
        divisor = scale(1, self.unit)
        return -(-size // divisor)

    def format(self, value: Any, node: Node) -> None:
        if value is None:
            return
        target = _make(node, self.steps)
        if self.attr is not None:
            target.attrs[self.attr] = str(value)
            target.attrs["unit"] = self.unit
        else:
            target.attrs["unit"] = self.unit
            target.text = str(value)


def parse_cpuset(text: str) -> frozenset[int]:
    """virBitmapParse's syntax: "1-4,^3,6" (ranges, single numbers, ^exclusions)."""
    included: set[int] = set()
    excluded: set[int] = set()
    for raw in text.split(","):
        item = raw.strip()
        negate = item.startswith("^")
        if negate:
            item = item[1:]
        low, sep, high = item.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()) or (negate and sep):
            raise ValueError
        first, last = int(low), int(high) if sep else int(low)
        if first > last or last >= 16384:
            raise ValueError
        (excluded if negate else included).update(range(first, last + 1))
    return frozenset(included - excluded)


def format_cpuset(cpus: frozenset[int]) -> str:
    """Ranges of consecutive numbers ("0-1", not "0,1"), as virBitmapFormat prints them."""
    out: list[str] = []
    ordered = sorted(cpus)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        out.append(str(first) if first == last else f"{first}-{last}")
        start = end + 1
    return ",".join(out)


class _CpuSet(Conv[frozenset[int]]):
    def parse(self, text: str) -> frozenset[int]:
        try:
            return parse_cpuset(text)
        except ValueError:
            raise InvalidArg(f"Failed to parse bitmap '{text}'") from None

    def format(self, value: frozenset[int]) -> str:
        return format_cpuset(value)


CpuSet = _CpuSet()

T = TypeVar("T")


class Strict(Conv[T]):
    """``conv``, but a bad value raises the error libvirt gives for this one field instead of
    the generic "Invalid value for ..." (libvirt words many of its older fields specially)."""

    def __init__(self, conv: Conv[T], error: Callable[[str], QvirtError]) -> None:
        self.conv, self.error = conv, error

    def parse(self, text: str) -> T:
        try:
            return self.conv.parse(text)
        except ValueError:
            raise self.error(text) from None

    def format(self, value: T) -> str:
        return self.conv.format(value)


