"""XDR (RFC 4506) as libvirt's rpcgen-generated code speaks it.

Types are data: a struct is a table of (field, type) pairs and one generic codec walks it, so the
REMOTE program's layouts (qvirt.rpc.remote) read like remote_protocol.x. Python values are plain:
ints, bools, floats, bytes, str, None for an absent optional, lists, dicts for structs and
``(discriminant, value)`` tuples for unions.

Decoding follows glibc's xdr routines where they are lenient (a bool or pointer flag is "any
non-zero", char/short are truncated ints, enums are not range-checked, padding is not checked)
and is strict where they are strict (declared maxima, truncated input). Every failure raises
XDRError carrying libvirt's "Unable to decode message payload" text, never IndexError or
struct.error; encoding failures say "Unable to encode message payload".
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import Any

from qvirt.rpc.errors import XDRError

DECODE_FAILED = "Unable to decode message payload"
ENCODE_FAILED = "Unable to encode message payload"

_INT = struct.Struct(">i")
_UINT = struct.Struct(">I")
_HYPER = struct.Struct(">q")
_UHYPER = struct.Struct(">Q")
_DOUBLE = struct.Struct(">d")
_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")


def _decode_error(reason: str) -> XDRError:
    return XDRError(DECODE_FAILED, reason)


def _encode_error(reason: str) -> XDRError:
    return XDRError(ENCODE_FAILED, reason)


def _take(buf: bytes, pos: int, size: int) -> int:
    """The end of ``size`` bytes at ``pos``; refuses to read past the buffer."""
    end = pos + size
    if end > len(buf):
        raise _decode_error(f"need {size} bytes at offset {pos}, {len(buf) - pos} left")
    return end


def _padded(size: int) -> int:
    return (size + 3) & ~3


class XDRType(ABC):
    """One XDR type: encodes a Python value onto a buffer, decodes one from bytes at an offset."""

    @abstractmethod
    def encode(self, value: Any, out: bytearray) -> None:
        """Append ``value``'s encoding to ``out``; XDRError if it does not fit the type."""

    @abstractmethod
    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        """The value encoded at ``pos`` and the offset just past it; XDRError if malformed."""


class _Integer(XDRType):
    """A 4- or 8-byte integer with its range checked on encode."""

    def __init__(self, codec: struct.Struct, low: int, high: int, name: str) -> None:
        self._codec, self._low, self._high, self._name = codec, low, high, name
        self._pack = codec.pack

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, int) or not self._low <= value <= self._high:
            raise _encode_error(f"{value!r} is not a valid {self._name}")
        out += self._pack(value)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, self._codec.size)
        return self._codec.unpack_from(buf, pos)[0], end


class _Narrow(XDRType):
    """char, unsigned char, short, unsigned short: carried in a 4-byte int, as rpcgen does.

    glibc's xdr_char and friends truncate the decoded int to the C type, so a peer's
    out-of-range value wraps instead of failing; encoding refuses it.
    """

    def __init__(self, bits: int, signed: bool, name: str) -> None:
        self._bits, self._signed, self._name = bits, signed, name
        self._low = -(1 << (bits - 1)) if signed else 0
        self._high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, int) or not self._low <= value <= self._high:
            raise _encode_error(f"{value!r} is not a valid {self._name}")
        out += _INT.pack(value) if self._signed else _UINT.pack(value)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, 4)
        value = _UINT.unpack_from(buf, pos)[0] & ((1 << self._bits) - 1)
        if self._signed and value > self._high:
            value -= 1 << self._bits
        return value, end


Int = _Integer(_INT, -(1 << 31), (1 << 31) - 1, "int")
UInt = _Integer(_UINT, 0, (1 << 32) - 1, "unsigned int")
Hyper = _Integer(_HYPER, -(1 << 63), (1 << 63) - 1, "hyper")
UHyper = _Integer(_UHYPER, 0, (1 << 64) - 1, "unsigned hyper")
Char = _Narrow(8, True, "char")
UChar = _Narrow(8, False, "unsigned char")
Short = _Narrow(16, True, "short")
UShort = _Narrow(16, False, "unsigned short")


class _Bool(XDRType):
    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, bool):
            raise _encode_error(f"{value!r} is not a bool")
        out += _INT.pack(1 if value else 0)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, 4)
        return _INT.unpack_from(buf, pos)[0] != 0, end


class _Double(XDRType):
    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _encode_error(f"{value!r} is not a double")
        out += _DOUBLE.pack(value)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, 8)
        return _DOUBLE.unpack_from(buf, pos)[0], end


class _Void(XDRType):
    """No data: the args or ret of a procedure that has none."""

    def encode(self, value: Any, out: bytearray) -> None:
        if value is not None:
            raise _encode_error(f"void takes None, not {value!r}")

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        return None, pos


Bool = _Bool()
Double = _Double()
Void = _Void()


class Enum(XDRType):
    """An XDR enum backed by an IntEnum. Encoding accepts only its members' values; decoding
    gives the member when known and the bare int otherwise, as xdr_enum does not check."""

    def __init__(self, members: type[IntEnum]) -> None:
        self.members = members
        self._values = frozenset(int(m) for m in members)

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, int) or int(value) not in self._values:
            raise _encode_error(f"{value!r} is not a {self.members.__name__}")
        out += _INT.pack(int(value))

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, 4)
        value = _INT.unpack_from(buf, pos)[0]
        return (self.members(value) if value in self._values else value), end


class FixedOpaque(XDRType):
    """``opaque name[n]``: exactly n bytes, padded to a multiple of 4."""

    def __init__(self, size: int) -> None:
        self.size = size

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, (bytes, bytearray)) or len(value) != self.size:
            raise _encode_error(f"{value!r} is not {self.size} bytes")
        out += value
        out += _PAD[self.size & 3]

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, _padded(self.size))
        return bytes(buf[pos:pos + self.size]), end


class VarOpaque(XDRType):
    """``opaque name<max>``: a length, the bytes, padding."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise _encode_error(f"{value!r} is not bytes")
        if len(value) > self.maximum:
            raise _encode_error(f"{len(value)} bytes exceed the maximum {self.maximum}")
        out += _UINT.pack(len(value))
        out += value
        out += _PAD[len(value) & 3]

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        size, pos = UInt.decode(buf, pos)
        if size > self.maximum:
            raise _decode_error(f"{size} bytes exceed the maximum {self.maximum}")
        end = _take(buf, pos, _padded(size))
        return bytes(buf[pos:pos + size]), end


class String(XDRType):
    """``string name<max>``. libvirt's strings are C strings in no declared encoding: they are
    UTF-8 in practice, and any other byte round-trips through surrogateescape."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self._bytes = VarOpaque(maximum)

    def encode(self, value: Any, out: bytearray) -> None:
        # VarOpaque's encoding, inlined: strings are most of what a daemon sends.
        if not isinstance(value, str):
            raise _encode_error(f"{value!r} is not a str")
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as err:
            raise _encode_error(f"{value!r} is not encodable: {err}") from err
        size = len(data)
        if size > self.maximum:
            raise _encode_error(f"{size} bytes exceed the maximum {self.maximum}")
        out += _UINT.pack(size)
        out += data
        out += _PAD[size & 3]

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        data, end = self._bytes.decode(buf, pos)
        return data.decode("utf-8", "surrogateescape"), end


class Optional(XDRType):
    """``type *name``: a bool saying whether the value follows (None when absent)."""

    def __init__(self, item: XDRType) -> None:
        self.item = item

    def encode(self, value: Any, out: bytearray) -> None:
        if value is None:
            out += _INT.pack(0)
        else:
            out += _INT.pack(1)
            self.item.encode(value, out)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        present, pos = Bool.decode(buf, pos)
        return self.item.decode(buf, pos) if present else (None, pos)


class FixedArray(XDRType):
    """``type name[n]``: exactly n items, no count on the wire."""

    def __init__(self, item: XDRType, size: int) -> None:
        self.item, self.size = item, size

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) \
                or len(value) != self.size:
            raise _encode_error(f"{value!r} is not a list of {self.size} items")
        for item in value:
            self.item.encode(item, out)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        items = []
        for _ in range(self.size):
            item, pos = self.item.decode(buf, pos)
            items.append(item)
        return items, pos


class EncodedItems:
    """A VarArray's items already in XDR form, for a list so long (every domain of a host)
    that packing it item by item through the generic codec would cost more than the call:
    the caller packs them with a codec of its own, a VarArray adds the count."""

    __slots__ = ("count", "data")

    def __init__(self, count: int, data: bytes) -> None:
        self.count, self.data = count, data


class VarArray(XDRType):
    """``type name<max>``: a count, then the items (or EncodedItems)."""

    def __init__(self, item: XDRType, maximum: int) -> None:
        self.item, self.maximum = item, maximum

    def encode(self, value: Any, out: bytearray) -> None:
        if isinstance(value, EncodedItems):
            if value.count > self.maximum:
                raise _encode_error(f"{value.count} items exceed the maximum {self.maximum}")
            out += _UINT.pack(value.count)
            out += value.data
            return
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise _encode_error(f"{value!r} is not a list")
        if len(value) > self.maximum:
            raise _encode_error(f"{len(value)} items exceed the maximum {self.maximum}")
        out += _UINT.pack(len(value))
        encode = self.item.encode
        for item in value:
            encode(item, out)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        count, pos = UInt.decode(buf, pos)
        if count > self.maximum:
            raise _decode_error(f"{count} items exceed the maximum {self.maximum}")
        # Every item takes at least 4 bytes: refuse a count the buffer cannot hold before
        # looping over it, so a forged count costs nothing.
        _take(buf, pos, 4 * count)
        items = []
        for _ in range(count):
            item, pos = self.item.decode(buf, pos)
            items.append(item)
        return items, pos


class CharVector(XDRType):
    """``char name[n]`` (remote_node_get_info_ret's model): rpcgen sends each char as a 4-byte
    int. The Python value is the bytes, NUL-padded to n on encode and kept whole on decode."""

    def __init__(self, size: int) -> None:
        self.size = size

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, (bytes, bytearray)) or len(value) > self.size:
            raise _encode_error(f"{value!r} is not at most {self.size} bytes")
        for byte in bytes(value).ljust(self.size, b"\0"):
            out += _INT.pack(byte - 256 if byte > 127 else byte)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        end = _take(buf, pos, 4 * self.size)
        return bytes(buf[i + 3] for i in range(pos, end, 4)), end


class Struct(XDRType):
    """``struct name { type field; ... }``: the value is a dict with exactly these keys."""

    def __init__(self, name: str, fields: Sequence[tuple[str, XDRType]]) -> None:
        self.name = name
        self.fields = tuple(fields)
        self._encoders = tuple((field, kind.encode) for field, kind in self.fields)

    def encode(self, value: Any, out: bytearray) -> None:
        # Exactly the fields: as many keys as fields, and each field found among them.
        if not isinstance(value, Mapping) or len(value) != len(self._encoders):
            raise _encode_error(f"{value!r} does not have the fields of {self.name}")
        try:
            for field, encode in self._encoders:
                encode(value[field], out)
        except KeyError as err:
            raise _encode_error(f"{value!r} does not have the fields of {self.name}") from err

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        value = {}
        for field, kind in self.fields:
            value[field], pos = kind.decode(buf, pos)
        return value, pos


class Union(XDRType):
    """``union name switch (type d) { case v: arm; ... default: arm; }``.

    The value is ``(discriminant, arm value)``; a discriminant with no arm and no default is an
    error both ways.
    """

    def __init__(self, name: str, discriminant: XDRType, arms: Mapping[int, XDRType],
                 default: XDRType | None = None) -> None:
        self.name, self.discriminant = name, discriminant
        self.arms, self.default = dict(arms), default

    def _arm(self, which: Any) -> XDRType | None:
        return self.arms.get(which, self.default) if isinstance(which, int) else None

    def encode(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, tuple) or len(value) != 2:
            raise _encode_error(f"{value!r} is not a (discriminant, value) pair")
        which, item = value
        arm = self._arm(which)
        if arm is None:
            raise _encode_error(f"{which!r} is not a case of {self.name}")
        self.discriminant.encode(which, out)
        arm.encode(item, out)

    def decode(self, buf: bytes, pos: int) -> tuple[Any, int]:
        which, pos = self.discriminant.decode(buf, pos)
        arm = self._arm(which)
        if arm is None:
            raise _decode_error(f"{which!r} is not a case of {self.name}")
        item, pos = arm.decode(buf, pos)
        return (which, item), pos


def pack(kind: XDRType, value: Any) -> bytes:
    """``value`` encoded as ``kind``."""
    out = bytearray()
    kind.encode(value, out)
    return bytes(out)


def unpack(kind: XDRType, data: bytes) -> Any:
    """The ``kind`` value at the start of ``data``. Trailing bytes are ignored, as libvirt's
    virNetMessageDecodePayload ignores them."""
    return kind.decode(data, 0)[0]
