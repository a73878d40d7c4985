"""pool-edit beside virsh on test:///default: "not changed", "edited" (the test driver keeps
an active pool's definition, so the change shows once it is inactive), the editor's failure,
a definition refused, and on a terminal virsh's re-edit prompt without its 'i' choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_console import POLKIT
from tests.cli.test_edit import QVIRT, TEMP, same
from tests.daemon.test_console import Terminal

EDITORS = {
    "path": 'sed -i "s|/pool1|/elsewhere|" "$1"',
    "broken": 'sed -i "s/<name>/<nome>/" "$1"',
    "twice": 'if grep -q "<nome>" "$1"; then sed -i "s/<nome>/<name>/" "$1"; '
             'else sed -i "s/<name>/<nome>/" "$1"; fi',
}
POOL = ("<pool type='dir'><name>pool1</name><uuid>0a6c6d3e-2a54-4f25-8a43-3f1f32b0a1c9</uuid>"
        "<target><path>/pool1</path></target></pool>")


@pytest.fixture
def editors(tmp_path: Path) -> dict[str, str]:
    paths = {"pool": str(tmp_path / "pool.xml")}
    (tmp_path / "pool.xml").write_text(POOL)
    for name, body in EDITORS.items():
        path = tmp_path / f"ed-{name}"
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        paths[name] = str(path)
    return paths


CASES = [
    ("true", "pool-edit default-pool"),
    ("false", "pool-edit default-pool; uri"),
    ("path", "pool-define {pool}; pool-edit pool1; pool-dumpxml pool1 --xpath //path"),
    ("path", "pool-define {pool}; pool-start pool1; pool-edit pool1; "
             "pool-dumpxml pool1 --xpath //path"),
    ("broken", "pool-edit default-pool"),
    ("path", "pool-edit nosuch"),
]


@pytest.mark.compat
@pytest.mark.parametrize(("editor", "line"), CASES)
def test_pool_edit_as_virsh(editor: str, line: str, editors: dict[str, str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editors.get(editor, editor))
    same(["-c", "test:///default", line.format(pool=editors["pool"])])


def on_terminal(tool: str, editor: str, keys: list[bytes]) -> tuple[int, str]:
    term = Terminal("env", f"EDITOR={editor}", tool, "-c", "test:///default",
                    "pool-edit default-pool; pool-dumpxml default-pool --xpath //name")
    mark = 0
    for key in keys:
        term.wait_for(b"?]: ", since=mark)
        mark = len(term.output)
        term.type(key)
    code = term.exit_code()
    return code, TEMP.sub("/TMP.xml", POLKIT.sub("", term.text()))


@pytest.mark.compat
@pytest.mark.parametrize(("editor", "keys"), [
    ("broken", [b"?", b"i", b"n"]),
    ("twice", [b"y"]),
])
def test_reedit_prompt_as_virsh(editor: str, keys: list[bytes],
                                editors: dict[str, str]) -> None:
    have = on_terminal(QVIRT, editors[editor], keys)
    assert have == on_terminal("virsh", editors[editor], keys)
    assert "Try again? [y,n,f,?]: " in have[1]
