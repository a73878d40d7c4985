"""The test driver's storage from a node file (testOpenVolumesForPool): pools with their
<volume> children, paths and keys defaulted under the pool's target, each volume's
allocation counted in its pool, beside virsh on the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.harness import run_qvirt, run_virsh

NODE = """<node>
  <pool type='dir'>
    <name>np</name>
    <uuid>35bb2ad9-388a-cdfe-461a-b8907f6e5444</uuid>
    <target><path>/np</path></target>
    <volume type='file'>
      <name>a.img</name>
      <capacity unit='M'>20</capacity>
      <allocation unit='M'>5</allocation>
    </volume>
    <volume>
      <name>b.qcow2</name>
      <key>mykey</key>
      <capacity>1000</capacity>
      <target><path>/elsewhere/b</path><format type='qcow2'/></target>
    </volume>
  </pool>
  <pool type='logical'>
    <name>vg</name>
    <uuid>0ab7a9f4-9d0b-4d84-a5bb-1f0c2a5f3d11</uuid>
    <source><device path='/dev/sdz'/></source>
    <volume><name>lv1</name><capacity unit='G'>1</capacity></volume>
  </pool>
</node>
"""

LINES = [
    "pool-list --all --details; pool-info np; pool-dumpxml vg",
    "vol-list np --details; vol-list vg --details; vol-dumpxml b.qcow2 np; vol-info lv1 vg",
    "vol-key b.qcow2 np; vol-name mykey; vol-path mykey; vol-pool /np/a.img",
    "vol-delete a.img np; pool-info --bytes np; vol-create-as vg lv2 1G; vol-list vg --details",
]


@pytest.mark.compat
@pytest.mark.parametrize("line", LINES)
def test_node_file_storage_as_virsh(line: str, tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    argv = ["-c", f"test://{node}", line]
    expected = run_virsh(argv)
    assert run_qvirt(argv) == expected
    assert expected.status == 0
