"""Logical pools through the storage driver, built with the recording runner (this kernel has
no device-mapper): the driver runs the backend's tools in libvirt's order for a pool's whole
life, and keeps the pool's sizes as storage_driver.c does (a new volume's allocation taken
from the free space, given back on delete, the group's own figures on refresh). The answers
are the LVM tools' real output (tests/data/storage/logical.json), under a group name of each
test's own so it never meets another test's nodes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qvirt import constants as C
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import ErrorNumber, QvirtError
from tests.support.recorded import RecordedRunner, Step, load, replay

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    data: dict[str, Any] = load("logical")["outputs"]
    return data


@pytest.fixture
def vg() -> str:
    """A group name of the test's own: tests running side by side never share nodes."""
    return f"qvirtdrv{uuid.uuid4().hex[:8]}"


@pytest.fixture
def nodes(vg: str) -> Iterator[Path]:
    """/dev/VG as udev fills it for active volumes (files of the volumes' sizes)."""
    root = Path("/dev") / vg
    root.mkdir(exist_ok=True)
    for name, size in (("lv1", 8 * MiB), ("lv2", 12 * MiB)):
        make_node(root, name, size)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def make_node(root: Path, name: str, size: int) -> None:
    with open(root / name, "wb") as f:
        f.truncate(size)


class Steps:
    """The captured answers under this test's group name and device."""

    def __init__(self, outputs: dict[str, Any], device: str, vg: str) -> None:
        self.outputs, self.device, self.vg = outputs, device, vg

    def __call__(self, key: str, active: bool = False) -> Step:
        capture = dict(self.outputs[key])
        capture["argv"] = [a.replace("qvirtvg", self.vg) for a in capture["argv"]]
        text = str(capture.get("stdout", "")).replace("qvirtvg", self.vg)
        capture["stdout"] = text.replace("-wi-XX----", "-wi-a-----") if active else text
        return replay(capture, DEVICE=self.device)


def test_logical_pool_life_through_the_driver(outputs: dict[str, Any], vg: str, nodes: Path,
                                              tmp_path: Path) -> None:
    device = str(tmp_path / "pv.img")
    with open(device, "wb") as f:
        f.truncate(128 * MiB)
    step = Steps(outputs, device, vg)
    lv3 = step("lvs", active=True)
    lv3 = Step(lv3.argv, lv3.stdout.splitlines()[0].replace("lv1", "lv3").replace(
        "ffff01", "ffff03") + "\n")
    runner = RecordedRunner([
        step("blkid_empty"), step("pvcreate"), step("vgcreate"),                  # build
        step("vgscan"), step("pvs"), step("vgchange_on"),                         # start
        step("lvs", active=True), step("vgs"),                                    # refresh
        Step(("/sbin/lvcreate", "--name", "lv3", "-L", "8192K", vg, "--yes"),
             effect=lambda: make_node(nodes, "lv3", 8 * MiB)), lv3,               # create
        Step(("/sbin/lvremove", "-f", f"/dev/{vg}/lv3")),                         # delete
        step("lvs", active=True), step("vgs"),                                    # refresh
        step("vgchange_off"),                                                     # destroy
        step("vgremove"), step("pvremove"),                                       # delete
        step("vgscan"), step("pvs"),                                              # sources
    ])
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner=runner)
    try:
        pool = storage.storage_pool_define_xml(
            f"<pool type='logical'><name>{vg}</name><source><device path='{device}'/>"
            "</source></pool>")
        storage.storage_pool_create(pool, C.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        info = storage.storage_pool_get_info(pool)
        assert (info.capacity, info.allocation, info.available) == (130023424, 20971520,
                                                                    109051904)
        assert [v.name for v in storage.storage_pool_list_all_volumes(pool)] == ["lv1", "lv2"]
        vol = storage.storage_vol_create_xml(
            pool, "<volume><name>lv3</name><capacity unit='MiB'>8</capacity></volume>")
        assert (vol.name, vol.key) == ("lv3", "Q1vb1a-aaaa-bbbb-cccc-dddd-eeee-ffff03")
        assert storage.storage_vol_get_path(vol) == f"/dev/{vg}/lv3"
        got = storage.storage_vol_get_info_flags(vol)
        assert (got.type, got.capacity, got.allocation) == (C.VIR_STORAGE_VOL_BLOCK, 8 * MiB,
                                                            8 * MiB)
        info = storage.storage_pool_get_info(pool)
        assert (info.allocation, info.available) == (20971520 + 8 * MiB, 109051904 - 8 * MiB)
        storage.storage_vol_delete(vol)
        info = storage.storage_pool_get_info(pool)
        assert (info.allocation, info.available) == (20971520, 109051904)
        with pytest.raises(QvirtError) as gone:
            storage.storage_vol_lookup_by_name(pool, "lv3")
        assert gone.value.code == ErrorNumber.NO_STORAGE_VOL
        storage.storage_pool_refresh(pool)
        storage.storage_pool_destroy(pool)
        storage.storage_pool_delete(pool)
        assert storage.connect_find_storage_pool_sources("logical", None) == (
            f"<sources>\n  <source>\n    <device path='{device}'/>\n    <name>{vg}</name>\n"
            "    <format type='lvm2'/>\n  </source>\n</sources>\n")
        runner.assert_done()
    finally:
        storage.close()


def test_a_group_gone_after_a_restart_leaves_the_pool_stopped(outputs: dict[str, Any], vg: str,
                                                              nodes: Path,
                                                              tmp_path: Path) -> None:
    """storagePoolUpdateState: the backend's check (the group's directory and pvs) decides
    whether a pool found running in the state directory still runs."""
    device = "/dev/loop0"
    step = Steps(outputs, device, vg)
    paths = StoragePaths.under(tmp_path / "root")
    first = RecordedRunner([step("vgscan"), step("pvs"), step("vgchange_on"),
                            step("lvs", active=True), step("vgs")])
    storage = LocalStorageDriver(paths, runner=first)
    pool = storage.storage_pool_create_xml(
        f"<pool type='logical'><name>{vg}</name><source><device path='{device}'/></source>"
        "</pool>")
    storage.close()
    first.assert_done()
    again = RecordedRunner([step("vgscan"), step("pvs"), step("lvs", active=True),
                            step("vgs")])
    storage = LocalStorageDriver(paths, runner=again)
    assert storage.storage_pool_is_active(pool)
    storage.close()
    again.assert_done()
    gone = RecordedRunner([step("vgscan"), step("pvs_none")])
    storage = LocalStorageDriver(paths, runner=gone)
    try:
        with pytest.raises(QvirtError) as missing:
            storage.storage_pool_lookup_by_name(vg)
        assert missing.value.code == ErrorNumber.NO_STORAGE_POOL    # transient: gone
        gone.assert_done()
    finally:
        storage.close()


def test_a_sparse_volume_is_not_wiped(outputs: dict[str, Any], vg: str, nodes: Path,
                                      tmp_path: Path) -> None:
    """virStorageBackendLogicalVolWipe refuses a sparse volume (lv_attr 's', made with
    --virtualsize): writing would fill its snapshot and leave it inactive."""
    step = Steps(outputs, "/dev/loop0", vg)
    row = step("lvs", active=True).stdout.splitlines()[0]
    sparse = row.replace("lv1##", "sp#[sp_vorigin]#").replace("ffff01", "ffff04").replace(
        "-wi-a-----", "swi-a-s---")
    runner = RecordedRunner([
        step("vgscan"), step("pvs"), step("vgchange_on"), step("lvs", active=True),
        step("vgs"),
        Step(("/sbin/lvcreate", "--name", "sp", "-L", "1K", "--type", "snapshot",
              "--virtualsize", "65536K", vg, "--yes"),
             effect=lambda: make_node(nodes, "sp", 64 * MiB)),
        Step(step("lvs").argv, sparse + "\n"),
    ])
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner=runner)
    try:
        pool = storage.storage_pool_create_xml(
            f"<pool type='logical'><name>{vg}</name><source><device path='/dev/loop0'/>"
            "</source></pool>")
        vol = storage.storage_vol_create_xml(
            pool, "<volume><name>sp</name><capacity unit='MiB'>64</capacity>"
                  "<allocation>0</allocation></volume>")
        with pytest.raises(QvirtError) as refused:
            storage.storage_vol_wipe(vol)
        assert (refused.value.code, refused.value.message) == (
            ErrorNumber.NO_SUPPORT, "this function is not supported by the connection driver: "
            f"logical volume '/dev/{vg}/sp' is sparse, volume wipe not supported")
        runner.assert_done()
    finally:
        storage.close()


def test_a_clone_is_a_new_volume_filled_from_its_source(outputs: dict[str, Any], vg: str,
                                                        nodes: Path, tmp_path: Path) -> None:
    """virStorageBackendLogicalBuildVolFrom: lvcreate at the source's size, then every byte
    of the source written over the new volume (here the nodes are plain files)."""
    step = Steps(outputs, "/dev/loop0", vg)
    row = step("lvs", active=True).stdout.splitlines()[0]
    clone_row = row.replace("lv1##", "lvc##").replace("ffff01", "ffff05")
    pattern = bytes(range(256)) * 4096
    with open(nodes / "lv1", "r+b") as f:
        f.write(pattern)
    with open(nodes / "stale", "wb") as f:          # what the new volume held before
        f.write(b"\xff" * 8 * MiB)
    runner = RecordedRunner([
        step("vgscan"), step("pvs"), step("vgchange_on"), step("lvs", active=True),
        step("vgs"),
        Step(("/sbin/lvcreate", "--name", "lvc", "-L", "8192K", vg, "--yes"),
             effect=lambda: os.replace(nodes / "stale", nodes / "lvc")),
        Step(step("lvs").argv, clone_row + "\n"),
    ])
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner=runner)
    try:
        pool = storage.storage_pool_create_xml(
            f"<pool type='logical'><name>{vg}</name><source><device path='/dev/loop0'/>"
            "</source></pool>")
        source = storage.storage_vol_lookup_by_name(pool, "lv1")
        clone = storage.storage_vol_create_xml_from(pool, "<volume><name>lvc</name></volume>",
                                                    source)
        runner.assert_done()
        data = (nodes / "lvc").read_bytes()
        assert data[:len(pattern)] == pattern
        assert data[len(pattern):] == bytes(8 * MiB - len(pattern))
        assert (nodes / "lvc").stat().st_mode & 0o777 == 0o600
        info = storage.storage_pool_get_info(pool)
        assert info.allocation == 20971520 + 8 * MiB
        assert storage.storage_vol_get_info_flags(clone).capacity == 8 * MiB
    finally:
        storage.close()
