"""The test driver's networks from a node file (testParseNetworks: each active, persistent,
without autostart), beside virsh on the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import run_qvirt, run_virsh

NODE = """<node>
  <network>
    <name>routed</name>
    <uuid>6f0a2a8e-51c5-4d6b-9a3f-0c2b1e4d5a61</uuid>
    <forward mode='route' dev='eth0'/>
    <bridge name='virbr7'/>
    <ip address='10.7.0.1' prefix='24'>
      <dhcp><range start='10.7.0.10' end='10.7.0.20'/></dhcp>
    </ip>
  </network>
  <network>
    <name>Isolated</name>
    <uuid>0d7f3c4b-2b1a-4e6f-8c9d-1a2b3c4d5e6f</uuid>
    <ip address='10.8.0.1' netmask='255.255.255.0'/>
  </network>
</node>
"""

LINES = [
    "net-list --all; net-info routed; net-info Isolated; net-dumpxml Isolated",
    "net-destroy routed; net-list --all --name; net-update routed add ip-dhcp-host "
    "\"<host mac='52:54:00:00:00:01' ip='10.7.0.11'/>\"; net-dumpxml routed",
    "net-undefine Isolated; net-destroy Isolated; net-undefine Isolated; net-list --all",
]


@pytest.mark.compat
@pytest.mark.parametrize("line", LINES)
def test_node_file_networks_as_virsh(line: str, tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    argv = ["-c", f"test://{node}", line]
    expected = run_virsh(argv)
    assert run_qvirt(argv) == expected
    assert expected.status == 0
