"""The guest-interface commands on the QEMU driver's inactive domains (qemu:///embed,
in-process) beside virsh on libvirtd 9.0: listing, link state, and attach/detach/set-link on
the persistent config; no guest runs and no network starts on either side."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.harness import run_qvirt, run_virsh
from tests.support.oracle import URI, ensure_libvirtd

GUEST = """<domain type='qemu'>
  <name>{name}</name>
  <memory>65536</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:3a:00:01'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:3a:00:02'/>
      <source bridge='br-none'/>
      <model type='e1000'/>
      <link state='down'/>
    </interface>
  </devices>
</domain>
"""

LINES = [
    "domiflist {name}; domiflist {name} --inactive",
    "domif-getlink {name} 52:54:00:3a:00:01; domif-getlink {name} 52:54:00:3A:00:02 --config",
    "domif-setlink {name} 52:54:00:3a:00:02 up --config --print-xml",
    "domif-setlink {name} 52:54:00:3a:00:02 up --config; domif-getlink {name} "
    "52:54:00:3a:00:02 --config; domif-setlink {name} 52:54:00:3a:00:01 down",
    "detach-interface {name} network --config --print-xml",
    "detach-interface {name} bridge --mac 52:54:00:3a:00:02 --config; domiflist {name}",
    "detach-interface {name} network --live",
    "attach-interface {name} network default --mac 52:54:00:3a:00:03 --model virtio "
    "--config; domiflist {name}; attach-interface {name} bridge br-none --live",
    "attach-interface {name} direct eth9 --mac 52:54:00:3a:00:01 --config",
    "domifstat {name} 52:54:00:3a:00:01",
]


@pytest.fixture
def guest(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(name, qvirt's URI), the guest defined on both sides."""
    ensure_libvirtd()
    name = f"qvtF-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "guest.xml"
    path.write_text(GUEST.format(name=name))
    ours = f"qemu:///embed?root={tmp_path / 'root'}"
    assert run_qvirt(["-c", ours, f"define {path}"]).status == 0
    assert run_virsh(["-c", URI, f"define {path}"]).status == 0
    try:
        yield name, ours
    finally:
        run_virsh(["-c", URI, f"undefine {name}"])


@pytest.mark.compat
@pytest.mark.parametrize("line", LINES)
def test_inactive_qemu_guest_nics_as_libvirtd(line: str, guest: tuple[str, str]) -> None:
    name, ours = guest
    text = line.format(name=name)
    assert run_qvirt(["-c", ours, text]) == run_virsh(["-c", URI, text])
