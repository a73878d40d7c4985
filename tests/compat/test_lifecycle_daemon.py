"""The issue's second harness: qvirt against qvirtd and Debian's virsh against the real
libvirtd, the tiny guest's lifecycle step by step; stdout, stderr and exit status compared
with ids, uuids and the rest of test_virsh's noise normalized (its helpers, not a copy)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, guest_xml, virsh
from tests.daemon.test_virsh import LIBVIRTD_URI, normalize
from tests.support.oracle import ensure_libvirtd

QVIRT = str(Path(sys.executable).parent / "qvirt")
LIBVIRTD_SOCKET = "/var/run/libvirt/libvirt-sock"


def steps(name: str, xml: Path) -> list[tuple[str, ...]]:
    """The lifecycle, ending with destroy rather than a guest shutdown: the guest's power-off
    under TCG takes long and test_virsh already waits for one."""
    return [("define", str(xml)), ("list", "--all"), ("dumpxml", "--inactive", name),
            ("start", name), ("dominfo", name), ("domstate", "--reason", name),
            ("dumpxml", name), ("screenshot", name, "--file", str(xml.parent / "shot.png")),
            ("suspend", name), ("domstate", "--reason", name),
            ("dominfo", name), ("resume", name), ("list", "--all"), ("domid", name),
            ("destroy", name), ("domstate", "--reason", name), ("start", "--paused", name),
            ("domstate", "--reason", name), ("destroy", name), ("undefine", name),
            ("dominfo", name), ("list", "--all")]


def qvirt(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI")}
    return subprocess.run([QVIRT, "-c", uri, *args], capture_output=True, text=True,
                          timeout=180, check=False, env=env)


def run_steps(tool: object, uri: str, socket_path: str, name: str,
              xml: Path) -> list[tuple[int, str, str]]:
    assert callable(tool)
    out = []
    for step in steps(name, xml):
        result = tool(uri, *step)
        stdout = re.sub(r"^\d+\n$", "ID\n", result.stdout) if step[0] == "domid" \
            else result.stdout
        out.append((result.returncode,
                    normalize(stdout, name, xml, socket_path, step[0]),
                    normalize(result.stderr, name, xml, socket_path, step[0])))
    return out


@pytest.mark.integration
def test_qvirt_on_qvirtd_matches_virsh_on_libvirtd(qvirtd: Daemon, tiny_image: Path,
                                                    guest_dir: Path) -> None:
    ensure_libvirtd()
    name = f"qc6-{os.getpid()}-life"
    try:
        want = run_steps(virsh, LIBVIRTD_URI, LIBVIRTD_SOCKET, name,
                         guest_xml(tiny_image, guest_dir / "l", name))
    finally:
        virsh(LIBVIRTD_URI, "destroy", name)
        virsh(LIBVIRTD_URI, "undefine", name)
    have = run_steps(qvirt, qvirtd.uri, str(qvirtd.rw), name,
                     guest_xml(tiny_image, guest_dir / "q", name))
    for step, expected, got in zip(steps(name, Path()), want, have, strict=True):
        assert got == expected, f"{step}: {got} != {expected}"
    codes = [code for code, _, _ in want]
    # Everything succeeded on libvirtd but the screenshot (the tiny guest has no video: the
    # error path is what is compared) and the last dominfo (the domain is gone).
    assert codes == [0] * 7 + [1] + [0] * 12 + [1, 0]
    assert "no screens to take screenshot from" in want[7][2]
