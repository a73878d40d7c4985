"""The libvirt-python scripts of tests/client/scripts over a remote URI: each runs under
python3-libvirt and under qvirt, both through their remote drivers to the real libvirtd's
test:///default, and must print the same.

libvirtd's test:///default is one node shared by all its clients while any is connected, so
the pairs run one at a time across test workers (a lock file), each on a fresh node."""

from __future__ import annotations

import difflib
import fcntl
import shutil
import sys
from pathlib import Path

import pytest

from tests.client.test_scripts import ROOT, SCRIPTS, SHIM, SYSTEM_PYTHON, run
from tests.support.oracle import ensure_libvirtd

REMOTE_URI = "test+unix:///default?socket=/var/run/libvirt/libvirt-sock"
LOCK = "/tmp/qvirt-libvirtd-test-driver.lock"


@pytest.mark.compat
@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_script_output_matches_libvirt_remotely(script: Path, tmp_path: Path) -> None:
    ensure_libvirtd()
    shutil.copytree(SCRIPTS.parent / "data", tmp_path / "data")
    remote = tmp_path / "scripts" / script.name
    remote.parent.mkdir()
    remote.write_text(script.read_text().replace("test:///default", REMOTE_URI))
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        expected = run(SYSTEM_PYTHON, remote, [])
        actual = run(sys.executable, remote, [SHIM, ROOT])
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "libvirt", "qvirt", lineterm=""))
    assert not diff, diff
    assert expected.strip()
