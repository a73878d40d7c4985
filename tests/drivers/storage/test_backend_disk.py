"""Disk pools on a real loop-backed image (losetup -P, so partitions appear as /dev/loopNpM):
the partition table libvirt 9.0 made for the same requests on the same 64 MiB image is the
expected one, and libvirt's own libvirt_parthelper (installed with the oracle) reads every
table qvirt's refresh reads, region for region."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.conf.storage_vol import StorageVol
from qvirt.conf.storage_vol import apply_defaults as vol_defaults
from qvirt.drivers.storage.backend import backend_class
from qvirt.drivers.storage.backend_disk import DiskBackend, partition_path
from qvirt.drivers.storage.runner import HostRunner, Result
from qvirt.errors import ErrorNumber, QvirtError
from tests.support.recorded import RecordedRunner, Step

PARTHELPER = "/usr/lib/libvirt/libvirt_parthelper"
MiB = 1024 * 1024


class Recording(HostRunner):
    """The host's tools, with the argv of each run kept for the test to read."""

    def __init__(self) -> None:
        self.ran: list[list[str]] = []

    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result:
        self.ran.append(list(argv))
        return super().run(argv, input=input, check=check)


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[str]:
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(64 * MiB)
    dev = subprocess.run(["losetup", "-fP", "--show", str(image)], check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def pool_doc(dev: str, fmt: str | None = None) -> StoragePool:
    fmt_xml = f"<format type='{fmt}'/>" if fmt else ""
    pool = StoragePool.from_xml(
        f"<pool type='disk'><name>d</name><source><device path='{dev}'/>{fmt_xml}</source>"
        "<target><path>/dev</path></target></pool>")
    apply_defaults(pool)
    return pool


def vol_doc(name: str, size: int, fmt: str | None = None) -> StorageVol:
    fmt_xml = f"<target><format type='{fmt}'/></target>" if fmt else ""
    vol = StorageVol.from_xml(f"<volume><name>{name}</name><capacity>{size}</capacity>"
                              f"{fmt_xml}</volume>")
    vol_defaults(vol, "disk")
    return vol


def parthelper(dev: str) -> list[tuple[str, str, str, int, int]]:
    """libvirt's own reading of the table, less the rows libvirt ignores."""
    out = subprocess.run([PARTHELPER, dev], check=True, capture_output=True).stdout
    fields = out.decode().split("\0")[:-1]
    rows = [fields[i:i + 6] for i in range(0, len(fields), 6)]
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows
            if not (r[1] in ("normal", "logical") and r[2] == "metadata")]


def qvirt_regions(backend: DiskBackend, pool: StoragePool) -> list[tuple[str, str, str, int,
                                                                         int]]:
    return [(r.path or "-", r.kind, r.content, r.start, r.end)
            for r in backend.read_table(pool).regions]


def extents(vol: StorageVol) -> tuple[int, int]:
    assert vol.extents and vol.extents[0].extents
    extent = vol.extents[0].extents[0]
    return int(extent.start), int(extent.end)


def code_of(excinfo: pytest.ExceptionInfo[QvirtError]) -> int:
    return excinfo.value.code


def test_table_entry_names_the_disk_backend() -> None:
    assert backend_class("disk").__name__ == DiskBackend.__name__


def test_partition_names_follow_parthelper() -> None:
    assert partition_path("/dev/sda", 1, None) == "/dev/sda1"
    assert partition_path("/dev/loop0", 2, None) == "/dev/loop0p2"
    assert partition_path("/dev/nvme0n1", 3, None) == "/dev/nvme0n1p3"
    assert partition_path("/dev/mapper/mpatha", 1, True) == "/dev/mapper/mpathap1"
    assert partition_path("/dev/mapper/mpatha", 1, None) == "/dev/mapper/mpatha1"


def test_msdos_pool_as_libvirt_lays_it_out(loop: str) -> None:
    runner = Recording()
    backend = DiskBackend(runner)
    pool = pool_doc(loop)
    name = os.path.basename(loop)

    with pytest.raises(QvirtError) as unbuilt:
        backend.start_pool(pool)
    assert code_of(unbuilt) == ErrorNumber.STORAGE_PROBE_FAILED
    assert unbuilt.value.message == (f"Storage pool probe failed: Device '{loop}' is "
                                     "unrecognized, requires build")

    backend.build_pool(pool, 0)
    assert runner.ran[-1] == ["parted", loop, "mklabel", "--script", "msdos"]
    assert pool.source is not None and pool.source.format == "dos"
    with pytest.raises(QvirtError) as built:
        backend.build_pool(pool, 0)
    assert code_of(built) == ErrorNumber.STORAGE_POOL_BUILT
    assert built.value.message == (f"Storage pool already built: Device '{loop}' already "
                                   "formatted using 'dos'")
    backend.start_pool(pool)

    state = backend.refresh_pool(pool)
    assert (state.capacity, state.allocation, state.available) == (67107840, 0, 67106816)
    assert state.volumes == []
    pool.capacity, pool.allocation, pool.available = 67107840, 0, 67106816
    free = pool.source.devices[0].free_extents
    assert [(e.start, e.end) for e in free] == [(1024, 67107840)]

    # The requests libvirt 9.0 answered with the table asserted below (virsh vol-create-as
    # on a disk pool over a 64 MiB loop device).
    for number, size, fmt in ((1, 8 * MiB, None), (2, 20 * MiB, "extended"),
                              (3, 4 * MiB, "linux-swap"), (4, 4 * MiB, None),
                              (5, 4 * MiB, None), (6, 3 * MiB, "linux-lvm")):
        vol = vol_doc(f"{name}p{number}", size, fmt)
        backend.create_vol(pool, vol)
        assert vol.target is not None
        assert vol.key == vol.target.path == f"{loop}p{number}"
    # The pool's sizes as libvirtd showed them after these creates (before any refresh).
    assert (pool.capacity, pool.allocation, pool.available) == (67107840, 25325568, 41779200)
    mkparts = [argv for argv in runner.ran if "mkpart" in argv]
    assert mkparts[0] == ["parted", loop, "mkpart", "--script", "primary ext2", "1024B",
                          "8616959B"]
    assert mkparts[1][4] == "extended"
    assert mkparts[2][4] == "primary linux-swap"
    assert mkparts[4][4] == "logical ext2"

    state = backend.refresh_pool(pool)
    vols = {v.name: v for v in state.volumes}
    assert {n: extents(v) for n, v in vols.items()} == {
        f"{name}p1": (1024, 8616960),
        f"{name}p2": (8616960, 29767680),
        f"{name}p5": (8618496, 13056000),
        f"{name}p6": (13056512, 16450560),
        f"{name}p3": (29767680, 34206720),
        f"{name}p4": (34206720, 38645760),
    }
    assert [(v.capacity, v.allocation) for v in (vols[f"{name}p1"], vols[f"{name}p2"],
                                                vols[f"{name}p5"])] == [
        (8615936, 8615936), (21150720, 7831552), (4437504, 4437504)]
    assert vols[f"{name}p2"].physical in (512, 1024)  # the kernel's extended node
    assert all(v.type == "block" and v.target is not None and v.target.format == "none"
               for v in vols.values())
    assert (state.capacity, state.allocation, state.available) == (67107840, 25325568,
                                                                    41779200)
    assert [(e.start, e.end) for e in pool.source.devices[0].free_extents] == [
        (16450560, 29767680), (38645760, 67107840)]
    assert qvirt_regions(backend, pool) == parthelper(loop)

    with pytest.raises(QvirtError) as again:
        backend.create_vol(pool, vol_doc(f"{name}p7", MiB, "extended"))
    assert again.value.message == "internal error: extended partition already exists"
    with pytest.raises(QvirtError) as big:
        backend.create_vol(pool, vol_doc(f"{name}p7", 1024 * MiB))
    assert big.value.message == "internal error: no large enough free extent"

    backend.delete_vol(pool, vols[f"{name}p5"], 0)
    assert runner.ran[-1] == ["parted", loop, "rm", "--script", "5"]
    state = backend.refresh_pool(pool)
    assert sorted(v.name or "" for v in state.volumes) == [
        f"{name}p{n}" for n in (1, 2, 3, 4, 5)]
    assert qvirt_regions(backend, pool) == parthelper(loop)


def test_misnamed_volume_is_refused_and_its_partition_removed(loop: str) -> None:
    backend = DiskBackend(HostRunner())
    pool = pool_doc(loop, "gpt")
    backend.build_pool(pool, 0)
    backend.refresh_pool(pool)
    with pytest.raises(QvirtError) as wrong:
        backend.create_vol(pool, vol_doc("data", 4 * MiB))
    assert wrong.value.code == ErrorNumber.INVALID_ARG
    assert wrong.value.message == (f"invalid argument: invalid partition name 'data', "
                                   f"expected '{os.path.basename(loop)}p1'")
    assert backend.refresh_pool(pool).volumes == []


def test_gpt_pool_reads_as_parthelper_reads_it(loop: str) -> None:
    runner = Recording()
    backend = DiskBackend(runner)
    pool = pool_doc(loop, "gpt")
    backend.build_pool(pool, 0)
    assert runner.ran[-1] == ["parted", loop, "mklabel", "--script", "gpt"]
    name = os.path.basename(loop)
    for number in (1, 2, 3):
        vol = vol_doc(f"{name}p{number}", 5 * MiB)
        backend.create_vol(pool, vol)
        assert vol.capacity == 5 * MiB
    assert next(argv[4:] for argv in runner.ran if "mkpart" in argv) == [
        "primary", "17408B", "5260287B"]
    state = backend.refresh_pool(pool)
    assert len(state.volumes) == 3
    assert state.allocation == 15 * MiB
    assert qvirt_regions(backend, pool) == parthelper(loop)


def test_build_flags_and_probe_errors(loop: str) -> None:
    backend = DiskBackend(HostRunner())
    pool = pool_doc(loop, "gpt")
    with pytest.raises(QvirtError) as both:
        backend.build_pool(pool, 4 | 8)
    assert both.value.message == (
        "invalid argument: Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and "
        "'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive")
    backend.build_pool(pool, 4)
    dos = pool_doc(loop, "dos")
    with pytest.raises(QvirtError) as other:
        backend.build_pool(dos, 0)
    assert other.value.message == (
        f"Storage pool already built: Device '{loop}' formatted cannot overwrite using "
        "'dos', requires build --overwrite")
    with pytest.raises(QvirtError):
        backend.start_pool(dos)
    backend.build_pool(dos, 8)
    backend.start_pool(dos)
    missing = pool_doc("/dev/nonexistent-qvirt-disk", "dos")
    with pytest.raises(QvirtError) as gone:
        backend.refresh_pool(missing)
    assert gone.value.message == ("invalid argument: device path "
                                  "'/dev/nonexistent-qvirt-disk' doesn't exist")


def test_delete_refuses_a_volume_of_another_device() -> None:
    runner = RecordedRunner([])
    backend = DiskBackend(runner)
    pool = pool_doc("/dev/sdb", "dos")
    vol = vol_doc("sdc1", MiB)
    assert vol.target is not None
    vol.target.path = "/dev/sdc1"
    with pytest.raises(QvirtError) as other:
        backend.delete_vol(pool, vol, 0)
    assert other.value.message == ("internal error: Volume path 'sdc1' did not start with "
                                   "parent pool source device name.")
    runner.steps.append(Step(("parted", "/dev/sdb", "rm", "--script", "1")))
    vol.target.path = "/dev/sdb1"
    backend.delete_vol(pool, vol, 0)
    runner.assert_done()
