"""Timing and the table. Each benchmark row names one operation and gives a callable per side
(qvirt, libvirtd, bare QEMU); every side runs in the same process run, so machine load
affects all of them alike, and the table prints medians and qvirt's ratio to each peer.

A row's callable may do ``batch`` operations per call (the table shows the time of one), so
that the cost of reaching a client in another process is spread thin; a row in a size unit
(MB) is not timed: its callable returns the measurement."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SIDES = ("qvirt", "libvirtd", "bare QEMU")
UNITS = {"µs": 1e6, "ms": 1e3, "s": 1.0}
VALUE_UNITS = ("MB",)


@dataclass
class Row:
    name: str
    unit: str                      # µs, ms or s; or MB, returned by the callables
    runs: int
    sides: dict[str, Callable[[], object]] = field(default_factory=dict)
    goal: str = ""
    batch: int = 1                 # operations per call of a side's callable


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: imports, caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def median_value(fn: Callable[[], object], runs: int) -> float:
    values = []
    for _ in range(runs):
        value = fn()
        assert isinstance(value, (int, float)), value
        values.append(float(value))
    return statistics.median(values)


def _measure(row: Row) -> dict[str, float]:
    """Each side's median, in the row's unit."""
    if row.unit in VALUE_UNITS:
        return {side: median_value(fn, row.runs) for side, fn in row.sides.items()}
    scale = UNITS[row.unit] / row.batch
    return {side: median_seconds(fn, row.runs) * scale for side, fn in row.sides.items()}


def run(rows: list[Row]) -> str:
    """Measure every row and return the table as text."""
    header = ["benchmark", *SIDES, *(f"qvirt/{p}" for p in SIDES[1:]), "goal"]
    lines = [header]
    for row in rows:
        medians = _measure(row)
        runs = f"{row.runs} x {row.batch}" if row.batch > 1 else f"{row.runs}"
        cells = [f"{row.name} ({row.unit}, median of {runs})"]
        cells += [f"{medians[s]:.1f}" if s in medians else "-" for s in SIDES]
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
