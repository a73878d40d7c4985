"""A driver killed with SIGKILL while guests run: a new driver on the same root takes every
live QEMU back and records the ones that died meanwhile as crashed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.process import pid_alive
from qvirt.errors import QvirtError
from tests.drivers.qemu.conftest import (
    Drivers,
    qemu_pids_under,
    tiny_xml,
    wait_agent,
    wait_state,
)

pytestmark = pytest.mark.integration

# Runs in a child process: start the guests given on stdin (persistent ones defined first),
# report each name's QEMU pid, then wait to be killed.
HOLDER = """
import json, sys, time
from pathlib import Path
from qvirt.drivers.qemu.driver import QemuDriver
root, guests = Path(sys.argv[1]), json.load(sys.stdin)
drv = QemuDriver("qemu:///embed?root=" + str(root), root)
pids = {}
for g in guests:
    if g["persistent"]:
        ref = drv.domain_create_with_flags(drv.domain_define_xml_flags(g["xml"]))
    else:
        ref = drv.domain_create_xml(g["xml"])
    if g["paused"]:
        drv.domain_suspend(ref)
    pids[g["name"]] = drv.qemu_pid(ref)
print(json.dumps(pids), flush=True)
time.sleep(3600)
"""


def test_new_driver_takes_back_running_guests(drivers: Drivers, tiny_image: Path,
                                              tmp_path: Path, root: Path) -> None:
    guests = []
    consoles = {}
    for n in range(6):
        name = f"g{n}"
        xml, consoles[name] = tiny_xml(tiny_image, tmp_path / name, name=name)
        guests.append({"name": name, "xml": xml, "persistent": n % 2 == 0, "paused": n == 1})
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[3])
    try:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(json.dumps(guests))
        holder.stdin.close()
        pids = json.loads(holder.stdout.readline())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert len(pids) == 6
    assert all(pid_alive(pid) for pid in pids.values())
    # g5's QEMU dies while no driver watches it; g4 (persistent) likewise.
    for name in ("g4", "g5"):
        os.kill(pids[name], signal.SIGKILL)
    drv = drivers.open()
    by_name = {ref.name: ref for ref in drv.connect_list_all_domains(1)}
    assert sorted(by_name) == ["g0", "g1", "g2", "g3"]
    assert {name: drv.qemu_pid(ref) for name, ref in by_name.items()} == {
        name: pids[name] for name in by_name}
    assert drv.domain_get_state(by_name["g1"]) == (3, 1)
    assert drv.domain_get_state(by_name["g0"]) == (1, 1)
    # The persistent guest whose QEMU died is shut off (crashed); the transient one is gone.
    g4 = drv.domain_lookup_by_name("g4")
    assert drv.domain_get_state(g4) == (5, 3)
    assert not (root / "run" / "qemu" / "g4.xml").exists()
    assert [ref.name for ref in drv.connect_list_all_domains()] == [
        "g0", "g1", "g2", "g3", "g4"]
    # Ids continue after the highest one in use.
    assert drv.domain_create_with_flags(g4).id == 7
    # The taken-back guests obey the new driver.
    drv.domain_resume(by_name["g1"])
    consoles["g1"].wait_for("TINY-GUEST-READY")
    drv.domain_suspend(by_name["g0"])
    assert drv.domain_get_state(by_name["g0"]) == (3, 1)
    consoles["g2"].wait_for("TINY-GUEST-READY")
    drv.domain_shutdown_flags(by_name["g2"], 1)
    wait_state(drv, by_name["g2"], (5, 1))
    for name in ("g0", "g1", "g3"):
        drv.domain_destroy_flags(by_name[name])
    drv.domain_destroy_flags(g4)
    assert qemu_pids_under(root.parent) == []


def test_reconnect_survives_a_clean_close(drivers: Drivers, tiny_image: Path,
                                          tmp_path: Path, root: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    first = drivers.open()
    ref = first.domain_create_with_flags(first.domain_define_xml_flags(xml))
    pid = first.qemu_pid(ref)
    first.connect_close()
    assert pid_alive(pid)
    second: QemuDriver = drivers.open()
    ref = second.domain_lookup_by_name("tiny")
    assert second.qemu_pid(ref) == pid and ref.id == 1
    console.wait_for("TINY-GUEST-READY")
    wait_agent(second, ref)
    # One driver per root: a second one would take the monitors from the first.
    with pytest.raises(QvirtError) as caught:
        QemuDriver(f"qemu:///embed?root={root}", root)
    assert caught.value.message == (f"Failed to acquire pid file '{root}/run/qemu/driver.pid':"
                                    " Resource temporarily unavailable")
    second.connect_close()
    # A driver taking over learns that the agent is connected from QEMU itself.
    third = drivers.open()
    ref = third.domain_lookup_by_name("tiny")
    assert third.agent_connected(ref)
    assert third.agent_command(ref, "guest-ping") == {}
    third.domain_destroy_flags(ref)
    second = third
    assert second.domain_get_state(ref) == (5, 2)
