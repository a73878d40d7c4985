"""Fixtures for the QEMU driver's tests: a driver on a fresh root, tiny guests with their own
disk overlay and a file serial console, and a guarantee that no QEMU outlives a test."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qvirt.drivers.base import DomainRef
from qvirt.drivers.qemu.driver import QemuDriver

WAIT = 90.0


class Console:
    """The guest's serial output, written by QEMU to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        try:
            return self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.text(), re.MULTILINE))

    def wait_for(self, pattern: str, count: int = 1, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while self.count(pattern) < count:
            if time.monotonic() > deadline:
                tail = "\n".join(self.text().splitlines()[-10:])
                raise AssertionError(f"{pattern!r} x{count} not seen; console ends:\n{tail}")
            time.sleep(0.05)

    def last_tick(self) -> int:
        ticks = re.findall(r"TINY-GUEST-TICK (\d+)", self.text())
        return int(ticks[-1]) if ticks else -1


def tiny_xml(image: Path, work: Path, name: str = "tiny", *, panic: bool = True,
             on_crash: str = "destroy", on_reboot: str = "restart") -> tuple[str, Console]:
    """The builder's tiny.xml, with its own qcow2 overlay (QEMU locks images) and the serial
    console in a file the test reads."""
    work.mkdir(parents=True, exist_ok=True)
    disk = work / "disk.qcow2"
    if not disk.exists():
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                        str(image / "disk.qcow2"), str(disk)], check=True)
    console = work / "console.log"
    xml = (image / "tiny.xml").read_text()
    xml = re.sub(r"<serial type='pty'>.*?</console>",
                 f"<serial type='file'><source path='{console}'/><target port='0'/></serial>",
                 xml, flags=re.S)
    xml = xml.replace(str(image / "disk.qcow2"), str(disk))
    xml = re.sub(r"<name>.*?</name>", f"<name>{_escape(name)}</name>", xml)
    xml = re.sub(r"<on_crash>.*?</on_crash>", f"<on_crash>{on_crash}</on_crash>", xml)
    xml = re.sub(r"<on_reboot>.*?</on_reboot>", f"<on_reboot>{on_reboot}</on_reboot>", xml)
    if not panic:
        xml = xml.replace("<panic model='isa'/>", "")
    return xml, Console(console)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def qemu_pids_under(root: Path) -> list[int]:
    """QEMU processes whose command line names a path under ``root``."""
    pids = []
    needle = str(root).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline.split(b"\0")[0] and needle in cmdline:
            pids.append(int(entry.name))
    return pids


def kill_all_under(root: Path) -> None:
    for pid in qemu_pids_under(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 10
    while qemu_pids_under(root) and time.monotonic() < deadline:
        time.sleep(0.02)


class Drivers:
    """Opens drivers on one root; at teardown destroys what runs and closes them all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.opened: list[QemuDriver] = []

    def open(self) -> QemuDriver:
        drv = QemuDriver(f"qemu:///embed?root={self.root}", self.root)
        self.opened.append(drv)
        return drv

    def close_all(self) -> None:
        for drv in self.opened:
            try:
                for ref in drv.connect_list_all_domains(1):
                    drv.domain_destroy_flags(ref)
            except Exception:  # the test may have closed it, or broken it on purpose
                pass
            with contextlib.suppress(Exception):
                drv.connect_close()
        kill_all_under(self.root.parent)  # the test's directory: disks and consoles live there


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "r"


@pytest.fixture
def drivers(root: Path) -> Iterator[Drivers]:
    opened = Drivers(root)
    yield opened
    opened.close_all()


@pytest.fixture
def driver(drivers: Drivers) -> QemuDriver:
    return drivers.open()


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []

    def __call__(self, dom: DomainRef, event: int, detail: int) -> None:
        self.seen.append((dom.name, event, detail))

    def wait_for(self, item: tuple[str, int, int], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while item not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"event {item} not seen; got {self.seen}")
            time.sleep(0.02)


@pytest.fixture
def events(driver: QemuDriver) -> Events:
    recorder = Events()
    driver.connect_domain_event_register_any(recorder)
    return recorder


def wait_state(drv: QemuDriver, ref: DomainRef, state: tuple[int, int],
               timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        now = drv.domain_get_state(ref)
        if now == state:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"state {now}, expected {state}")
        time.sleep(0.05)


def wait_agent(drv: QemuDriver, ref: DomainRef, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not drv.agent_connected(ref):
        if time.monotonic() > deadline:
            raise AssertionError("the guest agent never connected")
        time.sleep(0.05)


def guest_run(drv: QemuDriver, ref: DomainRef, script: str, wait: bool = True) -> Any:
    """A shell script in the guest through guest-exec; (exit code, stdout) when waited for."""
    pid = drv.agent_command(ref, "guest-exec", {"path": "/bin/sh", "arg": ["-c", script],
                                                "capture-output": True})["pid"]
    if not wait:
        return None
    deadline = time.monotonic() + WAIT
    while True:
        status = drv.agent_command(ref, "guest-exec-status", {"pid": pid})
        if status["exited"]:
            return status.get("exitcode"), base64.b64decode(status.get("out-data", "")).decode()
        if time.monotonic() > deadline:
            raise AssertionError(f"guest script did not finish: {script}")
        time.sleep(0.1)


StartGuest = Callable[..., tuple[DomainRef, Console]]
