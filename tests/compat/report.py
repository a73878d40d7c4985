"""Write the "virsh commands" section of docs/compat.md: every command of `virsh help` with
its status in qvirt (identical, differs, not implemented), from the compat cases and the
known differences. `python -m tests.compat.report` rewrites it; test_report checks it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from qvirt.cli.virsh.grammar import ParseError, argv_tokens, string_tokens
from qvirt.cli.virsh.registry import find_command
from tests.compat.cases import CASES
from tests.compat.known import KNOWN

DOC = Path(__file__).resolve().parents[2] / "docs" / "compat.md"
HEADING = "## virsh commands"
INTRO = """\
`tests/compat/test_virsh_compat.py` runs each command line of `tests/compat/cases.py` through
Debian's `virsh -c test:///default` and through `qvirt -c test:///default` and compares
stdout, stderr and the exit status byte for byte. A command is *identical* when every case
that runs it gives the same bytes, *differs* when a case running it is a known difference
(reason below), *not implemented* when qvirt does not have it (qvirt answers `unknown
command`, as virsh does for a name it does not know). qvirt's `help` lists only the commands
it implements.
"""


def virsh_commands() -> list[tuple[str, str]]:
    """(group, command) for every command `virsh help` lists, in its order."""
    text = subprocess.run(["virsh", "help"], capture_output=True, text=True,
                          check=True).stdout
    group = ""
    result = []
    for line in text.splitlines():
        heading = re.match(r"^ (.+) \(help keyword '(\S+)'\):$", line)
        if heading:
            group = heading.group(1)
            continue
        entry = re.match(r"^    (\S+)\s", line)
        if entry and group:
            result.append((group, entry.group(1)))
    return result


def commands_of(args: list[str]) -> list[str]:
    """The command names a case's words run."""
    try:
        tokens = list(string_tokens(args[0]) if len(args) == 1 else argv_tokens(args))
    except ParseError:
        tokens = [None, *args[0].split()[:1]]
    names, start = [], True
    for token in tokens:
        if token is None:
            start = True
        elif start:
            names.append(token)
            start = False
    return names


def statuses() -> dict[str, tuple[str, list[str]]]:
    """command -> (status, reasons)."""
    covered: dict[str, list[str]] = {}
    for name, args in CASES:
        words = args[1:] if args[:1] == ["-r"] else args
        for command in commands_of(words):
            covered.setdefault(command, []).append(name)
    result: dict[str, tuple[str, list[str]]] = {}
    for _group, command in virsh_commands():
        if find_command(command) is None:
            result[command] = ("not implemented", [])
            continue
        reasons = sorted({KNOWN[c] for c in covered.get(command, []) if c in KNOWN})
        if reasons:
            result[command] = ("differs", reasons)
        elif command in covered:
            result[command] = ("identical", [])
        else:
            result[command] = ("implemented, not compared", [])
    return result


def section() -> str:
    found = statuses()
    counts: dict[str, int] = {}
    for status, _ in found.values():
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines = [HEADING, "", INTRO, f"Totals: {summary}.", "",
             "| group | command | status | reason |", "|---|---|---|---|"]
    for group, command in virsh_commands():
        status, reasons = found[command]
        lines.append(f"| {group} | `{command}` | {status} | {'; '.join(reasons)} |")
    return "\n".join(lines) + "\n"


def replace_section(doc: str, new: str) -> str:
    start = doc.find(HEADING + "\n")
    if start < 0:
        return doc.rstrip("\n") + "\n\n" + new
    end = doc.find("\n## ", start + len(HEADING))
    tail = doc[end + 1:] if end >= 0 else ""
    return doc[:start] + new + ("\n" + tail if tail else "")


def main() -> None:
    DOC.write_text(replace_section(DOC.read_text(), section()))


if __name__ == "__main__":
    main()
