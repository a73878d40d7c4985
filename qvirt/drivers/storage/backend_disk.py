"""Disk pools (storage_backend_disk.c): a whole block device whose partitions are the volumes.

libvirt reads the partition table with its libvirt_parthelper (libparted linked into a helper
of its own); qvirt reads the same facts from parted's machine-readable listing and applies
the two things the helper adds: msdos free space ends at the last whole cylinder (libparted
keeps the rest as metadata) and free space inside the extended partition is "logical".
Volume names, keys, paths, extents, sizes and free extents come out as libvirt shows them;
new partitions are placed and aligned with libvirt's own arithmetic, so the same request
makes the same partition table.

One deliberate difference: libvirt 9.0 deletes a partition by the text after the device's
name in the partition's name, which for /dev/loop0p2 is "p2" and parted refuses it; qvirt
drops the "p" separator its naming added, so deleting works on loop and nvme devices."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from qvirt.conf.storage_common import Permissions
from qvirt.conf.storage_pool import FreeExtent, SourceDevice, StoragePool
from qvirt.conf.storage_vol import Extent, ExtentDevice, StorageVol, Timestamps, VolumeTarget
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InternalError,
    InvalidArg,
    QvirtError,
)

SECTOR_SIZE = 512
BUILD_NO_OVERWRITE = 1 << 2
BUILD_OVERWRITE = 1 << 3

# virStoragePartedFs: the parted file system type each volume format is created with.
PARTED_FS = {
    "none": "ext2",
    "linux": "ext2",
    "fat16": "fat16",
    "fat32": "fat32",
    "linux-swap": "linux-swap",
    "linux-lvm": "ext2",
    "linux-raid": "ext2",
    "extended": "extended",
}
DISK_FORMATS = ("unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2")


def _error(code: int, detail: str) -> QvirtError:
    return QvirtError(detail, code=code, domain=ErrorDomain.STORAGE)


@dataclass
class Region:
    """One row of the partition listing, as libvirt_parthelper reports it: ``kind`` is
    normal/logical/extended, ``content`` data/metadata/free, ``end`` exclusive."""

    path: str | None
    kind: str
    content: str
    start: int
    end: int


@dataclass
class Table:
    """What one reading of the device gives: its geometry and its regions."""

    label: str
    cylinders: int
    heads: int
    sectors: int
    regions: list[Region]

    @property
    def cylinder_size(self) -> int:
        return self.heads * self.sectors * SECTOR_SIZE


def partition_path(device: str, number: int, part_separator: bool | None) -> str:
    """libvirt_parthelper's naming: a "p" between a device name ending in a digit and the
    number (loop0p1, nvme0n1p1), none after a letter (sda1) unless a device-mapper device
    asks for it with part_separator='yes'."""
    digit = device[-1:].isdigit()
    mapped = bool(part_separator) and device.startswith("/dev/mapper/")
    return f"{device}{'p' if digit or mapped else ''}{number}"


class DiskBackend:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    # -- the pool ---------------------------------------------------------------------------

    def start_pool(self, pool: StoragePool) -> None:
        path = _device(pool).path or ""
        if not os.path.exists(path):
            raise InvalidArg(f"device path '{path}' doesn't exist", domain=ErrorDomain.STORAGE)
        device_is_empty(self.runner, path, _format(pool), writelabel=False,
                        fallback=self._check_label)

    def build_pool(self, pool: StoragePool, flags: int) -> None:
        unknown = flags & ~(BUILD_NO_OVERWRITE | BUILD_OVERWRITE)
        if unknown:
            raise InvalidArg(f"unsupported flags (0x{unknown:x}) in function "
                             "virStorageBackendDiskBuildPool")
        if flags & BUILD_OVERWRITE and flags & BUILD_NO_OVERWRITE:
            raise InvalidArg("Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and "
                             "'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive")
        assert pool.source is not None
        path = _device(pool).path or ""
        if not flags & BUILD_OVERWRITE:
            device_is_empty(self.runner, path, _format(pool), writelabel=True,
                            fallback=self._check_label)
        zero_partition_table(path, 1024 * 1024)
        if _format(pool) == "unknown":
            pool.source.format = "dos"
        label = "msdos" if pool.source.format == "dos" else str(pool.source.format)
        self.runner.run(["parted", path, "mklabel", "--script", label])

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        device = _device(pool)
        path = device.path or ""
        device.free_extents = []
        if not os.path.exists(path):
            raise InvalidArg(f"device path '{path}' doesn't exist", domain=ErrorDomain.STORAGE)
        table = self.read_table(pool)
        state = PoolState()
        _take_free_extents(pool, state, table)
        extended: StorageVol | None = None
        for region in table.regions:
            if not _is_volume(region):
                continue
            vol = self._make_volume(pool, region, None)
            if region.kind == "extended":
                extended = vol
            elif region.kind == "logical" and extended is not None:
                extended.allocation = int(extended.allocation or 0) + int(vol.allocation or 0)
            if region.content != "metadata":
                state.allocation += int(vol.allocation or 0)
            state.capacity = max(state.capacity, region.end)
            state.volumes.append(vol)
        return state

    # -- volumes ----------------------------------------------------------------------------

    def create_vol(self, pool: StoragePool, vol: StorageVol) -> None:
        """parted mkpart where libvirt would put it, then the new partition read back as the
        volume: its name must be the partition's (libvirt removes the partition if not). The
        pool's sizes and free extents are updated here, as libvirt's disk backend does."""
        assert vol.target is not None
        encryption = vol.target.encryption
        if encryption is not None and encryption.format != "luks":
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         "storage pool only supports LUKS encrypted volumes")
        device = _device(pool).path or ""
        before = self.read_table(pool)
        kinds = [r.kind for r in before.regions if _is_volume(r)]
        part_format = _part_format(pool, vol, kinds)
        start, end = _boundaries(_format(pool), before, kinds, int(vol.capacity or 0))
        self.runner.run(["parted", device, "mkpart", "--script", part_format,
                         f"{start}B", f"{end}B"])
        vol.target.path = None
        after = self.read_table(pool)
        _device(pool).free_extents = []
        sizes = PoolState()
        _take_free_extents(pool, sizes, after)
        known = {r.path for r in before.regions if _is_volume(r)}
        created = next((r for r in after.regions if _is_volume(r) and r.path not in known),
                       None)
        allocation = int(pool.allocation or 0)
        if created is not None:
            try:
                self._make_volume(pool, created, vol)
            except QvirtError:
                if vol.target.path is not None:
                    with contextlib.suppress(QvirtError):
                        self.delete_vol(pool, vol, 0)
                raise
            if created.content != "metadata":
                allocation += int(vol.allocation or 0)
            sizes.capacity = max(sizes.capacity, created.end)
        # libvirt's disk backend keeps the pool's sizes itself (the driver leaves disk pools
        # out of its own accounting): the free extents read again, the new partition added.
        pool.capacity, pool.allocation, pool.available = (sizes.capacity, allocation,
                                                          sizes.available)

    def delete_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None:
        """parted rm of the partition the volume's node names. The caller refreshes the pool
        afterwards, as libvirt does (logical partitions renumber)."""
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendDiskDeleteVol")
        src_path = _device(pool).path or ""
        srcname = os.path.basename(src_path)
        target = vol.target.path if vol.target is not None else None
        if not target:
            raise InvalidArg(f"volume target path empty for source path '{src_path}'",
                             domain=ErrorDomain.STORAGE)
        dev_name = os.path.basename(os.path.realpath(target))
        if not dev_name.startswith(srcname):
            raise InternalError(f"Volume path '{dev_name}' did not start with parent pool "
                                "source device name.", domain=ErrorDomain.STORAGE)
        part_num = dev_name[len(srcname):]
        if srcname[-1:].isdigit() and part_num.startswith("p"):
            part_num = part_num[1:]
        if not part_num:
            raise InternalError(f"cannot parse partition number from target '{dev_name}'",
                                domain=ErrorDomain.STORAGE)
        self.runner.run(["parted", src_path, "rm", "--script", part_num])

    # -- reading the table ------------------------------------------------------------------

    def read_table(self, pool: StoragePool) -> Table:
        """The two readings libvirt_parthelper makes (-g, then the listing), from parted."""
        device = _device(pool)
        path = device.path or ""
        chs = self.runner.run(["parted", "-s", "-m", path, "unit", "chs", "print"]).stdout
        lines = [line.rstrip(";") for line in chs.splitlines() if line.strip()]
        try:
            cylinders, heads, sectors = (int(x) for x in lines[2].split(":")[:3])
            label = lines[1].split(":")[5]
        except (IndexError, ValueError):
            raise InternalError("Failed to create disk pool geometry",
                                domain=ErrorDomain.STORAGE) from None
        listing = self.runner.run(["parted", "-s", "-m", path, "unit", "B", "print",
                                   "free"]).stdout
        rows = [line.rstrip(";").split(":") for line in listing.splitlines()[2:]
                if line.strip()]
        cylinder_end = cylinders * heads * sectors * SECTOR_SIZE
        return Table(label, cylinders, heads, sectors,
                     _regions(path, label, rows, cylinder_end, device.part_separator))

    def _make_volume(self, pool: StoragePool, region: Region,
                     vol: StorageVol | None) -> StorageVol:
        """virStorageBackendDiskMakeDataVol: a refresh makes a new volume named after the
        partition; a create fills in the one asked for."""
        assert region.path is not None
        partname = os.path.basename(region.path)
        if vol is None:
            vol = StorageVol()
            vol.name = partname
            vol.target = VolumeTarget()
            vol.target.format = "none"
        assert vol.target is not None
        if vol.target.path is None:
            vol.target.path = self._stable_path(pool, region.path)
        if vol.name != partname:
            raise InvalidArg(f"invalid partition name '{vol.name}', expected '{partname}'",
                             domain=ErrorDomain.STORAGE)
        if vol.key is None:
            vol.key = vol.target.path
        if not vol.extents:
            extent = Extent()
            extent.start, extent.end = region.start, region.end
            holder = ExtentDevice()
            holder.path = _device(pool).path
            holder.extents = [extent]
            vol.extents = [holder]
        vol.type = "block"
        size = read_block_info(vol.target, region.kind == "extended")
        if region.kind == "extended":
            vol.allocation, vol.capacity = 0, region.end - region.start
        else:
            vol.allocation = vol.capacity = size
        vol.capacity_unit = vol.allocation_unit = "bytes"
        vol.physical, vol.physical_unit = (size, "bytes") if size else (None, None)
        return vol

    def _stable_path(self, pool: StoragePool, devpath: str) -> str:
        """virStorageBackendStablePath: a link in the pool's target directory (a /dev/disk/by-*
        directory) naming the partition, else the partition's own node."""
        target = pool.target.path if pool.target is not None else None
        if not target or target in ("/dev", "/dev/") or not target.startswith("/dev"):
            return devpath
        try:
            entries = sorted(os.scandir(target), key=lambda e: e.name)
        except OSError:
            return devpath
        for entry in entries:
            if os.path.realpath(entry.path) == os.path.realpath(devpath):
                return str(entry.path)
        return devpath

    # -- probing ----------------------------------------------------------------------------

    def _check_label(self, path: str, fmt: str, *, writelabel: bool) -> None:
        """virStorageBackendDiskValidLabel: parted's "Partition Table:" line."""
        result = self.runner.run(["parted", path, "print", "--script"], check=False)
        failed = ErrorNumber.OPERATION_FAILED
        if result.status != 0:
            if "unrecognised disk label" in result.stdout + result.stderr:
                if writelabel:
                    return
                raise _error(failed, "Unrecognized disk label found, requires build")
            raise _error(failed, "Error checking for disk label, failed to get disk "
                         "partition information")
        marker = "Partition Table: "
        at = result.stdout.find(marker)
        if at < 0 or "\n" not in result.stdout[at:]:
            raise _error(failed, "Unable to determine Partition Type, requires build "
                         "--overwrite")
        label = result.stdout[at + len(marker):].split("\n", 1)[0]
        label = "dos" if label == "msdos" else label
        if label not in DISK_FORMATS:
            raise _error(failed, "Unknown Partition Type, requires build --overwrite")
        if label != fmt:
            raise _error(failed, "Known, but different label format present, requires "
                         "build --overwrite")
        if writelabel:
            raise _error(ErrorNumber.OPERATION_INVALID,
                         f"Disk label already formatted using '{fmt}'")


def device_is_empty(runner: Runner, path: str, fmt: str, *, writelabel: bool,
                    fallback: Callable[..., None] | None = None) -> None:
    """virStorageBackendDeviceIsEmpty: blkid's low-level probe (what libvirt asks libblkid)
    decides whether a build may write ``fmt`` (writelabel) or a start finds it there; the
    formats blkid cannot name (dvh, pc98) go to parted's label check instead."""
    if fmt in ("dvh", "pc98") and fallback is not None:
        fallback(path, fmt, writelabel=writelabel)
        return
    probe = runner.run(["blkid", "-p", "-o", "export", path], check=False)
    if probe.status not in (0, 2):
        raise _error(ErrorNumber.STORAGE_PROBE_FAILED,
                     f"Failed to probe for format type '{fmt}'")
    values = dict(line.split("=", 1) for line in probe.stdout.splitlines() if "=" in line)
    found = values.get("TYPE") or values.get("PTTYPE")
    if found is None:
        if not writelabel:
            raise _error(ErrorNumber.STORAGE_PROBE_FAILED,
                         f"Device '{path}' is unrecognized, requires build")
        return
    if found == fmt:
        if writelabel:
            raise _error(ErrorNumber.STORAGE_POOL_BUILT,
                         f"Device '{path}' already formatted using '{fmt}'")
        return
    raise _error(ErrorNumber.STORAGE_POOL_BUILT,
                 f"Device '{path}' formatted cannot overwrite using '{fmt}', "
                 "requires build --overwrite")


def _device(pool: StoragePool) -> SourceDevice:
    assert pool.source is not None and pool.source.devices
    device: SourceDevice = pool.source.devices[0]
    return device


def _format(pool: StoragePool) -> str:
    assert pool.source is not None
    return str(pool.source.format or "unknown")


def _regions(device: str, label: str, rows: list[list[str]], cylinder_end: int,
             part_separator: bool | None) -> list[Region]:
    """parted's rows as libvirt_parthelper's: numbered partitions become volumes (typed by
    the msdos numbering and the extended partition's range), free rows free extents."""
    dos = label == "msdos"
    parts = [(int(r[0]), _bytes(r[1]), _bytes(r[2]) + 1)
             for r in rows if len(r) >= 4 and r[4:5] != ["free"]]
    free = [(_bytes(r[1]), _bytes(r[2]) + 1) for r in rows if r[4:5] == ["free"]]
    extended = None
    if dos:
        inner = [(s, e) for n, s, e in parts if n >= 5] + free
        for number, start, end in parts:
            if number <= 4 and any(start <= s and e <= end for s, e in inner):
                extended = (start, end)
    regions: list[Region] = []
    for number, start, end in parts:
        path = partition_path(device, number, part_separator)
        if dos and number >= 5:
            regions.append(Region(path, "logical", "data", start, end))
        elif dos and (start, end) == extended:
            regions.append(Region(path, "extended", "metadata", start, end))
        else:
            regions.append(Region(path, "normal", "data", start, end))
    for start, end in free:
        if dos:
            end = min(end, cylinder_end)
            if start >= end:
                continue
        inside = extended is not None and extended[0] <= start and end <= extended[1]
        regions.append(Region(None, "logical" if inside else "normal", "free", start, end))
    regions.sort(key=lambda r: (r.start, r.kind != "extended"))
    return regions


def _bytes(text: str) -> int:
    return int(text.rstrip("B"))


def _is_volume(region: Region) -> bool:
    return region.path is not None and region.content in ("data", "metadata")


def _free_regions(table: Table) -> list[Region]:
    """Free space as libvirt keeps it: the first sector always counts as used."""
    return [Region(None, r.kind, "free", r.start or SECTOR_SIZE, r.end)
            for r in table.regions if r.content == "free"]


def _take_free_extents(pool: StoragePool, state: PoolState, table: Table) -> None:
    """virStorageBackendDiskMakeFreeExtent for each free region."""
    for region in _free_regions(table):
        extent = FreeExtent()
        extent.start, extent.end = region.start, region.end
        _device(pool).free_extents.append(extent)
        state.available += region.end - region.start
        state.capacity = max(state.capacity, region.end)


def _part_type_to_create(fmt: str, kinds: list[str]) -> str:
    """virStorageBackendDiskPartTypeToCreate: primary until msdos has four."""
    if fmt == "dos" and sum(k in ("normal", "extended") for k in kinds) >= 4:
        return "logical"
    return "primary"


def _part_format(pool: StoragePool, vol: StorageVol, kinds: list[str]) -> str:
    """virStorageBackendDiskPartFormat: the one argument parted's mkpart gets for the type."""
    if _format(pool) != "dos":
        return "primary"
    assert vol.target is not None
    fs = PARTED_FS.get(str(vol.target.format))
    if fs is None:
        raise InternalError("Invalid partition type", domain=ErrorDomain.STORAGE)
    if vol.target.format == "extended":
        if "extended" in kinds:
            raise InternalError("extended partition already exists",
                                domain=ErrorDomain.STORAGE)
        return fs
    if _part_type_to_create("dos", kinds) == "primary":
        return f"primary {fs}"
    if "extended" not in kinds:
        raise InternalError("no extended partition found and no primary partition "
                            "available", domain=ErrorDomain.STORAGE)
    return f"logical {fs}"


def _boundaries(fmt: str, table: Table, kinds: list[str], allocation: int) -> tuple[int, int]:
    """virStorageBackendDiskPartBoundaries, arithmetic and all: the smallest free extent of
    the right kind that fits, msdos sizes rounded up to whole cylinders."""
    dos = fmt == "dos"
    cylinder = table.cylinder_size
    part_type = _part_type_to_create(fmt, kinds)
    extra = cylinder - (allocation % cylinder)
    best: Region | None = None
    best_size = 0
    aligned = allocation
    for region in _free_regions(table):
        size = region.end - region.start
        needed = allocation
        if dos:
            # libvirt also adds a cylinder when "start % cylinder > extra", but tests the
            # start it has not chosen yet, which is always 0: never.
            needed += extra
            if part_type == "logical":
                size -= SECTOR_SIZE
        if size > needed and (best_size == 0 or size < best_size):
            wanted = "logical" if part_type == "logical" else "normal"
            if region.kind != wanted:
                continue
            best, best_size, aligned = region, size, needed
    if best is None:
        raise InternalError("no large enough free extent", domain=ErrorDomain.STORAGE)
    start = best.start + (SECTOR_SIZE if part_type == "logical" else 0)
    end = start + aligned
    if dos:
        end -= start % cylinder
    return start, end - 1


def read_block_info(target: VolumeTarget, tolerate: bool) -> int:
    """virStorageBackendUpdateVolInfo for a partition node: its size (the block device's
    end), mode, owner and times. The extended partition's node may refuse to open."""
    path = target.path or ""
    try:
        os.stat(path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if tolerate:
            return 0
        what = "cannot stat file" if not os.path.exists(path) else "cannot open volume"
        raise QvirtError(f"{what} '{path}': {os.strerror(err.errno or 0)}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STORAGE) from err
    try:
        info = os.fstat(fd)
        size = os.lseek(fd, 0, os.SEEK_END) if stat.S_ISBLK(info.st_mode) else info.st_size
    finally:
        os.close(fd)
    perms = Permissions()
    perms.mode, perms.owner, perms.group = info.st_mode & 0o7777, info.st_uid, info.st_gid
    target.permissions = perms
    times = Timestamps()
    times.atime = f"{info.st_atime_ns // 10**9}.{info.st_atime_ns % 10**9:09d}"
    times.mtime = f"{info.st_mtime_ns // 10**9}.{info.st_mtime_ns % 10**9:09d}"
    times.ctime = f"{info.st_ctime_ns // 10**9}.{info.st_ctime_ns % 10**9:09d}"
    times.btime = "0"
    target.timestamps = times
    return size


def zero_partition_table(path: str, size: int) -> None:
    """virStorageBackendZeroPartitionTable: zeros over the first and the last ``size`` bytes,
    so no old label (msdos at the start, a GPT backup at the end) survives a new one."""
    with open(path, "r+b", buffering=0) as dev:
        total = dev.seek(0, os.SEEK_END)
        zeros = bytes(min(size, total))
        dev.seek(0)
        dev.write(zeros)
        if total > size:
            dev.seek(total - size)
            dev.write(bytes(size))
        os.fsync(dev.fileno())
