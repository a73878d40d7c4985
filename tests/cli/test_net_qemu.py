"""The net-* commands on the QEMU driver's networks (qemu:///embed, in-process) beside virsh
on libvirtd 9.0, for what an inactive network shows: no network is started on either side,
so neither touches the host's network. What is random (UUIDs, MACs, the bridge libvirtd picks
beside its own networks) stays out of the compared output."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.harness import run_qvirt, run_virsh
from tests.support.oracle import URI, ensure_libvirtd

NET = """<network>
  <name>{name}</name>
  <forward mode='nat'/>
  <ip address='192.168.231.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.231.2' end='192.168.231.9'/>
    </dhcp>
  </ip>
</network>
"""
HOST = "<host mac='52:54:00:00:00:01' name='one' ip='192.168.231.5'/>"

LINES = [
    "net-dhcp-leases {name}",
    "net-dhcp-leases {name} --mac 52:54:00:00:00:01",
    "net-dumpxml {name} --inactive --xpath //ip",
    f'net-update {{name}} add ip-dhcp-host "{HOST}" --config; '
    "net-dumpxml {name} --xpath //dhcp; "
    f'net-update {{name}} delete ip-dhcp-host "{HOST}"; net-dumpxml {{name}} --xpath //dhcp',
    f'net-update {{name}} add ip-dhcp-host "{HOST}" --live',
    "net-autostart {name}; net-list --all --autostart --name; net-autostart --disable {name}",
    "net-start {name}x; net-destroy {name}; net-undefine {name}x",
]


@pytest.fixture
def networks(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(name, qvirt's URI, the definition's file), the network defined on both sides."""
    ensure_libvirtd()
    name = f"qvtF-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "net.xml"
    path.write_text(NET.format(name=name))
    ours = f"qemu:///embed?root={tmp_path / 'root'}"
    for uri in (ours, URI):
        argv = ["-c", uri, f"net-define {path}"]
        assert (run_qvirt if uri == ours else run_virsh)(argv).status == 0
    try:
        yield name, ours, str(path)
    finally:
        run_virsh(["-c", URI, f"net-undefine {name}"])


@pytest.mark.compat
@pytest.mark.parametrize("line", LINES)
def test_inactive_qemu_network_as_libvirtd(line: str, networks: tuple[str, str, str]) -> None:
    name, ours, _ = networks
    text = line.format(name=name)
    expected = run_virsh(["-c", URI, text])
    assert run_qvirt(["-c", ours, text]) == expected
