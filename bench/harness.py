"""Timing and the table. Each benchmark row names one operation and gives a callable per side
(qvirt, libvirtd, bare QEMU, or dd copying the same bytes); the sides take turns run by run
in the same process run, so machine load affects all of them alike, and the table prints
medians and qvirt's ratio to each peer.

A row's callable may do ``batch`` operations per call (the table shows the time of one), so
that the cost of reaching a client in another process is spread thin; a row in a size unit
(MB) is not timed: its callable returns the measurement."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SIDES = ("qvirt", "libvirtd", "bare QEMU", "dd")
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


def _interleaved(sides: dict[str, Callable[[], object]], runs: int,
                 sample: Callable[[Callable[[], object]], float]) -> dict[str, float]:
    """Each side's median of ``runs`` samples, the sides taking turns within every run (in
    an order that alternates from run to run): a burst of load from the machine's other
    users then lands on every side alike instead of on whichever side ran during it."""
    samples: dict[str, list[float]] = {side: [] for side in sides}
    order = list(sides)
    for run in range(runs):
        for side in order if run % 2 == 0 else reversed(order):
            samples[side].append(sample(sides[side]))
    return {side: statistics.median(values) for side, values in samples.items()}


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _value(fn: Callable[[], object]) -> float:
    value = fn()
    assert isinstance(value, (int, float)), value
    return float(value)


def _measure(row: Row) -> dict[str, float]:
    """Each side's median, in the row's unit."""
    if row.unit in VALUE_UNITS:
        return _interleaved(row.sides, row.runs, _value)
    for fn in row.sides.values():
        fn()  # warm-up: imports, caches
    scale = UNITS[row.unit] / row.batch
    medians = _interleaved(row.sides, row.runs, _seconds)
    return {side: median * scale for side, median in medians.items()}


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
