"""Sizes with units and CPU sets, as libvirt's virScaleInteger and virBitmap read and print
them."""

from __future__ import annotations

import pytest

from qvirt.conf.domain_units import CpuSet, format_cpuset, parse_cpuset, scale
from qvirt.errors import QvirtError


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (5, None, 5 * 1024), (5, "b", 5), (5, "bytes", 5), (5, "k", 5 * 1024),
    (5, "KiB", 5 * 1024), (5, "KB", 5000), (5, "m", 5 * 1024**2), (5, "MB", 5 * 10**6),
    (5, "GiB", 5 * 1024**3), (5, "gb", 5 * 10**9), (5, "T", 5 * 1024**4),
    (5, "PiB", 5 * 1024**5), (1, "EB", 10**18),
])
def test_scale_accepts_libvirts_suffixes(value: int, unit: str | None, expected: int) -> None:
    assert scale(value, unit) == expected


def test_scale_rejects_unknown_suffix_and_overflow() -> None:
    with pytest.raises(QvirtError) as info:
        scale(1, "Q")
    assert info.value.message == "invalid argument: unknown suffix 'Q'"
    with pytest.raises(QvirtError) as info:
        scale(100, "EiB", limit=2**63 - 1)
    assert info.value.message == "numerical overflow: value too large: 100EiB"


@pytest.mark.parametrize(("text", "cpus", "printed"), [
    ("1-4,^3,6", {1, 2, 4, 6}, "1-2,4,6"),
    ("0,1", {0, 1}, "0-1"),
    ("1-4,^2", {1, 3, 4}, "1,3-4"),
    ("5", {5}, "5"),
    (" 0 , 2 ", {0, 2}, "0,2"),
])
def test_cpusets_parse_and_print_as_ranges(text: str, cpus: set[int], printed: str) -> None:
    assert parse_cpuset(text) == frozenset(cpus)
    assert format_cpuset(frozenset(cpus)) == printed


@pytest.mark.parametrize("text", ["1-a", "", "4-2", "^", "1,,2", "-1"])
def test_bad_cpusets_are_refused_with_libvirts_message(text: str) -> None:
    with pytest.raises(QvirtError) as info:
        CpuSet.parse(text)
    assert info.value.message == f"invalid argument: Failed to parse bitmap '{text}'"
