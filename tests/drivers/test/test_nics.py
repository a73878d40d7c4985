"""A test-node domain with NICs of several kinds (sources of every attribute domiflist reads,
a link state, two NICs of one type), listed, queried and printed for detaching beside virsh on
the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import run_qvirt, run_virsh

NODE = """<node>
  <domain type='test'>
    <name>nics</name>
    <uuid>2f3e4d5c-6b7a-4988-8776-655443322110</uuid>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices>
      <interface type='bridge'>
        <mac address='52:54:00:00:00:01'/>
        <source bridge='br0'/>
        <target dev='vnet1'/>
        <model type='virtio'/>
        <link state='down'/>
      </interface>
      <interface type='direct'>
        <mac address='52:54:00:00:00:02'/>
        <source dev='eth0' mode='vepa'/>
        <model type='e1000'/>
      </interface>
      <interface type='user'>
        <mac address='52:54:00:00:00:03'/>
      </interface>
      <interface type='bridge'>
        <mac address='52:54:00:00:00:04'/>
        <source bridge='br1'/>
      </interface>
    </devices>
  </domain>
</node>
"""

LINES = [
    "domiflist nics; domiflist nics --inactive",
    "domif-getlink nics vnet1; domif-getlink nics 52:54:00:00:00:02; "
    "domif-getlink nics 52:54:00:00:00:03 --config",
    "domif-setlink nics vnet1 up --print-xml; domif-setlink nics 52:54:00:00:00:03 down "
    "--print-xml",
    "detach-interface nics bridge --print-xml",
    "detach-interface nics bridge --mac 52:54:00:00:00:04 --print-xml; "
    "detach-interface nics user --print-xml; detach-interface nics direct --config --print-xml",
    "domifstat nics vnet9; domifstat nics 52:54:00:00:00:09",
]


@pytest.mark.compat
@pytest.mark.parametrize("line", LINES)
def test_node_file_nics_as_virsh(line: str, tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    argv = ["-c", f"test://{node}", line]
    assert run_qvirt(argv) == run_virsh(argv)
