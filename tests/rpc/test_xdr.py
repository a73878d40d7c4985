"""The XDR codec: byte vectors computed by hand from RFC 4506, round trips, and bad input."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvirt.errors import ErrorDomain, ErrorNumber
from qvirt.rpc.errors import XDRError
from qvirt.rpc.xdr import (
    Bool,
    Char,
    CharVector,
    Double,
    Enum,
    FixedArray,
    FixedOpaque,
    Hyper,
    Int,
    Optional,
    Short,
    String,
    Struct,
    UChar,
    UHyper,
    UInt,
    Union,
    UShort,
    VarArray,
    VarOpaque,
    Void,
    XDRType,
    pack,
    unpack,
)

# No timing assertions: the suite shares loaded hosts under pytest-xdist.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Color(IntEnum):
    RED = 0
    BLUE = 7


POINT = Struct("point", [("x", Int), ("name", Optional(String(8)))])
SHAPE = Union("shape", Int, {1: Int, 2: String(10)}, default=Void)

VECTORS: list[tuple[XDRType, Any, bytes]] = [
    (Int, 1, b"\0\0\0\x01"),
    (Int, -1, b"\xff\xff\xff\xff"),
    (Int, -(1 << 31), b"\x80\0\0\0"),
    (UInt, 0xDEADBEEF, b"\xde\xad\xbe\xef"),
    (Hyper, -2, b"\xff" * 7 + b"\xfe"),
    (UHyper, 7002000, b"\0\0\0\0\0\x6a\xd7\x90"),
    (Bool, True, b"\0\0\0\x01"),
    (Bool, False, b"\0\0\0\0"),
    (Char, -1, b"\xff\xff\xff\xff"),
    (UChar, 255, b"\0\0\0\xff"),
    (Short, -2, b"\xff\xff\xff\xfe"),
    (UShort, 65535, b"\0\0\xff\xff"),
    (Double, 1.5, b"\x3f\xf8\0\0\0\0\0\0"),
    (Enum(Color), Color.BLUE, b"\0\0\0\x07"),
    (FixedOpaque(5), b"abcde", b"abcde\0\0\0"),
    (FixedOpaque(4), b"abcd", b"abcd"),
    (VarOpaque(10), b"ab", b"\0\0\0\x02ab\0\0"),
    (VarOpaque(10), b"", b"\0\0\0\0"),
    (String(20), "Hello World", b"\0\0\0\x0bHello World\0"),
    (String(20), "h\u00e9", b"\0\0\0\x03h\xc3\xa9\0"),
    (Optional(Int), None, b"\0\0\0\0"),
    (Optional(Int), 5, b"\0\0\0\x01\0\0\0\x05"),
    (FixedArray(Int, 2), [1, 2], b"\0\0\0\x01\0\0\0\x02"),
    (VarArray(Int, 3), [9], b"\0\0\0\x01\0\0\0\x09"),
    (CharVector(4), b"ab\0\0", b"\0\0\0\x61\0\0\0\x62" + b"\0" * 8),
    (CharVector(1), b"\xe9", b"\xff\xff\xff\xe9"),
    (POINT, {"x": 3, "name": "ab"}, b"\0\0\0\x03\0\0\0\x01\0\0\0\x02ab\0\0"),
    (SHAPE, (2, "x"), b"\0\0\0\x02\0\0\0\x01x\0\0\0"),
    (SHAPE, (9, None), b"\0\0\0\x09"),
    (Void, None, b""),
]


@pytest.mark.parametrize(("kind", "value", "wire"), VECTORS)
def test_vectors(kind: XDRType, value: Any, wire: bytes) -> None:
    assert pack(kind, value) == wire
    decoded, end = kind.decode(wire, 0)
    assert decoded == value
    assert end == len(wire)


def test_enum_decodes_members_and_tolerates_unknown_values() -> None:
    # xdr_enum does not range-check, so neither does the decoder; the encoder does.
    assert unpack(Enum(Color), b"\0\0\0\x07") is Color.BLUE
    assert unpack(Enum(Color), b"\0\0\0\x03") == 3
    with pytest.raises(XDRError):
        pack(Enum(Color), 3)


def test_narrow_types_truncate_on_decode_like_glibc() -> None:
    assert unpack(UChar, b"\0\0\x01\x02") == 2
    assert unpack(Char, b"\0\0\0\x80") == -128
    assert unpack(UShort, b"\0\x01\0\x05") == 5


def test_bool_and_pointer_flags_accept_any_nonzero() -> None:
    assert unpack(Bool, b"\0\0\0\x02") is True
    assert unpack(Optional(Int), b"\xff\xff\xff\xff\0\0\0\x04") == 4


def test_trailing_bytes_are_ignored_as_libvirt_does() -> None:
    assert unpack(Int, b"\0\0\0\x01\0\0\0\x02") == 1


def test_decode_refuses_lengths_over_the_maximum() -> None:
    with pytest.raises(XDRError) as info:
        unpack(String(4), b"\0\0\0\x05hello\0\0\0")
    assert str(info.value) == "Unable to decode message payload"
    assert info.value.code == ErrorNumber.RPC
    assert info.value.domain == ErrorDomain.RPC
    assert "maximum 4" in info.value.reason
    with pytest.raises(XDRError):
        unpack(VarArray(Int, 2), b"\0\0\0\x03" + b"\0" * 12)


def test_decode_refuses_counts_the_buffer_cannot_hold() -> None:
    with pytest.raises(XDRError) as info:
        unpack(VarArray(Int, 1 << 30), b"\x10\0\0\0")
    assert "need" in info.value.reason


@pytest.mark.parametrize(("kind", "value"), [
    (Int, 1 << 31), (Int, "1"), (Int, 1.0), (UInt, -1), (Hyper, 1 << 63), (UHyper, -1),
    (Bool, 1), (Char, 128), (UChar, -1), (Short, 1 << 15), (UShort, 1 << 16),
    (Double, "x"), (Double, True), (Void, 0),
    (FixedOpaque(2), b"abc"), (FixedOpaque(2), "ab"), (VarOpaque(2), b"abc"), (VarOpaque(2), 1),
    (String(2), "abc"), (String(2), b"ab"), (String(4), "\ud800"),
    (FixedArray(Int, 2), [1]), (FixedArray(Int, 1), "a"), (VarArray(Int, 1), [1, 2]),
    (VarArray(Int, 1), b"\0"), (CharVector(1), b"ab"), (CharVector(1), "a"),
    (POINT, {"x": 1}), (POINT, {"x": 1, "name": None, "y": 2}), (POINT, [1, None]),
    (SHAPE, (3, 1)), (SHAPE, (1, "a")), (SHAPE, 1), (SHAPE, ("1", 1)),
])
def test_encode_refuses_values_that_do_not_fit(kind: XDRType, value: Any) -> None:
    with pytest.raises(XDRError) as info:
        pack(kind, value)
    assert str(info.value) == "Unable to encode message payload"


def test_union_without_default_refuses_unknown_discriminant_on_decode() -> None:
    shape = Union("strict", Int, {1: Int})
    with pytest.raises(XDRError):
        unpack(shape, b"\0\0\0\x02\0\0\0\0")


def test_surrogateescape_round_trips_non_utf8_strings() -> None:
    value = unpack(String(10), b"\0\0\0\x02\xff\xfe\0\0")
    assert pack(String(10), value) == b"\0\0\0\x02\xff\xfe\0\0"


NESTED = Struct("nested", [
    ("a", Hyper),
    ("b", VarArray(POINT, 4)),
    ("c", Optional(Struct("inner", [("u", UInt), ("o", VarOpaque(9))]))),
    ("d", SHAPE),
    ("e", Double),
])
NESTED_VALUES = st.fixed_dictionaries({
    "a": st.integers(-(1 << 63), (1 << 63) - 1),
    "b": st.lists(st.fixed_dictionaries({
        "x": st.integers(-(1 << 31), (1 << 31) - 1),
        "name": st.none() | st.text(max_size=2),
    }), max_size=4),
    "c": st.none() | st.fixed_dictionaries({
        "u": st.integers(0, (1 << 32) - 1), "o": st.binary(max_size=9)}),
    "d": st.tuples(st.just(1), st.integers(-5, 5)) | st.tuples(st.just(2), st.text(max_size=2))
    | st.tuples(st.integers(3, 100), st.none()),
    "e": st.floats(allow_nan=False),
})


@RELAXED
@given(NESTED_VALUES)
def test_round_trip(value: dict[str, Any]) -> None:
    wire = pack(NESTED, value)
    assert len(wire) % 4 == 0
    decoded, end = NESTED.decode(wire, 0)
    assert decoded == value
    assert end == len(wire)


@RELAXED
@given(st.binary(max_size=200))
def test_garbage_raises_only_xdr_errors(data: bytes) -> None:
    try:
        NESTED.decode(data, 0)
    except XDRError as err:
        assert str(err) == "Unable to decode message payload"


@RELAXED
@given(NESTED_VALUES, st.data())
def test_truncated_encodings_raise_xdr_errors(value: dict[str, Any], data: st.DataObject) -> None:
    wire = pack(NESTED, value)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(XDRError):
        NESTED.decode(wire[:cut], 0)
