"""vshTable: virsh's aligned tables (list, and later net-list, pool-list, ...). Cells are
separated by at least three spaces, the header is underlined by dashes as wide as the columns
plus three each, and the last cell is padded like the others' leading space only."""

from __future__ import annotations

import unicodedata


def _width(text: str) -> int:
    """Display columns, as vshTable counts them (wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else
               0 if unicodedata.combining(c) else 1 for c in text)


def render(header: list[str], rows: list[list[str]], show_header: bool = True) -> str:
    table = [header, *rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for index, row in enumerate(table):
        if index == 0 and not show_header:
            continue
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell) + 2) if i < len(row) - 1 else ""
            cells.append(f" {cell}{pad}")
        lines.append("".join(cells) + "\n")
        if index == 0:
            lines.append("-" * sum(w + 3 for w in widths) + "\n")
    return "".join(lines)
