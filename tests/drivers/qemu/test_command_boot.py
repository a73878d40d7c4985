"""The tiny guest boots under real QEMU from the argv build_command writes for its tiny.xml."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu.qmp.legacy import QEMUMonitorProtocol
from qemu.qmp.protocol import ConnectError

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.devices.chardev import ChrSource
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command import RunPaths, build_command
from tests.support.facts import qemu_facts


def _tiny_domain(image: Path, work: Path, machine: str) -> Domain:
    """tiny.xml as the runtime would hand it over: defaults applied, the agent channel's
    socket path filled, and the serial console logged to a file the test can read."""
    xml = (image / "tiny.xml").read_text().replace("machine='pc'", f"machine='{machine}'")
    xml = xml.replace("<serial type='pty'>",
                      f"<serial type='pty'><log file='{work / 'serial.log'}'/>")
    dom = Domain.from_xml(xml)
    facts = qemu_facts()
    apply_domain_defaults(dom, facts)
    dom.id = "1"
    for channel in dom.devices.channels:
        channel.sources = [ChrSource(mode="bind", path=str(work / "agent.sock"))]
    return dom


@pytest.fixture
def qemu_proc(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _agent_ping(sock_path: Path, proc: subprocess.Popen[bytes], timeout: float) -> object:
    """guest-ping over the agent channel, retried until qemu-ga in the guest answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(2)
                sock.connect(str(sock_path))
                sock.sendall(json.dumps({"execute": "guest-ping"}).encode() + b"\n")
                line = sock.makefile("rb").readline().lstrip(b"\xff")
                return json.loads(line)
        except (OSError, ValueError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return content
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not seen; console:\n{content[-2000:]}")
        time.sleep(0.05)


@pytest.mark.integration
@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_tiny_guest_boots_from_built_argv(tiny_image: Path, tmp_path: Path, machine: str,
                                          qemu_proc: list[subprocess.Popen[bytes]]) -> None:
    """i440fx and q35 (PCIe root ports, AHCI, xHCI) both boot to the guest's marker, with
    the devices QEMU reports under libvirt's ids."""
    dom = _tiny_domain(tiny_image, tmp_path, machine)
    paths = RunPaths(domain_dir=tmp_path, monitor=tmp_path / "monitor.sock")
    argv = build_command(dom, paths, qemu_facts())
    assert argv[0] == "/usr/bin/qemu-system-x86_64"
    assert "-S" in argv
    with open(tmp_path / "qemu.log", "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    qemu_proc.append(proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            qmp = QEMUMonitorProtocol(str(paths.monitor))
            qmp.connect()
            break
        except (ConnectError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("QEMU did not start: "
                                     + (tmp_path / "qemu.log").read_text()) from None
            time.sleep(0.02)
    try:
        status = qmp.cmd("query-status")
        assert isinstance(status, dict) and status["status"] == "prelaunch"
        qmp.cmd("cont")
        console = _wait_for(tmp_path / "serial.log", "TINY-GUEST-READY", proc, 240)
        assert "TINY-GUEST-READY" in console
        blocks = qmp.cmd("query-block")
        assert isinstance(blocks, list)
        assert any("virtio-disk0" in str(b.get("qdev")) for b in blocks)
        mac = qmp.cmd("qom-get", path="/machine/peripheral/net0", property="mac")
        assert mac == dom.devices.interfaces[0].mac
        assert _agent_ping(tmp_path / "agent.sock", proc, 180) == {"return": {}}
    finally:
        qmp.close()
