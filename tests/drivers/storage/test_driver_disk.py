"""Disk pools end to end, through the public API and the `qvirt` command on qemu:///embed, on
a real loop-backed image (losetup -P: partitions appear as /dev/loopNpM). The same virsh
session runs against libvirtd 9.0 on a loop device of its own, and qvirt's command prints
what virsh printed there, the loop device's name aside."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import qvirt
from tests.support.oracle import URI, ensure_libvirtd

QVIRT = str(Path(sys.executable).parent / "qvirt")
MiB = 1024 * 1024


def _attach(image: Path) -> str:
    with open(image, "wb") as f:
        f.truncate(64 * MiB)
    return subprocess.run(["losetup", "-fP", "--show", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[str]:
    dev = _attach(tmp_path / "disk.img")
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


@pytest.fixture
def oracle_loop(tmp_path: Path) -> Iterator[str]:
    dev = _attach(tmp_path / "oracle.img")
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def session(pool: str, dev: str) -> str:
    """virsh's commands for one disk pool's life: build, six partitions (a primary, the
    extended one, a swap and a plain primary, two logical ones), the views (the pool's and
    the volumes' documents too), a refused second extended partition, the extended one's
    wipe, a clone into a new logical one, a refresh, and the pool taken down and wiped."""
    n = os.path.basename(dev)
    creates = [f"vol-create-as {pool} {n}p1 8M",
               f"vol-create-as {pool} {n}p2 20M --format extended",
               f"vol-create-as {pool} {n}p3 4M --format linux-swap",
               f"vol-create-as {pool} {n}p4 4M",
               f"vol-create-as {pool} {n}p5 4M",
               f"vol-create-as {pool} {n}p6 3M --format linux-lvm"]
    views = [f"pool-info {pool}", f"vol-list {pool}", f"vol-list {pool} --details",
             f"vol-info {n}p5 --pool {pool}", f"vol-info {n}p2 --pool {pool}",
             f"vol-info {n}p6 --pool {pool} --physical", f"vol-path {n}p6 --pool {pool}",
             f"vol-key {dev}p1", f"vol-dumpxml {n}p2 --pool {pool}",
             f"vol-dumpxml {n}p5 --pool {pool}", f"pool-dumpxml {pool}"]
    return "; ".join([f"pool-define-as {pool} disk --source-dev {dev} --target /dev",
                      f"pool-build {pool}", f"pool-start {pool}", *creates, *views,
                      f"vol-create-as {pool} {n}p7 1M --format extended",
                      f"vol-create-as {pool} {n}p7 1G",
                      f"vol-wipe {n}p2 --pool {pool}",
                      f"vol-clone {n}p6 {n}p7 --pool {pool}",
                      f"pool-refresh {pool}", *views,
                      f"pool-destroy {pool}", f"pool-delete {pool}",
                      f"pool-undefine {pool}"])


def normalized(text: str, dev: str) -> str:
    """The output with the device's name, the pool's uuid and the nodes' times left out."""
    text = re.sub(rf"\b{os.path.basename(dev)}(?=p\d|\b)", "LOOP", text)
    text = re.sub(r"(?m)^ *<([amc]time|uuid)>.*\n", "", text)
    return re.sub(r"(?m)^UUID: .*$", "UUID:", text)


def test_disk_pool_session_prints_what_libvirtd_prints(loop: str, oracle_loop: str,
                                                       tmp_path: Path) -> None:
    pool = f"qvirt-disk-{uuidlib.uuid4().hex[:8]}"
    ensure_libvirtd()
    try:
        theirs = subprocess.run(["virsh", "-c", URI, session(pool, oracle_loop)],
                                capture_output=True, text=True, check=False)
    finally:
        subprocess.run(["virsh", "-c", URI, f"pool-destroy {pool}; pool-undefine {pool}"],
                       capture_output=True, check=False)
    ours = subprocess.run([QVIRT, "-c", f"qemu:///embed?root={tmp_path / 'root'}",
                           session(pool, loop)], capture_output=True, text=True, check=False)
    assert "LOOPp6" in normalized(theirs.stdout, oracle_loop)
    assert "<freeExtent start=" in theirs.stdout
    assert normalized(ours.stdout, loop) == normalized(theirs.stdout, oracle_loop)
    assert normalized(ours.stderr, loop) == normalized(theirs.stderr, oracle_loop)
    assert ours.returncode == theirs.returncode
    # pool-delete zeroed the label, as libvirt's disk backend does
    probe = subprocess.run(["blkid", "-p", "-o", "export", loop], capture_output=True,
                           text=True, check=False)
    assert "PTTYPE" not in probe.stdout


def _vol_xml(name: str, size: int, fmt: str | None = None) -> str:
    target = f"<target><format type='{fmt}'/></target>" if fmt else ""
    return f"<volume><name>{name}</name><capacity>{size}</capacity>{target}</volume>"


def test_disk_pool_through_the_api(loop: str, tmp_path: Path) -> None:
    """Partitions made through the API are the host's nodes; a deleted logical partition
    renumbers the ones after it (the whole table is read again, as libvirt does); a new
    driver on the same root finds the running pool again (the disk backend's check)."""
    n = os.path.basename(loop)
    uri = f"qemu:///embed?root={tmp_path / 'root'}"
    conn = qvirt.open(uri)
    try:
        pool = conn.storagePoolDefineXML(
            f"<pool type='disk'><name>d</name><source><device path='{loop}'/></source>"
            "<target><path>/dev</path></target></pool>")
        pool.build(0)
        pool.create(0)
        assert pool.info()[1:] == [67107840, 0, 67106816]
        for number, size, fmt in ((1, 8, None), (2, 20, "extended"), (3, 4, None),
                                  (4, 4, None), (5, 4, None), (6, 3, None)):
            vol = pool.createXML(_vol_xml(f"{n}p{number}", size * MiB, fmt), 0)
            assert vol.path() == vol.key() == f"{loop}p{number}"
            assert Path(vol.path()).is_block_device()
        sizes = pool.info()
        assert sizes[1] == 67107840
        assert sizes[2] + sizes[3] <= sizes[1]
        pattern = bytes(range(256)) * 4096
        with open(f"{loop}p1", "r+b") as part:
            part.write(pattern)
        clone = pool.createXMLFrom(_vol_xml(f"{n}p7", MiB), pool.storageVolLookupByName(
            f"{n}p1"), 0)
        with open(clone.path(), "rb") as part:
            assert part.read(len(pattern) + 1) == pattern + b"\0"
        assert clone.info()[1] >= pool.storageVolLookupByName(f"{n}p1").info()[1]
        clone.delete(0)
        six = pool.storageVolLookupByName(f"{n}p6").info()
        pool.storageVolLookupByName(f"{n}p5").delete(0)
        assert sorted(pool.listVolumes()) == [f"{n}p{i}" for i in range(1, 6)]
        assert pool.storageVolLookupByName(f"{n}p5").info() == six
        after = pool.info()
        pool.refresh(0)
        assert pool.info() == after
    finally:
        conn.close()
    again = qvirt.open(uri)
    try:
        pool = again.storagePoolLookupByName("d")
        assert pool.isActive() == 1
        assert sorted(pool.listVolumes()) == [f"{n}p{i}" for i in range(1, 6)]
        pool.destroy()
        pool.delete(0)
        pool.undefine()
    finally:
        again.close()
