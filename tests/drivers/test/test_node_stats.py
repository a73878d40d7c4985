"""The test driver's node figures (free memory, cells, CPU map and times) as python3-libvirt
shows libvirt's test driver giving them, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import qvirt
from qvirt.errors import QvirtError
from tests.support.oracle import SYSTEM_PYTHON

CALLS = ("getFreeMemory()", "getCellsFreeMemory(0, 5)", "getCellsFreeMemory(1, 1)",
         "getCellsFreeMemory(2, 1)", "getCPUMap()", "getCPUMap(1)", "getCPUStats(-1)",
         "getCPUStats(3)", "getMemoryStats(-1)")

SCRIPT = """
import json, sys, {module} as lib
conn = lib.open("test:///default")
out = []
for call in sys.argv[1:]:
    try:
        out.append(["ok", eval("conn." + call)])
    except lib.{error} as err:
        out.append(["error", err.get_error_code(), err.get_error_domain(),
                    err.get_error_message()])
print(json.dumps(out))
"""


def run(module: str, error: str, python: str) -> object:
    proc = subprocess.run([python, "-c", SCRIPT.format(module=module, error=error), *CALLS],
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(proc.stdout)


def test_node_figures_as_libvirt() -> None:
    have = run("qvirt", "libvirtError", sys.executable)
    assert have == run("libvirt", "libvirtError", SYSTEM_PYTHON)


def test_node_info_record_in_kib() -> None:
    conn = qvirt.open("test:///default")
    assert conn.nodeInfo().memory == 3 * 1024 * 1024
    assert conn.getInfo()[1] == 3 * 1024
    with pytest.raises(QvirtError, match=r"not supported .*: virNodeGetMemoryStats$"):
        conn.getMemoryStats(-1)
