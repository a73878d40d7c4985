"""Sizes as virsh prints and reads them: vshPrettyCapacity's binary units, and scaled
integers ("10G", "512 KiB") as virshVolSize reads them (strtoull, then virScaleInteger, whose
errors are libvirt's and so are reported after virsh's own message)."""

from __future__ import annotations

import re

from qvirt.cli.virsh.control import Control
from qvirt.conf.storage_common import ULLONG_MAX, scale_size
from qvirt.errors import QvirtError

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def pretty(value: int) -> tuple[float, str]:
    """vshPrettyCapacity: the largest binary unit the value reaches."""
    for power, unit in enumerate(UNITS):
        if value < 1024 ** (power + 1) or unit == UNITS[-1]:
            return value / 1024**power, unit
    raise AssertionError("unreachable")


def pretty_text(value: int) -> str:
    """"%.2lf %s" of a pretty capacity."""
    number, unit = pretty(value)
    return f"{number:.2f} {unit}"


def parse_size(ctl: Control, text: str) -> int | None:
    """virshVolSize: None when the text is no size (virsh then says "Malformed size"); a
    libvirt error of the scaling is kept for virsh to print after that."""
    found = re.fullmatch(r"[ \t\n\v\f\r]*\+?([0-9]+)(.*)", text, re.DOTALL)
    if found is None:
        return None
    value = int(found.group(1))
    if value > ULLONG_MAX:
        return None
    try:
        return scale_size(value, found.group(2) or None, ULLONG_MAX)
    except QvirtError as err:
        ctl.last_error = err
        return None
