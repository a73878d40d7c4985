"""iSCSI-direct pools through the public API and the `qvirt` command on qemu:///embed, for
real against tgtd on 127.0.0.1 (libiscsi's tools log in; no kernel initiator). libvirtd 9.0
here is built without this backend (pool-capabilities: supported='no'), so the expected
values are storage_backend_iscsi_direct.c's: one volume per LUN named unit:0:0:N, its key
and path the by-path name, the pool's sizes the sum of the LUNs'."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import qvirt
from qvirt.errors import ErrorNumber, QvirtError
from tests.support.iscsi_target import Target, tgtd

QVIRT = str(Path(sys.executable).parent / "qvirt")
IQN = "iqn.2026-11.org.qvirt:driver-direct"
INITIATOR = "iqn.2026-11.org.qvirt:driver-initiator"
MiB = 1024 * 1024
SIZE = 16 * MiB - 512      # libvirt: block length times the last LBA, one block short


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with tgtd(tmp_path_factory.mktemp("tgtd"), IQN, 16 * MiB) as t:
        yield t


def pool_xml(target: Target, name: str = "direct") -> str:
    return (f"<pool type='iscsi-direct'><name>{name}</name><source><host name='127.0.0.1' "
            f"port='{target.port}'/><device path='{IQN}'/><initiator><iqn name='{INITIATOR}'/>"
            "</initiator></source></pool>")


def test_pool_lists_the_lun(target: Target, tmp_path: Path) -> None:
    conn = qvirt.open(f"qemu:///embed?root={tmp_path}")
    try:
        pool = conn.storagePoolCreateXML(pool_xml(target), 0)
        assert pool.info() == [2, SIZE, SIZE, 0]
        assert sorted(pool.listVolumes()) == ["unit:0:0:0", "unit:0:0:1"]
        vol = pool.storageVolLookupByName("unit:0:0:1")
        key = f"ip-127.0.0.1:{target.port}-iscsi-{IQN}-lun-1"
        assert vol.key() == vol.path() == key
        assert vol.info() == [3, SIZE, SIZE]        # VIR_STORAGE_VOL_NETWORK
        assert conn.storageVolLookupByPath(key).name() == "unit:0:0:1"
        with pytest.raises(QvirtError) as nodelete:
            vol.delete(0)
        assert (nodelete.value.code, nodelete.value.message) == (
            ErrorNumber.NO_SUPPORT, "this function is not supported by the connection driver: "
            "storage pool does not support vol deletion")
        with pytest.raises(QvirtError) as nocreate:
            pool.createXML("<volume><name>x</name><capacity>1024</capacity></volume>", 0)
        assert nocreate.value.message == ("this function is not supported by the connection "
                                          "driver: storage pool does not support volume "
                                          "creation")
        pool.refresh(0)
        assert pool.info() == [2, SIZE, SIZE, 0]
        pool.destroy()
        assert conn.listAllStoragePools(0)[0].name() == "default"
    finally:
        conn.close()


def test_cli_lists_the_lun_and_finds_the_target(target: Target, tmp_path: Path) -> None:
    where = f"127.0.0.1:{target.port}"
    xml = tmp_path / "pool.xml"
    xml.write_text(pool_xml(target))      # pool-create-as has no port option
    line = (f"pool-create {xml}; "
            "vol-list direct --details; pool-info direct; "
            f"find-storage-pool-sources-as iscsi-direct 127.0.0.1 {target.port} "
            f"--initiator {INITIATOR}; pool-destroy direct")
    out = subprocess.run([QVIRT, "-c", f"qemu:///embed?root={tmp_path / 'root'}", line],
                         capture_output=True, text=True, check=False)
    assert (out.returncode, out.stderr) == (0, ""), out.stderr
    key = f"ip-{where}-iscsi-{IQN}-lun-1"
    width = len(key)
    assert out.stdout.startswith(
        f"Pool direct created from {xml}\n\n"
        f" Name         {'Path':<{width}}   Type      Capacity    Allocation\n")
    assert f" unit:0:0:1   {key}   network   16.00 MiB   16.00 MiB\n" in out.stdout
    assert "Capacity:       16.00 MiB\nAllocation:     16.00 MiB\nAvailable:      0.00 B\n" \
        in out.stdout
    assert (f"<sources>\n  <source>\n    <host name='127.0.0.1' port='{target.port}'/>\n"
            f"    <device path='{IQN}'/>\n") in out.stdout
    assert out.stdout.endswith("Pool direct destroyed\n\n")


def test_wipe_restart_and_streams(target: Target, tmp_path: Path) -> None:
    """A zero wipe writes every block of the LUN (libvirt's through libiscsi, qvirt's
    through QEMU's initiator), other algorithms are refused; the pool found running after a
    restart runs on (libvirt's check answers with the pool's own state); uploads and
    downloads are refused, the backend having none."""
    uri = f"qemu:///embed?root={tmp_path}"
    conn = qvirt.open(uri)
    try:
        pool = conn.storagePoolDefineXML(pool_xml(target, "kept"), 0)
        pool.create(0)
    finally:
        conn.close()
    target.lun_file.write_bytes(b"\xa5" * 16 * MiB)
    conn = qvirt.open(uri)
    try:
        pool = conn.storagePoolLookupByName("kept")
        assert pool.isActive() == 1
        vol = pool.storageVolLookupByName("unit:0:0:1")
        with pytest.raises(QvirtError) as random:
            vol.wipePattern(qvirt.VIR_STORAGE_VOL_WIPE_ALG_RANDOM, 0)
        assert (random.value.code, random.value.message) == (
            ErrorNumber.INVALID_ARG, "invalid argument: unsupported algorithm 8")
        vol.wipe(0)
        assert target.lun_file.read_bytes() == bytes(16 * MiB)
        for call, what in ((vol.upload, "upload"), (vol.download, "download")):
            with pytest.raises(QvirtError) as nostream:
                call(conn.newStream(0), 0, 0, 0)
            assert nostream.value.message == ("this function is not supported by the "
                                              f"connection driver: storage pool doesn't "
                                              f"support volume {what}")
        pool.destroy()
        pool.undefine()
    finally:
        conn.close()
