"""The interactive shell: virsh's banner, its prompt ("virsh # ", "virsh > " when read-only),
readline editing and history on a terminal, and the same parser as the command line."""

from __future__ import annotations

import contextlib
from typing import TextIO

from qvirt.cli.virsh import registry
from qvirt.cli.virsh.control import Control
from qvirt.cli.virsh.grammar import ParseError, parse, string_tokens

PROMPT_RW = "virsh # "
PROMPT_RO = "virsh > "


def _terminal(ctl: Control, stdin: TextIO) -> bool:
    """On a terminal input() reads, with readline's editing and history; else plain reads."""
    terminal = stdin.isatty() and ctl.out.isatty()
    if terminal:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - loading it gives input() editing and history
    return terminal


def interactive(ctl: Control, prog: str, stdin: TextIO) -> None:
    from qvirt.cli.virsh.main import run_commands

    ctl.interactive = True
    if not ctl.quiet:
        ctl.print(f"Welcome to {prog}, the virtualization interactive terminal.\n\n")
        ctl.print("Type:  'help' for help with commands\n       'quit' to quit\n\n")
    terminal = _terminal(ctl, stdin)
    line: str | None = ""
    while ctl.interactive:
        prompt = "" if ctl.quiet else (PROMPT_RO if ctl.readonly else PROMPT_RW)
        line = _read_line(ctl, stdin, prompt, terminal)
        if line is None:
            break
        if not line:
            continue
        try:
            invocations = parse(string_tokens(line), registry.find_command)
        except ParseError as err:
            for message in err.args:
                ctl.error(message)
            continue
        run_commands(ctl, invocations)
    if line is None:
        ctl.print("\n")


def _read_line(ctl: Control, stdin: TextIO, prompt: str, terminal: bool) -> str | None:
    if terminal:
        try:
            return input(prompt)
        except EOFError:
            return None
    ctl.print(prompt)
    ctl.out.flush()
    line = stdin.readline()
    if not line:
        return None
    return line.rstrip("\n")
