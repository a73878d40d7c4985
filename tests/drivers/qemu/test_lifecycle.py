"""The tiny guest under the QEMU driver: start, pause, power, reboot, panic, destroy, with the
states, reasons and events libvirt gives for each."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from qvirt.drivers.base import DomainRef
from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.state import (
    CrashedDetail,
    CreateFlags,
    Defined,
    Event,
    Resumed,
    ShutdownDetail,
    ShutdownFlags,
    Started,
    Stopped,
    Suspended,
)
from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.qemu.conftest import (
    Events,
    guest_run,
    qemu_pids_under,
    tiny_xml,
    wait_agent,
    wait_state,
)

pytestmark = pytest.mark.integration

RUNNING_BOOTED = (1, 1)
RUNNING_UNPAUSED = (1, 5)
PAUSED_USER = (3, 1)
SHUTOFF_SHUTDOWN = (5, 1)
SHUTOFF_DESTROYED = (5, 2)
SHUTOFF_CRASHED = (5, 3)
CRASHED_PANICKED = (6, 1)


def test_start_and_destroy(driver: QemuDriver, events: Events, tiny_image: Path,
                           tmp_path: Path, root: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_define_xml_flags(xml)
    assert not driver.domain_is_active(ref) and driver.domain_is_persistent(ref)
    ref = driver.domain_create_with_flags(ref)
    assert ref.id == 1
    assert driver.domain_get_state(ref) == RUNNING_BOOTED
    console.wait_for("TINY-GUEST-READY")
    assert driver.domain_lookup_by_id(1) == ref

    live = driver.domain_get_xml_desc(ref)
    assert "<domain type='qemu' id='1'>" in live
    agent_socket = root / "run" / "qemu" / "domain-1-tiny" / "org.qemu.guest_agent.0"
    assert f"<source mode='bind' path='{agent_socket}'/>" in live
    assert " id=" not in driver.domain_get_xml_desc(ref, 2).splitlines()[0]
    status = (root / "run" / "qemu" / "tiny.xml").read_text()
    assert f"pid='{driver.qemu_pid(ref)}'" in status and "state='running'" in status
    assert "-name guest=tiny" in (root / "log" / "qemu" / "tiny.log").read_text()

    driver.domain_destroy_flags(ref)
    assert driver.domain_get_state(ref) == SHUTOFF_DESTROYED
    assert not (root / "run" / "qemu" / "tiny.xml").exists()
    assert not (root / "run" / "qemu" / "domain-1-tiny").exists()
    assert qemu_pids_under(root.parent) == []
    assert "shutting down, reason=destroyed" in (root / "log" / "qemu" / "tiny.log").read_text()
    Events.wait_for(events, ("tiny", Event.STOPPED, Stopped.DESTROYED))
    assert events.seen == [("tiny", Event.DEFINED, Defined.ADDED),
                           ("tiny", Event.RESUMED, Resumed.UNPAUSED),
                           ("tiny", Event.STARTED, Started.BOOTED),
                           ("tiny", Event.SHUTDOWN, ShutdownDetail.HOST),
                           ("tiny", Event.STOPPED, Stopped.DESTROYED)]
    # The next start gets the next id, as libvirt's counter gives.
    assert driver.domain_create_with_flags(ref).id == 2


def test_live_xml_shows_the_ptys_qemu_allocated(driver: QemuDriver, tiny_image: Path,
                                                tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    pty = (tiny_image / "tiny.xml").read_text().split("<serial", 1)[1].split("</console>", 1)[0]
    xml = re.sub(r"<serial type='file'>.*?</serial>", "<serial" + pty + "</console>", xml,
                 flags=re.S)
    ref = driver.domain_create_xml(xml)
    live = driver.domain_get_xml_desc(ref)
    serial = re.search(r"<serial type='pty'>\s*<source path='(/dev/pts/\d+)'/>", live)
    assert serial is not None, live
    assert (f"<console type='pty' tty='{serial.group(1)}'>\n"
            f"      <source path='{serial.group(1)}'/>") in live
    assert Path(serial.group(1)).exists()


def test_suspend_stops_ticks_and_resume_continues(driver: QemuDriver, events: Events,
                                                  tiny_image: Path, tmp_path: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_xml(xml)
    assert not driver.domain_is_persistent(ref)
    console.wait_for("TINY-GUEST-TICK 1")
    driver.domain_suspend(ref)
    assert driver.domain_get_state(ref) == PAUSED_USER
    frozen = console.last_tick()
    time.sleep(2.5)  # the guest ticks every second while it runs
    assert console.last_tick() == frozen
    driver.domain_resume(ref)
    assert driver.domain_get_state(ref) == RUNNING_UNPAUSED
    console.wait_for(f"TINY-GUEST-TICK {frozen + 2}")
    events.wait_for(("tiny", Event.RESUMED, Resumed.UNPAUSED))
    assert ("tiny", Event.SUSPENDED, Suspended.PAUSED) in events.seen


def test_start_paused(driver: QemuDriver, events: Events, tiny_image: Path,
                      tmp_path: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_xml(xml, CreateFlags.START_PAUSED)
    assert driver.domain_get_state(ref) == PAUSED_USER
    events.wait_for(("tiny", Event.SUSPENDED, Suspended.PAUSED))
    assert console.text() == ""
    driver.domain_resume(ref)
    console.wait_for("TINY-GUEST-READY")


def test_acpi_shutdown(driver: QemuDriver, events: Events, tiny_image: Path,
                       tmp_path: Path, root: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_with_flags(driver.domain_define_xml_flags(xml))
    console.wait_for("TINY-GUEST-READY")
    driver.domain_shutdown_flags(ref, ShutdownFlags.ACPI_POWER_BTN)
    wait_state(driver, ref, SHUTOFF_SHUTDOWN)
    events.wait_for(("tiny", Event.STOPPED, Stopped.SHUTDOWN))
    assert ("tiny", Event.SHUTDOWN, ShutdownDetail.GUEST) in events.seen
    assert qemu_pids_under(root.parent) == []


def test_agent_shutdown(driver: QemuDriver, events: Events, tiny_image: Path,
                        tmp_path: Path) -> None:
    xml, _console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_with_flags(driver.domain_define_xml_flags(xml))
    wait_agent(driver, ref)
    driver.domain_shutdown_flags(ref, ShutdownFlags.GUEST_AGENT)
    wait_state(driver, ref, SHUTOFF_SHUTDOWN)
    events.wait_for(("tiny", Event.STOPPED, Stopped.SHUTDOWN))


def test_reboot_boots_twice_in_one_process(driver: QemuDriver, events: Events,
                                           tiny_image: Path, tmp_path: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_xml(xml)
    console.wait_for("TINY-GUEST-READY")
    pid = driver.qemu_pid(ref)
    driver.domain_reboot(ref, ShutdownFlags.ACPI_POWER_BTN)
    console.wait_for("TINY-GUEST-READY", count=2)
    assert driver.qemu_pid(ref) == pid
    wait_state(driver, ref, RUNNING_BOOTED)
    # An agent reboot goes through the guest, and QEMU resets it in place.
    wait_agent(driver, ref)
    driver.domain_reboot(ref, ShutdownFlags.GUEST_AGENT)
    console.wait_for("TINY-GUEST-READY", count=3)
    assert driver.qemu_pid(ref) == pid


def panic(driver: QemuDriver, ref: DomainRef) -> None:
    """Crash the guest's kernel, a moment after qemu-ga has answered guest-exec."""
    guest_run(driver, ref, "sleep 0.5; echo c > /proc/sysrq-trigger", wait=False)


def test_panic_applies_on_crash_destroy(driver: QemuDriver, events: Events,
                                        tiny_image: Path, tmp_path: Path) -> None:
    xml, _console = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_define_xml_flags(xml)
    driver.domain_create_with_flags(ref)
    wait_agent(driver, ref)
    panic(driver, ref)
    wait_state(driver, ref, SHUTOFF_CRASHED)
    events.wait_for(("tiny", Event.STOPPED, Stopped.CRASHED))
    assert ("tiny", Event.CRASHED, CrashedDetail.PANICKED) in events.seen


def test_panic_preserved(driver: QemuDriver, events: Events, tiny_image: Path,
                         tmp_path: Path) -> None:
    xml, _console = tiny_xml(tiny_image, tmp_path / "g", on_crash="preserve")
    ref = driver.domain_create_xml(xml)
    wait_agent(driver, ref)
    panic(driver, ref)
    wait_state(driver, ref, CRASHED_PANICKED)
    with pytest.raises(QvirtError) as caught:
        driver.domain_resume(ref)
    assert caught.value.message == "Requested operation is not valid: domain is crashed"
    driver.domain_destroy_flags(ref)


def test_operations_on_an_inactive_domain(driver: QemuDriver, tiny_image: Path,
                                          tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_define_xml_flags(xml)
    for op in (driver.domain_suspend, driver.domain_resume, driver.domain_destroy_flags,
               driver.domain_shutdown_flags, driver.domain_reboot, driver.domain_reset):
        with pytest.raises(QvirtError) as caught:
            op(ref)
        assert caught.value.code == ErrorNumber.OPERATION_INVALID
        assert caught.value.message == "Requested operation is not valid: domain is not running"


def test_panic_applies_on_crash_restart(driver: QemuDriver, events: Events,
                                        tiny_image: Path, tmp_path: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g", on_crash="restart")
    ref = driver.domain_create_with_flags(driver.domain_define_xml_flags(xml))
    pid = driver.qemu_pid(ref)
    wait_agent(driver, ref)
    panic(driver, ref)
    events.wait_for(("tiny", Event.STOPPED, Stopped.CRASHED))
    wait_state(driver, ref, RUNNING_BOOTED)
    # The new QEMU opened the console file afresh: this READY is the second boot's.
    console.wait_for("TINY-GUEST-READY")
    assert driver.domain_lookup_by_name("tiny").id == 2
    assert driver.qemu_pid(ref) != pid
    assert events.seen[-3:] == [("tiny", Event.STOPPED, Stopped.CRASHED),
                                ("tiny", Event.RESUMED, Resumed.UNPAUSED),
                                ("tiny", Event.STARTED, Started.BOOTED)]


def test_guest_reboot_with_on_reboot_destroy_shuts_off(driver: QemuDriver, events: Events,
                                                       tiny_image: Path,
                                                       tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g", on_reboot="destroy")
    ref = driver.domain_create_xml(xml)
    wait_agent(driver, ref)
    driver.domain_reboot(ref, ShutdownFlags.GUEST_AGENT)
    events.wait_for(("tiny", Event.STOPPED, Stopped.SHUTDOWN))
    assert driver.connect_list_all_domains() == []


def test_queries_and_destroy_get_through_a_job_stuck_on_qemu(driver: QemuDriver,
                                                             tiny_image: Path,
                                                             tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_create_xml(xml)
    pid = driver.qemu_pid(ref)
    os.kill(pid, signal.SIGSTOP)  # QEMU answers nothing now: a suspend job waits on it
    outcome: list[BaseException | None] = []

    def suspend() -> None:
        try:
            driver.domain_suspend(ref)
            outcome.append(None)
        except BaseException as err:  # handed over to the test thread
            outcome.append(err)

    job = threading.Thread(target=suspend)
    job.start()
    try:
        job.join(0.5)
        assert job.is_alive()
        assert driver.domain_get_state(ref) == RUNNING_BOOTED
        assert driver.domain_is_active(ref)
        driver.domain_destroy_flags(ref)   # SIGTERM waits in the stopped QEMU; SIGKILL ends it
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
        job.join(30)
    assert isinstance(outcome[0], QvirtError)
    assert outcome[0].message == "internal error: End of file from qemu monitor (vm='tiny')"
    with pytest.raises(QvirtError):
        driver.domain_get_state(ref)  # transient, so gone once destroyed
