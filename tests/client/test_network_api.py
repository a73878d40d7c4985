"""The network API's shapes against python3-libvirt: the same libvirt-python script
(networks, their look-ups, updates, errors, events and read-only refusals on test:///default)
run under the system Python with libvirt and under qvirt must print the same."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

from tests.client.test_scripts import ROOT, SHIM, SYSTEM_PYTHON, run

SCRIPTS = Path(__file__).parent / "test_network_scripts"


@pytest.mark.compat
@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_network_script_output_matches_libvirt(script: Path) -> None:
    expected = run(SYSTEM_PYTHON, script, [])
    actual = run(sys.executable, script, [SHIM, ROOT])
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "libvirt", "qvirt", lineterm=""))
    assert not diff, diff
    assert "event all sentinel 0 0" in expected
