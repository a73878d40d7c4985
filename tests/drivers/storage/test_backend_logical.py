"""Logical pools. This kernel has no device-mapper, so the LVM tools run for real where they
can (pvcreate, vgcreate, vgs, pvs, vgchange, vgremove, pvremove on a loop device, with libvirt
9.0 as the oracle for find-storage-pool-sources) and the rest is replayed: each test asserts the
exact argv libvirt runs and answers with what the tools printed (tests/data/storage/
logical.json, captured by capture_logical.py; see README there)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.conf.storage_vol import StorageVol
from qvirt.conf.storage_vol import apply_defaults as vol_defaults
from qvirt.drivers.storage.backend import backend_class
from qvirt.drivers.storage.backend_logical import LogicalBackend
from qvirt.drivers.storage.runner import HostRunner
from qvirt.errors import ErrorNumber, QvirtError
from tests.support.oracle import ensure_libvirtd
from tests.support.recorded import RecordedRunner, Step, load, replay, said

VG = "qvirtvg"
MiB = 1024 * 1024
LVS = ("/sbin/lvs", "--separator", "#", "--noheadings", "--units", "b", "--unbuffered",
       "--nosuffix", "--options",
       "lv_name,origin,uuid,devices,segtype,stripes,seg_size,vg_extent_size,size,lv_attr", VG)


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    data: dict[str, Any] = load("logical")["outputs"]
    return data


@pytest.fixture
def device(tmp_path: Path) -> str:
    """The pool's physical volume: a plain file stands in for the disk, which the backend
    blanks (its first and last MiB) before pvcreate, as libvirt does."""
    path = tmp_path / "pv.img"
    with open(path, "wb") as f:
        f.truncate(128 * MiB)
    return str(path)


@pytest.fixture
def nodes() -> Iterator[Path]:
    """/dev/qvirtvg as udev would fill it for active volumes (files of the volumes' sizes)."""
    root = Path("/dev") / VG
    root.mkdir(exist_ok=True)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def make_node(root: Path, name: str, size: int) -> None:
    with open(root / name, "wb") as f:
        f.truncate(size)


def pool_doc(*devices: str, name: str = VG) -> StoragePool:
    devs = "".join(f"<device path='{d}'/>" for d in devices)
    pool = StoragePool.from_xml(f"<pool type='logical'><name>{name}</name>"
                                f"<source>{devs}</source></pool>")
    apply_defaults(pool)
    return pool


def vol_doc(name: str, capacity: int, allocation: int | None = None,
            backing: str | None = None) -> StorageVol:
    alloc = f"<allocation>{allocation}</allocation>" if allocation is not None else ""
    back = f"<backingStore><path>{backing}</path></backingStore>" if backing else ""
    vol = StorageVol.from_xml(f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
                              f"{alloc}{back}</volume>")
    vol_defaults(vol, "logical")
    return vol


def active(capture: dict[str, Any]) -> dict[str, Any]:
    """lvs' rows as a kernel with device-mapper prints them: state "a" where this one can
    only say "X" (unknown)."""
    return {**capture, "stdout": capture["stdout"].replace("-wi-XX----", "-wi-a-----")}


def test_table_entry_names_the_logical_backend() -> None:
    assert backend_class("logical").__name__ == LogicalBackend.__name__


def test_build_blanks_creates_the_pv_then_the_group(outputs: dict[str, Any],
                                                    device: str) -> None:
    with open(device, "r+b") as f:
        f.write(b"\xff" * 4096)
    runner = RecordedRunner([replay(outputs[k], DEVICE=device)
                             for k in ("blkid_empty", "pvcreate", "vgcreate")])
    LogicalBackend(runner).build_pool(pool_doc(device), 0)
    runner.assert_done()
    assert Path(device).read_bytes()[:4096] == bytes(4096)


def test_build_refuses_a_device_that_is_already_a_pv(outputs: dict[str, Any],
                                                     device: str) -> None:
    runner = RecordedRunner([replay(outputs["blkid_pv"], DEVICE=device)])
    with pytest.raises(QvirtError) as built:
        LogicalBackend(runner).build_pool(pool_doc(device), 0)
    assert built.value.code == ErrorNumber.STORAGE_POOL_BUILT
    assert built.value.message == (f"Storage pool already built: Device '{device}' already "
                                   "formatted using 'LVM2_member'")
    runner.assert_done()


def test_failed_vgcreate_takes_the_pv_back(outputs: dict[str, Any], device: str) -> None:
    runner = RecordedRunner([
        replay(outputs["pvcreate"], DEVICE=device),
        replay(outputs["vgcreate_again"], DEVICE=device),
        replay(outputs["pvremove"], DEVICE=device),
    ])
    with pytest.raises(QvirtError) as exists:
        LogicalBackend(runner).build_pool(pool_doc(device), 8)
    assert said(exists.value.message) == (
        f"internal error: Child process (/sbin/vgcreate {VG} {device}) unexpected exit "
        f"status 5: A volume group called {VG} already exists.")
    runner.assert_done()


def test_build_flags(device: str) -> None:
    with pytest.raises(QvirtError) as both:
        LogicalBackend(RecordedRunner([])).build_pool(pool_doc(device), 4 | 8)
    assert both.value.code == ErrorNumber.INVALID_ARG


def test_start_matches_the_group_and_its_devices(outputs: dict[str, Any]) -> None:
    dev = "/dev/loop0"
    scan = [replay(outputs["vgscan"]), replay(outputs["pvs"], DEVICE=dev)]
    runner = RecordedRunner([*scan, replay(outputs["vgchange_on"])])
    LogicalBackend(runner).start_pool(pool_doc(dev))
    runner.assert_done()

    runner = RecordedRunner(list(scan))
    with pytest.raises(QvirtError) as other:
        LogicalBackend(runner).start_pool(pool_doc(dev, name="othervg"))
    assert other.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert other.value.message == ("unsupported configuration: cannot find logical volume "
                                   "group name 'othervg'")
    runner = RecordedRunner(list(scan))
    with pytest.raises(QvirtError) as nodev:
        LogicalBackend(runner).start_pool(pool_doc("/dev/loop7"))
    assert nodev.value.message == ("unsupported configuration: cannot find any matching "
                                   f"source devices for logical volume group '{VG}'")


def test_refresh_reads_lvs_and_vgs(outputs: dict[str, Any], nodes: Path) -> None:
    dev = "/dev/loop0"
    make_node(nodes, "lv1", 8 * MiB)
    make_node(nodes, "lv2", 12 * MiB)
    runner = RecordedRunner([replay(active(outputs["lvs"]), DEVICE=dev),
                             replay(outputs["vgs"])])
    state = LogicalBackend(runner).refresh_pool(pool_doc(dev))
    runner.assert_done()
    assert (state.capacity, state.allocation, state.available) == (130023424, 20971520,
                                                                    109051904)
    lv1, lv2 = state.volumes
    assert (lv1.name, lv1.key, lv1.type) == ("lv1", "Q1vb1a-aaaa-bbbb-cccc-dddd-eeee-ffff01",
                                             "block")
    assert lv1.target is not None and lv1.target.path == f"/dev/{VG}/lv1"
    assert (lv1.capacity, lv1.allocation) == (8 * MiB, 8 * MiB)
    assert (lv2.capacity, lv2.allocation) == (12 * MiB, 12 * MiB)
    assert [(d.path, [(e.start, e.end) for e in d.extents]) for d in lv2.extents] == [
        (dev, [(5 * 4 * MiB, 5 * 4 * MiB + 4 * MiB), (10 * 4 * MiB, 10 * 4 * MiB + 8 * MiB)])]
    assert lv1.target.permissions is not None
    assert lv1.target.permissions.mode == os.stat(nodes / "lv1").st_mode & 0o7777


def test_refresh_skips_volumes_that_are_not_active(outputs: dict[str, Any]) -> None:
    """As captured here: without device-mapper lvs cannot call them active."""
    runner = RecordedRunner([replay(outputs["lvs"], DEVICE="/dev/loop0"),
                             replay(outputs["vgs"])])
    assert LogicalBackend(runner).refresh_pool(pool_doc("/dev/loop0")).volumes == []


def test_create_vol_runs_libvirts_lvcreate(outputs: dict[str, Any], nodes: Path) -> None:
    lv3 = outputs["lvs"]["stdout"].splitlines()[0].replace("lv1", "lv3").replace(
        "ffff01", "ffff03")
    created = Step(("/sbin/lvcreate", "--name", "lv3", "-L", "8192K", VG, "--yes"),
                   '  Logical volume "lv3" created.\n',
                   effect=lambda: make_node(nodes, "lv3", 8 * MiB))
    runner = RecordedRunner([created, replay(active({**outputs["lvs"], "stdout": lv3}),
                                             DEVICE="/dev/loop0")])
    vol = vol_doc("lv3", 8 * MiB)
    LogicalBackend(runner).create_vol(pool_doc("/dev/loop0"), vol)
    runner.assert_done()
    assert vol.key == "Q1vb1a-aaaa-bbbb-cccc-dddd-eeee-ffff03"
    assert vol.target is not None and vol.target.path == f"/dev/{VG}/lv3"
    assert os.stat(nodes / "lv3").st_mode & 0o777 == 0o600


def test_sparse_and_backed_volumes_are_snapshots(nodes: Path) -> None:
    def created(argv: tuple[str, ...], name: str) -> list[Step]:
        return [Step(argv, effect=lambda: make_node(nodes, name, MiB)), Step(LVS)]

    runner = RecordedRunner([
        *created(("/sbin/lvcreate", "--name", "sp", "-L", "1K", "--type", "snapshot",
                  "--virtualsize", "65536K", VG, "--yes"), "sp"),
        *created(("/sbin/lvcreate", "--name", "sn", "-L", "4096K", "-s", f"/dev/{VG}/lv1",
                  "--yes"), "sn"),
    ])
    backend = LogicalBackend(runner)
    backend.create_vol(pool_doc("/dev/loop0"), vol_doc("sp", 64 * MiB, 0))
    backend.create_vol(pool_doc("/dev/loop0"), vol_doc("sn", 4 * MiB, backing=f"/dev/{VG}/lv1"))
    runner.assert_done()


def test_failed_lvcreate_is_libvirts_error(outputs: dict[str, Any]) -> None:
    runner = RecordedRunner([replay(outputs["lvcreate_nodm"])])
    with pytest.raises(QvirtError) as nodm:
        LogicalBackend(runner).create_vol(pool_doc("/dev/loop0"), vol_doc("lv1", 8 * MiB))
    assert (f"internal error: Child process (/sbin/lvcreate --name lv1 -L 8192K {VG} --yes) "
            "unexpected exit status 3: /dev/mapper/control: open failed: No such device"
            ) in nodm.value.message


def test_delete_vol_deactivates_when_lvremove_fails(outputs: dict[str, Any]) -> None:
    vol = vol_doc("nosuch", MiB)
    assert vol.target is not None
    vol.target.path = f"/dev/{VG}/nosuch"
    failed = replay(outputs["lvremove_missing"])
    runner = RecordedRunner([failed, Step(("/sbin/lvchange", "-aln", f"/dev/{VG}/nosuch")),
                             dataclasses.replace(failed, status=0, stderr="")])
    LogicalBackend(runner).delete_vol(pool_doc("/dev/loop0"), vol, 0)
    runner.assert_done()


def test_stop_and_delete_pool(outputs: dict[str, Any]) -> None:
    dev = "/dev/loop0"
    runner = RecordedRunner([replay(outputs["vgchange_off"]), replay(outputs["vgremove"]),
                             replay(outputs["pvremove"], DEVICE=dev)])
    backend = LogicalBackend(runner)
    backend.stop_pool(pool_doc(dev))
    backend.delete_pool(pool_doc(dev), 0)
    runner.assert_done()


@contextlib.contextmanager
def loop_device(image: str, vg: str) -> Iterator[str]:
    """A loop device over ``image``; whatever group ``vg`` is left on it goes with it."""
    dev = subprocess.run(["losetup", "-f", "--show", image], check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["/sbin/vgremove", "-f", vg], capture_output=True, check=False)
        subprocess.run(["/sbin/pvremove", dev], capture_output=True, check=False)
        subprocess.run(["losetup", "-d", dev], check=False)


@pytest.fixture
def loop(device: str) -> Iterator[str]:
    with loop_device(device, "qvirtvgreal") as dev:
        yield dev


def oracle_pool_sizes(image: str) -> tuple[int, int, int]:
    """The same pool built and started by libvirtd 9.0 on a device of the same size: its
    capacity, allocation and available."""
    virsh = ["virsh", "-q", "-c", "qemu:///system"]
    name = f"qvirtoracle{os.getpid()}"
    with loop_device(image, name) as dev:
        xml = (f"<pool type='logical'><name>{name}</name><source><device path='{dev}'/>"
               "</source></pool>")
        subprocess.run([*virsh, "pool-define", "/dev/stdin"], input=xml, text=True,
                       check=True, capture_output=True)
        try:
            subprocess.run([*virsh, "pool-build", name], check=True, capture_output=True)
            subprocess.run([*virsh, "pool-start", name], check=True, capture_output=True)
            dumped = subprocess.run([*virsh, "pool-dumpxml", name], check=True,
                                    capture_output=True, text=True).stdout
        finally:
            subprocess.run([*virsh, "pool-destroy", name], capture_output=True, check=False)
            subprocess.run([*virsh, "pool-delete", name], capture_output=True, check=False)
            subprocess.run([*virsh, "pool-undefine", name], capture_output=True, check=False)
    sizes = [int(re.search(rf"<{tag} unit='bytes'>(\d+)<", dumped).group(1))  # type: ignore[union-attr]
             for tag in ("capacity", "allocation", "available")]
    return sizes[0], sizes[1], sizes[2]


def test_real_group_built_started_and_refreshed_as_libvirt_does(loop: str,
                                                               tmp_path: Path) -> None:
    """Every step that needs no device-mapper, with the real tools, against libvirtd 9.0 on
    a twin device."""
    backend = LogicalBackend(HostRunner())
    pool = pool_doc(loop, name="qvirtvgreal")
    backend.build_pool(pool, 0)
    assert not backend.check_pool(pool)  # no /dev/qvirtvgreal without device-mapper
    backend.start_pool(pool)
    state = backend.refresh_pool(pool)
    assert state.volumes == []
    twin = tmp_path / "twin.img"
    with open(twin, "wb") as f:
        f.truncate(128 * MiB)
    ensure_libvirtd()
    assert (state.capacity, state.allocation, state.available) == oracle_pool_sizes(str(twin))
    backend.stop_pool(pool)
    backend.delete_pool(pool, 0)


def test_real_group_found_as_libvirt_finds_it(loop: str) -> None:
    """Build, find-storage-pool-sources and delete with the real tools; libvirtd 9.0 lists
    the same sources."""
    backend = LogicalBackend(HostRunner())
    pool = pool_doc(loop, name="qvirtvgreal")
    backend.build_pool(pool, 0)
    found = backend.find_pool_sources(None, 0)
    assert (f"  <source>\n    <device path='{loop}'/>\n    <name>qvirtvgreal</name>\n"
            "    <format type='lvm2'/>\n  </source>\n") in found
    ensure_libvirtd()
    oracle = subprocess.run(["virsh", "-q", "-c", "qemu:///system",
                             "find-storage-pool-sources", "logical"],
                            capture_output=True, text=True, check=True).stdout
    assert oracle.strip() == found.strip()
    backend.delete_pool(pool, 0)
    assert "qvirtvgreal" not in backend.find_pool_sources(None, 0)
