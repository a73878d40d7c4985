"""Timing and the table. Each benchmark row names one operation and gives a callable per side
(qvirt, libvirtd, bare QEMU); every side runs in the same process run, so machine load
affects all of them alike, and the table prints medians and qvirt's ratio to each peer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SIDES = ("qvirt", "libvirtd", "bare QEMU")
UNITS = {"µs": 1e6, "ms": 1e3, "s": 1.0}


@dataclass
class Row:
    name: str
    unit: str                      # µs, ms or s
    runs: int
    sides: dict[str, Callable[[], object]] = field(default_factory=dict)
    goal: str = ""


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: imports, caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(rows: list[Row]) -> str:
    """Measure every row and return the table as text."""
    header = ["benchmark", *SIDES, *(f"qvirt/{p}" for p in SIDES[1:]), "goal"]
    lines = [header]
    for row in rows:
        scale = UNITS[row.unit]
        medians = {side: median_seconds(fn, row.runs) for side, fn in row.sides.items()}
        cells = [f"{row.name} ({row.unit}, median of {row.runs})"]
        cells += [f"{medians[s] * scale:.1f}" if s in medians else "-" for s in SIDES]
        for peer in SIDES[1:]:
            ratio = ("-" if "qvirt" not in medians or peer not in medians
                     else f"{medians['qvirt'] / medians[peer]:.2f}")
            cells.append(ratio)
        cells.append(row.goal or "-")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
                   + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)
