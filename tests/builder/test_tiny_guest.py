"""The tiny guest keeps every promise of its contract, booted by bare QEMU under TCG."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.plainqemu import PlainGuest

pytestmark = pytest.mark.integration

StartGuest = Callable[..., PlainGuest]


def test_ready_marker_then_ticks_counting_from_one(plain_guest: StartGuest) -> None:
    guest = plain_guest()
    guest.wait_for(r"^TINY-GUEST-READY\r?$")
    ticks = guest.wait_for(r"TINY-GUEST-TICK (\d+)\r?$", count=3)
    assert [int(m.group(1)) for m in ticks] == [1, 2, 3]
    console = guest.console_text()
    assert console.index("TINY-GUEST-READY") < console.index("TINY-GUEST-TICK 1")


def test_ticks_stop_while_paused_and_resume_where_they_were(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False, agent=False)
    guest.wait_for(r"TINY-GUEST-TICK 2\r?$")
    guest.qmp("stop")
    seen = guest.console_text().count("TINY-GUEST-TICK")
    with pytest.raises(AssertionError):
        guest.wait_for(r"TINY-GUEST-TICK \d+\r?$", timeout=2.5, count=seen + 1)
    guest.qmp("cont")
    ticks = guest.wait_for(r"TINY-GUEST-TICK (\d+)\r?$", count=seen + 2)
    numbers = [int(m.group(1)) for m in ticks]
    assert numbers == list(range(1, len(numbers) + 1))


def test_guest_agent_answers_ping_and_info(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False)
    guest.wait_for("TINY-GUEST-READY")
    guest.wait_agent()
    assert guest.agent("guest-ping") == {}
    info = guest.agent("guest-info")
    assert isinstance(info, dict)
    assert info["version"].startswith("7.")
    names = {c["name"] for c in info["supported_commands"]}
    assert {"guest-shutdown", "guest-exec", "guest-ping", "guest-sync"} <= names


def test_acpi_power_button_powers_off(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False, agent=False)
    guest.wait_for("TINY-GUEST-READY")
    guest.qmp("system_powerdown")
    assert guest.wait_exit(timeout=60) == 0


def test_agent_shutdown_powers_off(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False)
    guest.wait_for("TINY-GUEST-READY")
    guest.wait_agent()
    guest.agent("guest-shutdown", reply=False, mode="powerdown")
    assert guest.wait_exit(timeout=60) == 0


def test_dhcp_lease_from_user_mode_network(plain_guest: StartGuest) -> None:
    guest = plain_guest(agent=False)
    (lease,) = guest.wait_for(r"^TINY-GUEST-IP (\S+) (\S+)\r?$")
    assert lease.groups() == ("eth0", "10.0.2.15")


def test_data_disk_formatted_mounted_and_kept_across_reboot(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False)
    guest.wait_for("TINY-GUEST-READY")
    guest.wait_agent()
    code, mounts = guest.run("cat /proc/mounts")
    assert code == 0
    assert "/dev/vda /data ext4 rw" in mounts
    assert guest.run("echo kept-across-reboot > /data/marker && sync")[0] == 0

    pid = guest.proc.pid if guest.proc else None
    guest.type("reboot\n")
    guest.wait_for("TINY-GUEST-READY", count=2, timeout=90)
    assert guest.proc is not None and guest.proc.pid == pid and guest.proc.poll() is None
    guest.wait_agent()
    assert guest.run("cat /data/marker") == (0, "kept-across-reboot\n")
    # Formatted once: the second boot mounted the file system the first one made.
    assert guest.run("ls /data")[1].split() == ["lost+found", "marker"]


def test_boots_without_nic_or_agent(plain_guest: StartGuest) -> None:
    guest = plain_guest(nic=False, agent=False)
    guest.wait_for("TINY-GUEST-READY")
    assert "TINY-GUEST-IP" not in guest.console_text()
