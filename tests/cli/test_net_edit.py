"""net-edit beside virsh on test:///default: "not changed", "edited" (the test driver refuses
the inactive XML, so net-edit falls back to the live one; an active network keeps its
definition until it is redefined inactive), the editor's failure and a definition refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_edit import same

EDITORS = {
    "address": 'sed -i "s|192.168.50|192.168.51|g" "$1"',
    "broken": 'sed -i "s/<name>/<nome>/" "$1"',
}
NET = ("<network><name>net1</name><uuid>0a6c6d3e-2a54-4f25-8a43-3f1f32b0a1c9</uuid>"
       "<ip address='192.168.50.1' netmask='255.255.255.0'/></network>")


@pytest.fixture
def editors(tmp_path: Path) -> dict[str, str]:
    paths = {"net": str(tmp_path / "net.xml")}
    (tmp_path / "net.xml").write_text(NET)
    for name, body in EDITORS.items():
        path = tmp_path / f"ed-{name}"
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        paths[name] = str(path)
    return paths


CASES = [
    ("true", "net-edit default"),
    ("false", "net-edit default; uri"),
    ("address", "net-define {net}; net-edit net1; net-dumpxml net1 --xpath //ip"),
    ("address", "net-define {net}; net-start net1; net-edit net1; "
                "net-dumpxml net1 --xpath //ip"),
    ("broken", "net-edit default"),
    ("address", "net-edit nosuch"),
]


@pytest.mark.compat
@pytest.mark.parametrize(("editor", "line"), CASES)
def test_net_edit_as_virsh(editor: str, line: str, editors: dict[str, str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editors.get(editor, editor))
    same(["-c", "test:///default", line.format(net=editors["net"])])
