"""libvirt-python scripts run twice, against libvirt's own test:///default (``import libvirt``
under the system Python) and against qvirt's (the same script, with ``libvirt`` answered by
qvirt): their printed output must be identical."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
SHIM = Path(__file__).parent / "shim"
ROOT = Path(__file__).parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


def run(python: str, script: Path, pythonpath: list[Path]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIBVIRT_DEFAULT_URI")}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    done = subprocess.run([python, str(script)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.compat
@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_script_output_matches_libvirt(script: Path) -> None:
    expected = run(SYSTEM_PYTHON, script, [])
    actual = run(sys.executable, script, [SHIM, ROOT])
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "libvirt", "qvirt", lineterm=""))
    assert not diff, diff
    assert expected.strip()
