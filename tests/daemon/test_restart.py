"""qvirtd killed outright (SIGKILL: no clean-up of its sockets, pid file or state) while a
guest runs: the guest keeps running, a new qvirtd on the same root starts despite what the
dead one left behind, takes the guest back (virsh sees it running, with the same id), and
can destroy it; a client connected to the dead daemon gets an error, not a hang."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.daemon.conftest import guest_xml, start_qvirtd, stop_qvirtd, virsh
from tests.drivers.qemu.conftest import kill_all_under, qemu_pids_under
from tests.support.oracle import SYSTEM_PYTHON

# A python3-libvirt client holding its connection while the daemon dies under it.
HOLD = """
import sys, libvirt
conn = libvirt.open(sys.argv[1])
conn.lookupByName(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
try:
    conn.lookupByName(sys.argv[2])
    print("answered")
except libvirt.libvirtError as err:
    print("error", err.get_error_code())
"""


@pytest.mark.integration
def test_killed_daemon_leaves_the_guest_to_its_successor(tmp_path: Path,
                                                          tiny_image: Path) -> None:
    root = tmp_path / "r"
    name = f"qd5-{os.getpid()}-restart"
    xml = guest_xml(tiny_image, tmp_path / "g", name)
    first = start_qvirtd(root)
    try:
        assert virsh(first.uri, "define", str(xml)).returncode == 0
        assert virsh(first.uri, "start", name).returncode == 0
        dom_id = virsh(first.uri, "domid", name).stdout.strip()
        qemu = qemu_pids_under(tmp_path)
        assert len(qemu) == 1
        holder = subprocess.Popen([SYSTEM_PYTHON, "-c", HOLD, first.uri, name],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "ready\n"

        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=60)
        out, _ = holder.communicate("\n", timeout=120)
        assert out.startswith("error "), out
        assert qemu_pids_under(tmp_path) == qemu       # the guest outlives its daemon

        second = start_qvirtd(root)
        try:
            state = virsh(second.uri, "domstate", "--reason", name)
            assert (state.returncode, state.stdout) == (0, "running (booted)\n\n"), state
            assert virsh(second.uri, "domid", name).stdout.strip() == dom_id
            assert virsh(second.uri, "destroy", name).returncode == 0
            assert qemu_pids_under(tmp_path) == []
            assert virsh(second.uri, "undefine", name).returncode == 0
        finally:
            log = stop_qvirtd(second)
        assert second.proc.returncode == 0, log
    finally:
        if first.proc.poll() is None:
            stop_qvirtd(first)
        kill_all_under(tmp_path)
