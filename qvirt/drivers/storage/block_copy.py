"""A clone into a block volume (storageBackendCreateBlockFrom), for the pool types whose
volumes are block devices made before their data (disk partitions, logical volumes): the
source's bytes written over the device, every one (stale data must not show through a hole),
a non-raw image converted by qemu-img; then the owner and mode the volume asks for."""

from __future__ import annotations

import os

from qvirt import constants as C
from qvirt.conf.storage_common import Permissions
from qvirt.conf.storage_vol import StorageVol
from qvirt.drivers.storage.runner import Runner
from qvirt.drivers.storage.storage_errors import system_error
from qvirt.errors import ErrorDomain, ErrorNumber, InvalidArg, QvirtError

_CHUNK = 1024 * 1024
_FLAGS = C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA | C.VIR_STORAGE_VOL_CREATE_REFLINK


def create_block_from(runner: Runner, vol: StorageVol, source: StorageVol, flags: int) -> None:
    unknown = flags & ~_FLAGS
    if unknown:
        raise InvalidArg(f"unsupported flags (0x{unknown:x}) in function "
                         "storageBackendCreateBlockFrom", domain=ErrorDomain.STORAGE)
    if flags & C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA:
        raise QvirtError("metadata preallocation is not supported for block volumes",
                         code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.STORAGE)
    assert vol.target is not None and source.target is not None
    path, src = str(vol.target.path), str(source.target.path)
    fmt = source.target.format
    if source.type == "file" and fmt not in (None, "raw"):
        runner.run(["qemu-img", "convert", "-f", str(fmt), "-O", "raw", src, path])
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as err:
        raise system_error(f"cannot create path '{path}'", err) from err
    try:
        _copy_all(src, fd, path)
        _set_perms(fd, path, vol.target.permissions)
    finally:
        os.close(fd)


def _copy_all(src: str, fd: int, path: str) -> None:
    """virStorageBackendCopyToFD without sparseness: the source to its end, or the
    device's, whichever comes first."""
    try:
        sfd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise system_error(f"could not open input path '{src}'", err) from err
    try:
        room = os.lseek(fd, 0, os.SEEK_END)
        pos = 0
        while pos < room:
            data = os.pread(sfd, min(_CHUNK, room - pos), pos)
            if not data:
                break
            os.pwrite(fd, data, pos)
            pos += len(data)
        os.fsync(fd)
    except OSError as err:
        raise system_error(f"failed writing to '{path}'", err) from err
    finally:
        os.close(sfd)


def _set_perms(fd: int, path: str, perms: Permissions | None) -> None:
    """The owner where the volume names another, and its mode (0600 unless named)."""
    st = os.fstat(fd)
    uid = perms.owner if perms is not None and perms.owner is not None else -1
    gid = perms.group if perms is not None and perms.group is not None else -1
    uid, gid = (-1 if uid == st.st_uid else uid), (-1 if gid == st.st_gid else gid)
    try:
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
    except OSError as err:
        raise system_error(f"cannot chown '{path}' to ({uid}, {gid})", err) from err
    mode = perms.mode if perms is not None and perms.mode is not None else 0o600
    try:
        os.fchmod(fd, mode)
    except OSError as err:
        raise system_error(f"cannot set mode of '{path}' to {mode:04o}", err) from err
