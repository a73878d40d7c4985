"""qvirt's codec against real libvirt clients: Debian's virsh and python3-libvirt talk to a
test-only server built from qvirt.rpc (tests/rpc/fakeserver.py). The server checks that qvirt
decodes the calls they send; their output checks that they accept qvirt's replies."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qvirt.rpc.remote import BY_NAME, event_frame
from tests.rpc.fakeserver import FakeServer

pytestmark = pytest.mark.compat

DOM = {"name": "tiny", "uuid": bytes(range(16)), "id": 3}
OFF = {"name": "off", "uuid": bytes(range(16, 32)), "id": -1}
REPLIES: dict[int, Any] = {
    1: None, 2: None, 3: {"type": "QEMU"}, 4: {"hv_ver": 7002000},
    6: {"model": b"x86_64", "memory": 8388608, "cpus": 4, "mhz": 2400, "nodes": 1,
        "sockets": 1, "cores": 4, "threads": 1},
    15: {"autostart": 0}, 16: {"state": 1, "maxMem": 262144, "memory": 131072,
                               "nrVirtCpu": 1, "cpuTime": 5 * 10**9},
    19: {"type": "hvm"}, 23: {"dom": DOM}, 60: {"supported": 0}, 66: {"types": [0]},
    151: {"persistent": 1}, 157: {"lib_ver": 9000000}, 183: {"result": 0},
    212: {"state": 1, "reason": 1}, 273: {"domains": [DOM, OFF], "ret": 2},
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[FakeServer, str]]:
    fake = FakeServer(tmp_path / "sock", REPLIES)
    yield fake, f"qemu+unix:///system?socket={tmp_path / 'sock'}"
    fake.close()
    assert fake.failures == []


def virsh(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True,
                          timeout=120, check=False)


CONNECT = [(66, None), (60, {"feature": 10}), (1, {"name": "qemu:///system", "flags": 0})]


def test_virsh_version(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    result = virsh(uri, "version")
    assert result.returncode == 0, result.stderr
    assert "Using API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n" in result.stdout
    procs = [proc for proc, _ in fake.calls]
    assert fake.calls[:3] == CONNECT
    assert procs[-3:] == [3, 4, 2]


def test_virsh_nodeinfo(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    result = virsh(uri, "nodeinfo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CPU model:           x86_64\nCPU(s):              4\n")
    assert "Memory size:         8388608 KiB\n" in result.stdout
    assert (6, None) in fake.calls


def test_virsh_list_all(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    result = virsh(uri, "list", "--all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:4] == [" 3    tiny   running", " -    off    running"]
    assert (273, {"need_results": 1, "flags": 3}) in fake.calls
    assert (212, {"dom": OFF, "flags": 0}) in fake.calls


def test_virsh_dominfo(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    result = virsh(uri, "dominfo", "tiny")
    assert result.returncode == 0, result.stderr
    assert "UUID:           00010203-0405-0607-0809-0a0b0c0d0e0f\n" in result.stdout
    assert "CPU time:       5.0s\nMax memory:     262144 KiB\nUsed memory:    131072 KiB\n" \
        in result.stdout
    assert (23, {"name": "tiny"}) in fake.calls
    assert (16, {"dom": DOM}) in fake.calls


def test_virsh_shows_qvirts_error_reply(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    result = virsh(uri, "hostname")
    assert result.returncode == 1
    assert result.stderr == ("error: failed to get hostname\n"
                             "error: this function is not supported by the connection driver\n")
    assert (59, None) in fake.calls


def test_python_libvirt(server: tuple[FakeServer, str]) -> None:
    fake, uri = server
    script = (
        "import libvirt\n"
        f"conn = libvirt.open({uri!r})\n"
        "dom = conn.lookupByName('tiny')\n"
        "print(conn.getType(), conn.getVersion(), conn.getLibVersion())\n"
        "print(dom.name(), dom.ID(), dom.UUIDString(), dom.info(), dom.state())\n"
        "conn.close()\n"
    )
    result = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("QEMU 7002000 9000000\n"
                             "tiny 3 00010203-0405-0607-0809-0a0b0c0d0e0f "
                             "[1, 262144, 131072, 1, 5000000000] [1, 1]\n")
    # No keepalive feature probe: libvirt-python without an event loop does not ask for one.
    assert fake.calls == [
        (66, None), (1, {"name": "qemu:///system", "flags": 0}), (60, {"feature": 14}),
        (60, {"feature": 15}), (23, {"name": "tiny"}), (3, None), (4, None), (157, None),
        (16, {"dom": DOM}), (212, {"dom": DOM, "flags": 0}), (2, None),
    ]


def test_python_libvirt_receives_a_lifecycle_event(tmp_path: Path) -> None:
    lifecycle = BY_NAME["DOMAIN_EVENT_CALLBACK_LIFECYCLE"]
    # VIR_DOMAIN_EVENT_STARTED (2), VIR_DOMAIN_EVENT_STARTED_BOOTED (0), to callback 7.
    event = event_frame(lifecycle, {"callbackID": 7,
                                    "msg": {"dom": DOM, "event": 2, "detail": 0}})
    replies = {**REPLIES, 60: {"supported": 1}, 316: {"callbackID": 7}}
    fake = FakeServer(tmp_path / "sock", replies, then={316: event})
    script = (
        "import libvirt\n"
        "libvirt.virEventRegisterDefaultImpl()\n"
        f"conn = libvirt.open('qemu+unix:///system?socket={tmp_path / 'sock'}')\n"
        "got = []\n"
        "def seen(conn, dom, event, detail, opaque):\n"
        "    got.append((dom.name(), dom.ID(), event, detail))\n"
        "conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, seen, None)\n"
        "while not got:\n"
        "    libvirt.virEventRunDefaultImpl()\n"
        "print(got)\n"
    )
    try:
        result = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True,
                                text=True, timeout=120, check=False)
    finally:
        fake.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[('tiny', 3, 2, 0)]\n"
    assert (316, {"eventID": 0, "dom": None}) in fake.calls
    assert fake.failures == []
