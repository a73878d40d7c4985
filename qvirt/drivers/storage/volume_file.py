"""Volumes that are files (dir, fs and netfs pools), as storage_util.c handles them: what a
refresh reads from the file, and creating, cloning and resizing one. Raw files are made
natively (sparse or allocated as asked); every other format goes through qemu-img with the
options libvirt gives it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path

from qvirt import constants as C
from qvirt.conf.storage_common import Permissions
from qvirt.conf.storage_vol import BackingStore, StorageVol, Timestamps, VolumeTarget
from qvirt.drivers.storage.probe import HEADER_BYTES, Probed, probe
from qvirt.drivers.storage.runner import Runner
from qvirt.drivers.storage.storage_errors import system_error, unsupported_flags
from qvirt.errors import ErrorDomain, ErrorNumber, OperationFailed, QvirtError

DEV_BSIZE = 512
FICLONE = 0x40049409          # _IOW(0x94, 9, int)
DEFAULT_VOL_MODE = 0o600
COPY_CHUNK = 1 << 20


def _timestamp(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}" if nanos else str(seconds)


def _fill_target(target: VolumeTarget, st: os.stat_result) -> None:
    perms = Permissions()
    perms.mode = stat.S_IMODE(st.st_mode) & 0o777
    perms.owner, perms.group = st.st_uid, st.st_gid
    target.permissions = perms
    times = Timestamps()
    times.atime = _timestamp(st.st_atime_ns)
    times.mtime = _timestamp(st.st_mtime_ns)
    times.ctime = _timestamp(st.st_ctime_ns)
    times.btime = "0"
    target.timestamps = times


def read_header(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEADER_BYTES)


def volume_type(st: os.stat_result) -> str | None:
    """The volume type of a directory entry, or None for what a pool does not list
    (sockets, fifos, character devices)."""
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISBLK(st.st_mode):
        return "block"
    return None


def refresh(vol: StorageVol, listing: bool = False) -> None:
    """What libvirt reads of a file volume: sizes from stat, format, virtual size and backing
    file from the header. A pool's refresh (``listing``) reads a little more than a volume's
    own refresh does, and libvirt keeps what the last one read: a qcow2 image's cluster size
    comes from the listing only."""
    assert vol.target is not None and vol.target.path is not None
    path = vol.target.path
    try:
        st = os.stat(path)
    except OSError as err:
        raise system_error(f"cannot stat file '{path}'", err) from err
    kind = volume_type(st)
    if kind is None:
        raise OperationFailed(f"cannot use '{path}': not a volume",
                              domain=ErrorDomain.STORAGE)
    vol.type = kind
    target = vol.target
    _fill_target(target, st)
    vol.allocation = st.st_blocks * DEV_BSIZE
    vol.capacity = st.st_size
    if kind == "dir":         # libvirt gives a directory no sizes
        target.format = "dir"
        vol.capacity = vol.allocation = 0
        return
    if kind == "block":
        target.format = "raw"
        with open(path, "rb") as f:
            vol.capacity = vol.allocation = f.seek(0, os.SEEK_END)
        return
    try:
        found = probe(read_header(path))
    except OSError:          # unreadable: listed as raw, as libvirt does
        found = Probed()
    target.format = found.format
    # written only when non-zero, as libvirt's formatter does
    vol.physical, vol.physical_unit = (st.st_size, "bytes") if st.st_size else (None, None)
    if found.capacity is not None:
        vol.capacity = found.capacity
    target.compat = found.compat
    target.features = found.features
    if listing and found.cluster_size is not None:
        target.cluster_size, target.cluster_size_unit = found.cluster_size, "B"
    if found.backing is not None:
        vol.backing_store = _backing(path, found)
    elif vol.backing_store is not None:
        # libvirt keeps the backing store a definition named (a clone flattened from an
        # image with one still shows it), as it was parsed: path, format and permissions
        vol.backing_store.timestamps = None


def _backing(path: str, found: Probed) -> BackingStore:
    assert found.backing is not None
    backing = BackingStore()
    full = found.backing
    if "://" not in full and not full.startswith("/"):
        full = str(Path(path).parent / full)
    backing.path = full
    backing.format = found.backing_format or "raw"
    with contextlib.suppress(OSError):
        _fill_target(backing, os.stat(full))
    return backing


# Creation ---------------------------------------------------------------------------------------

def _mode(vol: StorageVol) -> int:
    perms = vol.target.permissions if vol.target is not None else None
    return perms.mode if perms is not None and perms.mode is not None else DEFAULT_VOL_MODE


def _chown(path: str, vol: StorageVol) -> None:
    perms = vol.target.permissions if vol.target is not None else None
    if perms is None or (perms.owner is None and perms.group is None):
        return
    owner = -1 if perms.owner is None else perms.owner
    group = -1 if perms.group is None else perms.group
    try:
        os.chown(path, owner, group)
    except OSError as err:
        raise system_error(f"cannot chown '{path}' to ({owner}, {group})", err) from err


def create_raw(vol: StorageVol, source: StorageVol | None, reflink: bool = False) -> None:
    """storageBackendCreateRaw: the file at its full size up front; the space allocated
    (fallocate) when allocation asks for it, copied from ``source`` if cloning (holes of a
    sparse source stay holes unless the allocation asks for the whole size), or sharing its
    blocks (``reflink``, where the file system can)."""
    assert vol.target is not None and vol.target.path is not None
    path = vol.target.path
    if vol.target.encryption is not None:
        raise QvirtError("storage pool does not support encrypted volumes",
                         code=ErrorNumber.CONFIG_UNSUPPORTED, domain=ErrorDomain.STORAGE)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _mode(vol))
    except OSError as err:
        raise system_error(f"Failed to create file '{path}'", err) from err
    try:
        _fill_raw(fd, vol, source, reflink)
        _chown(path, vol)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def _fill_raw(fd: int, vol: StorageVol, source: StorageVol | None, reflink: bool) -> None:
    path = str(vol.target.path if vol.target else "")
    capacity, allocation = int(vol.capacity), int(vol.allocation)
    need_alloc = not (source is not None and allocation < int(source.capacity))
    try:
        os.ftruncate(fd, capacity)
    except OSError as err:
        raise system_error(f"cannot extend file '{path}'", err) from err
    if need_alloc and allocation > 0:
        try:
            os.posix_fallocate(fd, 0, allocation)
        except OSError as err:
            if err.errno not in (errno.ENOSYS, errno.EOPNOTSUPP):
                raise system_error(f"cannot allocate {allocation} bytes in file '{path}'",
                                   err) from err
    if source is not None:
        assert source.target is not None and source.target.path is not None
        src = source.target.path
        try:
            sfd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise system_error(f"could not open input path '{src}'", err) from err
        try:
            if reflink:
                _clone_file(sfd, fd, src)
            else:
                copy_data(sfd, fd, min(int(source.capacity), capacity), path)
        finally:
            os.close(sfd)
    try:
        os.fsync(fd)
    except OSError as err:
        raise system_error(f"cannot sync data to file '{path}'", err) from err


def _clone_file(src: int, dst: int, src_path: str) -> None:
    """reflinkCloneFile: the FICLONE ioctl; libvirt refuses rather than copies without it."""
    try:
        fcntl.ioctl(dst, FICLONE, src)
    except OSError as err:
        raise system_error(f"failed to clone files from '{src_path}'", err) from err


def data_extents(fd: int, length: int) -> list[tuple[int, int]]:
    """The (start, end) ranges of ``fd`` below ``length`` that hold data (SEEK_DATA and
    SEEK_HOLE); the whole range where the file system cannot tell."""
    extents = []
    pos = 0
    try:
        while pos < length:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as err:
                if err.errno == errno.ENXIO:
                    break
                raise
            if start >= length:
                break
            end = min(os.lseek(fd, start, os.SEEK_HOLE), length)
            extents.append((start, end))
            pos = end
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
            raise
        return [(0, length)]
    return extents


def copy_data(src: int, dst: int, length: int, dst_path: str) -> None:
    """Copy the data of ``src`` into ``dst`` at the same offsets, leaving its holes alone:
    time in proportion to the data, not to the size. copy_file_range first (a reflink or an
    in-kernel copy), read and write where the kernel refuses it."""
    try:
        for start, end in data_extents(src, length):
            pos = start
            while pos < end:
                count = _copy_range(src, dst, pos, min(end - pos, 64 * COPY_CHUNK))
                if count == 0:
                    break
                pos += count
    except OSError as err:
        raise system_error(f"failed writing to '{dst_path}'", err) from err


def _copy_range(src: int, dst: int, pos: int, count: int) -> int:
    try:
        return os.copy_file_range(src, dst, count, pos, pos)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    data = os.pread(src, min(count, COPY_CHUNK), pos)
    if data.count(0) == len(data):
        return len(data)
    return os.pwrite(dst, data, pos)


def _kib(size: int) -> int:
    return (size + 1023) // 1024


def _qemu_img_options(vol: StorageVol, backing_format: str | None, flags: int) -> list[str]:
    """storageBackendCreateQemuImgOpts, in libvirt's order."""
    target = vol.target
    assert target is not None
    options = []
    if backing_format:
        options.append(f"backing_fmt={backing_format}")
    if flags & C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA:
        # libvirt: metadata only while the allocation asked for is below the capacity
        sparse = _kib(int(vol.capacity)) > _kib(int(vol.allocation))
        options.append("preallocation=metadata" if sparse else "preallocation=falloc")
    if target.format == "qcow2":
        if target.compat:
            options.append(f"compat={target.compat}")
        if target.cluster_size:
            options.append(f"cluster_size={target.cluster_size}")
        for feature in target.features or ():
            options.append(feature)
    return ["-o", ",".join(options)] if options else []


def create_qemu_img(runner: Runner, vol: StorageVol, source: StorageVol | None,
                    flags: int) -> None:
    """storageBackendCreateQemuImg: ``qemu-img create`` (with a backing store) or, cloning,
    ``qemu-img convert``; the size in KiB rounded up, as libvirt passes it."""
    unsupported_flags(flags, C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA,
                      "storageBackendCreateQemuImg")
    target = vol.target
    assert target is not None and target.path is not None
    fmt = str(target.format)
    if fmt == "dir":
        create_dir(vol)
        return
    if source is not None:
        assert source.target is not None
        argv = ["qemu-img", "convert", "-f", str(source.target.format), "-O", fmt,
                *_qemu_img_options(vol, None, flags), str(source.target.path), target.path]
        runner.run(argv)
    else:
        argv = ["qemu-img", "create", "-f", fmt]
        backing = vol.backing_store
        if backing is not None:
            assert backing.path is not None
            argv += ["-b", backing.path]
        argv += _qemu_img_options(vol, backing.format if backing else None, flags)
        argv += [target.path, f"{_kib(int(vol.capacity))}K"]
        runner.run(argv)
    os.chmod(target.path, _mode(vol))
    _chown(target.path, vol)


def create_dir(vol: StorageVol) -> None:
    """A 'dir' volume is a directory (createFileDir), with a volume's default mode."""
    assert vol.target is not None and vol.target.path is not None
    path = vol.target.path
    try:
        os.mkdir(path)
        os.chmod(path, _mode(vol))
    except OSError as err:
        raise system_error(f"cannot create path '{path}'", err) from err
    _chown(path, vol)


def delete(vol: StorageVol) -> None:
    """virStorageBackendVolDeleteLocal: unlink a file, rmdir a directory; a file already gone
    is fine."""
    assert vol.target is not None and vol.target.path is not None
    path = vol.target.path
    try:
        if vol.type == "dir":
            os.rmdir(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as err:
        what = "remove directory" if vol.type == "dir" else "unlink file"
        raise system_error(f"cannot {what} '{path}'", err) from err


def resize(runner: Runner, vol: StorageVol, capacity: int, flags: int) -> None:
    """virStorageBackendVolResizeLocal: a raw file is truncated (or allocated up to its new
    size), other formats go through ``qemu-img resize``."""
    assert vol.target is not None and vol.target.path is not None
    path = vol.target.path
    if vol.target.format == "raw" and vol.target.encryption is None:
        _resize_raw(path, capacity, bool(flags & C.VIR_STORAGE_VOL_RESIZE_ALLOCATE))
        return
    if flags & C.VIR_STORAGE_VOL_RESIZE_ALLOCATE:
        raise QvirtError("preallocate is only supported for raw type volume",
                         code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.STORAGE)
    argv = ["qemu-img", "resize"]
    if flags & C.VIR_STORAGE_VOL_RESIZE_SHRINK:
        argv.append("--shrink")
    runner.run([*argv, path, str(capacity)])


def _resize_raw(path: str, capacity: int, allocate: bool) -> None:
    """virFileResize."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as err:
        raise system_error(f"Unable to open '{path}'", err, ErrorDomain.NONE) from err
    try:
        if allocate:
            try:
                os.posix_fallocate(fd, 0, capacity)
            except OSError as err:
                raise system_error(f"Failed to pre-allocate space for file '{path}'", err,
                                   ErrorDomain.NONE) from err
        try:
            os.ftruncate(fd, capacity)
        except OSError as err:
            raise system_error(f"Failed to truncate file '{path}'", err,
                               ErrorDomain.NONE) from err
    finally:
        os.close(fd)
