"""edit beside virsh on test:///default: $VISUAL or $EDITOR run on the document, "not
changed", "edited", the editor's failure, a definition refused; and on a terminal, virsh's
re-edit prompt (help, turn off validation, force, give up)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.cli.test_console import POLKIT
from tests.compat.harness import Result, run_qvirt, run_virsh
from tests.daemon.test_console import Terminal

QVIRT = str(Path(sys.executable).parent / "qvirt")
TEMP = re.compile(r"/virsh\w+\.xml")
# libxml2's RelaxNG reports an error in its own words, qvirt's validator in others: the
# schema matter of the driver, not the command's; the lines after the schema's name go.
SCHEMA_DETAIL = re.compile(r"(domain\.rng\n)(?:[^\n]+\n)+")

# Editors as shell scripts: what each does to the document it is given.
EDITORS = {
    "memory": 'sed -i "s/8388608/4194304/g" "$1"',
    "broken": 'sed -i "s/<name>/<nome>/" "$1"',
    "invalid": 'sed -i "s|<devices>|<devices><bogus/>|" "$1"',
    # Broken the first time, repaired (back to the original) the second.
    "words": 'echo "edited words" > "$1"',
    "twice": 'if grep -q "<nome>" "$1"; then sed -i "s/<nome>/<name>/" "$1"; '
             'else sed -i "s/<name>/<nome>/" "$1"; fi',
}


@pytest.fixture
def editors(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, body in EDITORS.items():
        path = tmp_path / f"ed-{name}"
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        paths[name] = str(path)
    return paths


def same(argv: list[str]) -> Result:
    """Both tools' results (temporary file names made neutral), asserted equal."""
    virsh, qvirt = (Result(TEMP.sub("/TMP.xml", r.stdout), TEMP.sub("/TMP.xml", r.stderr),
                           r.status) for r in (run_virsh(argv), run_qvirt(argv)))
    assert qvirt == virsh
    return qvirt


CASES = [
    ("true", "edit test"),
    ("false", "edit test; uri"),
    ("memory", "edit test; dumpxml test --xpath //memory"),
    ("broken", "edit test; dumpxml test --xpath //name"),
    ("invalid", "edit test"),
    ("invalid", "edit --skip-validate test; dumpxml test --xpath //devices/*[1]"),
    ("memory", "edit nosuch"),
    ("sed -i s/8388608/4194304/", "edit test; dumpxml test --xpath //currentMemory"),
    ("words", "desc test --edit; desc test"),
    ("words", "desc --title test --edit; desc --title test"),
    ("words", "desc --title --edit test first; desc --title test"),
    ("true", "desc --edit test"),
    ("false", "desc --edit test"),
]


@pytest.mark.compat
@pytest.mark.parametrize(("editor", "line"), CASES)
def test_edit_as_virsh(editor: str, line: str, editors: dict[str, str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editors.get(editor, editor))
    same(["-c", "test:///default", line])


@pytest.mark.compat
def test_visual_before_editor(editors: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", editors["memory"])
    monkeypatch.setenv("EDITOR", "false")
    got = same(["-c", "test:///default", "edit test"])
    assert got.stdout == "Domain 'test' XML configuration edited.\n\n"


def on_terminal(tool: str, editor: str, keys: list[bytes]) -> tuple[int, str]:
    """edit on a pty; each key typed once the prompt (or its help) shows."""
    term = Terminal("env", f"EDITOR={editor}", tool, "-c", "test:///default",
                    "edit test; dumpxml test --xpath //name")
    mark = 0
    for key in keys:
        term.wait_for(b"?]: ", since=mark)
        mark = len(term.output)
        term.type(key)
    code = term.exit_code()
    text = SCHEMA_DETAIL.sub(r"\1DETAIL\n", POLKIT.sub("", term.text()))
    return code, TEMP.sub("/TMP.xml", text)


@pytest.mark.compat
@pytest.mark.parametrize(("editor", "keys"), [
    ("broken", [b"?", b"n"]),
    ("invalid", [b"f", b"i"]),
    ("twice", [b"x", b"y"]),
])
def test_reedit_prompt_as_virsh(editor: str, keys: list[bytes],
                                editors: dict[str, str]) -> None:
    have = on_terminal(QVIRT, editors[editor], keys)
    assert have == on_terminal("virsh", editors[editor], keys)
    assert "Try again? [y,n,i,f,?]: " in have[1]
