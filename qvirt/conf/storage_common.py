"""What pools and volumes share: sizes with units, permissions, paths as libvirt cleans them,
and the <auth> block of network pools."""

from __future__ import annotations

import re
from typing import Any

from qvirt.conf import xmltree
from qvirt.conf.xmlobject import Attr, Child, Conv, ParseContext, XMLObject
from qvirt.conf.xmltree import Element
from qvirt.errors import ErrorNumber, QvirtError, XMLError

_BINARY_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1


def scale_size(value: int, unit: str | None, limit: int = LLONG_MAX) -> int:
    """``value`` in bytes, reading ``unit`` as libvirt's virScaleInteger does (k = KiB = 1024,
    KB = 1000, b/byte/bytes = 1, no unit = bytes)."""
    scale = 1
    if unit and unit.lower() not in ("b", "byte", "bytes"):
        if len(unit) == 1 or unit[1:].lower() == "ib":
            base = 1024
        elif len(unit) == 2 and unit[1].lower() == "b":
            base = 1000
        else:
            raise QvirtError(f"unknown suffix '{unit}'", code=ErrorNumber.INVALID_ARG)
        power = _BINARY_POWERS.get(unit[0].lower())
        if power is None:
            raise QvirtError(f"unknown suffix '{unit}'", code=ErrorNumber.INVALID_ARG)
        scale = base**power
    if value and value > limit // scale:
        raise QvirtError(f"value too large: {value}{unit or ''}", code=ErrorNumber.OVERFLOW)
    return value * scale


def sanitize_path(path: str) -> str:
    """virFileSanitizePath: repeated slashes collapse and a trailing one goes, but a leading
    "//" stays (POSIX gives it a meaning of its own)."""
    keep = "//" if path.startswith("//") and not path.startswith("///") else ""
    rest = re.sub("/+", "/", path[len(keep):])
    cleaned = keep + rest
    if len(cleaned) > 1 and cleaned.endswith("/"):
        cleaned = cleaned[:-1]
    return cleaned


class _TriState(Conv[bool]):
    """virTristateBool attributes: yes/no, with libvirt's bare "Invalid value" message."""

    def parse(self, text: str) -> bool:
        if text in ("yes", "no"):
            return text == "yes"
        raise ValueError("")

    def format(self, value: bool) -> str:
        return "yes" if value else "no"


TriState = _TriState()




class _Mode(Conv[int]):
    """Permission bits: read as octal, written as libvirt's "0%o"."""

    def parse(self, text: str) -> int:
        # strtol: leading blanks and a sign are fine, anything after the digits is not.
        found = re.fullmatch(r"\s*([+-]?[0-7]+)", text)
        if found is None:
            raise XMLError("malformed octal mode")
        value = int(found.group(1), 8)
        if value & ~0o777 or value < 0:
            raise XMLError("malformed octal mode")
        return value

    def format(self, value: int) -> str:
        return f"0{value:o}"


class _Id(Conv[int]):
    """An owner or group id; -1 (which old libvirt wrote for "unset") is still read."""

    def __init__(self, what: str) -> None:
        self.what = what

    def parse(self, text: str) -> int:
        found = re.fullmatch(r"\s*([+-]?[0-9]+)", text)
        if found is None:
            raise XMLError(f"malformed {self.what} element")
        value = int(found.group(1), 10)
        if value < -1 or value > 2**32 - 1:
            raise XMLError(f"malformed {self.what} element")
        return value

    def format(self, value: int) -> str:
        # libvirt prints the id through a signed int cast.
        return str(value - 2**32 if value >= 2**31 else value)


class _StrtolText(Attr):
    """Element text handed to its conversion unstripped: libvirt reads these numbers with
    strtol, which takes leading blanks but refuses trailing ones."""

    def _read(self, node: Element, ctx: ParseContext) -> Any:
        return self._convert(node.text or "", xmltree.local_name(node), "element")


class Permissions(XMLObject):
    """<permissions> of a pool target, a volume target or a backing store. An id of -1 (or
    its uid_t twin 4294967295) means unset, as libvirt stores it; such ids are not written."""

    TAG = "permissions"
    ORDER = ("mode", "owner", "group", "label")
    mode = _StrtolText("mode", _Mode())
    owner = _StrtolText("owner", _Id("owner"))
    group = _StrtolText("group", _Id("group"))
    label = Attr("label")

    def post_parse(self) -> None:
        if self.owner in (-1, 2**32 - 1):
            self.owner = None
        if self.group in (-1, 2**32 - 1):
            self.group = None
        if self.label == "":
            self.label = None


class AuthSecret(XMLObject):
    TAG = "secret"
    ORDER = ("type", "uuid", "usage")
    type = Attr("@type")
    uuid = Attr("@uuid")
    usage = Attr("@usage")

    def post_parse(self) -> None:
        if self.uuid is None and self.usage is None:
            raise XMLError("missing secret uuid or usage attribute")
        if self.uuid is not None and self.usage is not None:
            raise XMLError("either secret uuid or usage expected")
        if self.uuid is not None:
            compact = self.uuid.replace("-", "")
            if not re.fullmatch(r"[0-9a-fA-F]{32}", compact):
                raise XMLError(f"invalid secret uuid '{self.uuid}'")
            self.uuid = "-".join((compact[:8], compact[8:12], compact[12:16], compact[16:20],
                                  compact[20:])).lower()


class Auth(XMLObject):
    """<auth type='chap|ceph' username=...> with its <secret>."""

    TAG = "auth"
    ORDER = ("type", "username", "secret")
    type = Attr("@type")
    username = Attr("@username")
    secret = Child(AuthSecret)

    def post_parse(self) -> None:
        if self.username is None:
            raise XMLError("missing username for auth")
        if self.type is not None and self.type not in ("chap", "ceph"):
            raise QvirtError(f"unknown auth type '{self.type}'",
                             code=ErrorNumber.CONFIG_UNSUPPORTED)
        if self.secret is None:
            raise XMLError("Missing <secret> element in auth")
