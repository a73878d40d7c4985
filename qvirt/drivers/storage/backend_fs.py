"""Pools of files (storage_backend_fs.c): a directory (dir), a local file system mounted on
the target (fs) and a network one (netfs). All three hold their volumes as files in the
target directory (volume_file.py); fs and netfs add mounting, and fs making the file system.
Every host tool runs through the Runner."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from qvirt import constants as C
from qvirt.conf.storage_common import Permissions
from qvirt.conf.storage_pool import StoragePool
from qvirt.conf.storage_vol import StorageVol, VolumeTarget
from qvirt.conf.xmltree import escape
from qvirt.drivers.storage import volume_file
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.runner import Runner
from qvirt.drivers.storage.storage_errors import (
    exclusive_flags,
    system_error,
    unsupported_flags,
)
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InvalidArg,
    NoSupport,
    OperationFailed,
    OperationInvalid,
    QvirtError,
)

_STORAGE = ErrorDomain.STORAGE
DEFAULT_POOL_MODE = 0o711
DEFAULT_MOUNT_OPTS = "nodev,nosuid,noexec"
# mkfs' option to overwrite whatever the device holds (virStorageBackendExecuteMKFS)
_MKFS_FORCE = {"xfs": "-f", "ext2": "-F", "ext3": "-F", "ext4": "-F", "vfat": "-I"}


def _target(pool: StoragePool) -> str:
    assert pool.target is not None and pool.target.path is not None
    return str(pool.target.path)


class DirBackend:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def check_pool(self, pool: StoragePool) -> bool:
        return os.path.isdir(_target(pool))

    def build_pool(self, pool: StoragePool, flags: int) -> None:
        """virStorageBackendFileSystemBuild: the target directory (and its parents), with
        the pool's permissions."""
        unsupported_flags(flags, C.VIR_STORAGE_POOL_BUILD_OVERWRITE
                          | C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE,
                          "virStorageBackendFileSystemBuild")
        if flags & C.VIR_STORAGE_POOL_BUILD_OVERWRITE and \
                flags & C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE:
            raise exclusive_flags("VIR_STORAGE_POOL_BUILD_OVERWRITE",
                                  "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE")
        path = Path(_target(pool))
        perms = pool.target.permissions if pool.target is not None else None
        mode = perms.mode if perms is not None and perms.mode is not None else None
        try:
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if not path.is_dir():
                path.mkdir(mode=DEFAULT_POOL_MODE if mode is None else mode)
                os.chmod(path, DEFAULT_POOL_MODE if mode is None else mode)
            elif mode is not None:
                os.chmod(path, mode)
            if perms is not None and (perms.owner is not None or perms.group is not None):
                os.chown(path, -1 if perms.owner is None else perms.owner,
                         -1 if perms.group is None else perms.group)
        except OSError as err:
            raise system_error(f"cannot create path '{path}'", err) from err

    def start_pool(self, pool: StoragePool) -> None:
        return None

    def stop_pool(self, pool: StoragePool) -> None:
        return None

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        """virStorageBackendFileSystemRefresh: every entry of the target that is a file, a
        directory or a block device, and the file system's sizes."""
        target = _target(pool)
        try:
            names = sorted(os.listdir(target))
            st = os.stat(target)
            fs = os.statvfs(target)
        except OSError as err:
            raise system_error(f"cannot open directory '{target}'", err,
                               ErrorDomain.NONE) from err
        state = PoolState(capacity=fs.f_frsize * fs.f_blocks,
                          allocation=(fs.f_blocks - fs.f_bfree) * fs.f_frsize,
                          available=fs.f_bfree * fs.f_frsize)
        perms = Permissions()
        perms.mode = stat.S_IMODE(st.st_mode) & 0o777
        perms.owner, perms.group = st.st_uid, st.st_gid
        assert pool.target is not None
        pool.target.permissions = perms
        for name in names:
            vol = file_volume(target, name)
            try:
                volume_file.refresh(vol, listing=True)
            except QvirtError:
                continue     # gone meanwhile, or not something a pool lists
            state.volumes.append(vol)
        return state

    def delete_pool(self, pool: StoragePool, flags: int) -> None:
        unsupported_flags(flags, 0, "virStorageBackendFileSystemDelete")
        target = _target(pool)
        try:
            os.rmdir(target)
        except FileNotFoundError:
            return
        except OSError as err:
            raise system_error(f"failed to remove pool '{target}'", err) from err

    def create_vol(self, pool: StoragePool, vol: StorageVol) -> None:
        """virStorageBackendFileSystemVolCreate: the volume's path and key, never outside the
        pool's directory."""
        assert vol.target is not None
        fmt = vol.target.format
        vol.type = "dir" if fmt == "dir" else "ploop" if fmt == "ploop" else "file"
        if "/" in str(vol.name):
            raise OperationInvalid(f"volume name '{vol.name}' cannot contain '/'",
                                   domain=_STORAGE)
        path = f"{_target(pool)}/{vol.name}"
        if os.path.lexists(path):
            raise OperationInvalid(f"volume target path '{path}' already exists",
                                   domain=_STORAGE)
        vol.target.path = vol.key = path

    def build_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None:
        self._build(vol, None, flags)

    def build_vol_from(self, pool: StoragePool, vol: StorageVol, source: StorageVol,
                       flags: int) -> None:
        self._build(vol, source, flags)

    def _build(self, vol: StorageVol, source: StorageVol | None, flags: int) -> None:
        """virStorageBackendFileSystemVolBuild(From): raw natively, the rest by qemu-img."""
        assert vol.target is not None
        fmt = vol.target.format
        if fmt == "dir":
            volume_file.create_dir(vol)
            return
        source_raw = source is None or (source.target is not None
                                        and source.target.format == "raw")
        if fmt == "raw" and vol.backing_store is None and source_raw:
            if flags & C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA:
                raise QvirtError("metadata preallocation is not supported for raw volumes",
                                 code=ErrorNumber.CONFIG_UNSUPPORTED, domain=_STORAGE)
            volume_file.create_raw(vol, source,
                                   bool(flags & C.VIR_STORAGE_VOL_CREATE_REFLINK))
            return
        if fmt == "raw" and vol.backing_store is not None:
            raise NoSupport("backing storage not supported for raw volumes", domain=_STORAGE)
        volume_file.create_qemu_img(self.runner, vol, source, flags)

    def delete_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None:
        unsupported_flags(flags, C.VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS,
                          "virStorageBackendVolDeleteLocal")
        volume_file.delete(vol)

    def refresh_vol(self, pool: StoragePool, vol: StorageVol) -> None:
        volume_file.refresh(vol)

    def resize_vol(self, pool: StoragePool, vol: StorageVol, capacity: int,
                   flags: int) -> None:
        volume_file.resize(self.runner, vol, capacity, flags)


def file_volume(directory: str, name: str) -> StorageVol:
    """A volume as a refresh starts it: its name, key and path."""
    vol = StorageVol()
    vol.name = name
    vol.key = f"{directory}/{name}"
    vol.target = VolumeTarget()
    vol.target.path = vol.key
    vol.capacity_unit = vol.allocation_unit = "bytes"
    return vol


def is_mounted(target: str) -> bool:
    """virStorageBackendFileSystemIsMounted: the target among /proc/mounts' mount points."""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    wanted = os.path.realpath(target)
    for line in lines:
        fields = line.split()
        if len(fields) > 1 and fields[1].replace("\\040", " ") == wanted:
            return True
    return False


class _Mounted(DirBackend):
    """What fs and netfs share: the pool is active while its target is mounted."""

    def check_pool(self, pool: StoragePool) -> bool:
        return is_mounted(_target(pool))

    def _mount_source(self, pool: StoragePool) -> str:
        raise NotImplementedError

    def _options(self, pool: StoragePool) -> list[str]:
        return [DEFAULT_MOUNT_OPTS, *(opt[0] for opt in pool.mount_opts)]

    def _fs_type(self, pool: StoragePool) -> str:
        assert pool.source is not None
        return str(pool.source.format or "auto")

    def start_pool(self, pool: StoragePool) -> None:
        """virStorageBackendFileSystemStart: mount, unless something already is."""
        target = _target(pool)
        if is_mounted(target):
            return
        self.runner.run(["mount", "-o", ",".join(self._options(pool)),
                         *self._type_args(pool), self._mount_source(pool), target])

    def _type_args(self, pool: StoragePool) -> list[str]:
        return ["-t", self._fs_type(pool)]

    def stop_pool(self, pool: StoragePool) -> None:
        target = _target(pool)
        if not is_mounted(target):
            return
        self.runner.run(["umount", target])


class FSBackend(_Mounted):
    def _device(self, pool: StoragePool) -> str:
        assert pool.source is not None and pool.source.devices
        return str(pool.source.devices[0].path)

    def _mount_source(self, pool: StoragePool) -> str:
        return self._device(pool)

    def build_pool(self, pool: StoragePool, flags: int) -> None:
        """The directory, then mkfs when asked to overwrite, or when asked not to and the
        device holds no file system (virStorageBackendMakeFileSystem)."""
        super().build_pool(pool, flags)
        fmt = self._fs_type(pool)
        device = self._device(pool)
        overwrite = bool(flags & C.VIR_STORAGE_POOL_BUILD_OVERWRITE)
        if overwrite or (flags & C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE
                         and self._is_empty(device, fmt)):
            self._mkfs(device, fmt)

    def _is_empty(self, device: str, fmt: str) -> bool:
        """virStorageBackendDeviceIsEmpty through blkid: a device holding a file system
        (of the wanted type or another) is refused."""
        result = self.runner.run(["blkid", "-p", "-o", "export", device], check=False)
        found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        if result.status == 2 or "TYPE" not in found:
            return True
        if result.status not in (0, 2):
            raise _probe_error(result.stderr, device)
        if found["TYPE"] == fmt:
            raise QvirtError(f"Device '{device}' already formatted using '{fmt}'",
                             code=ErrorNumber.STORAGE_POOL_BUILT, domain=_STORAGE)
        raise QvirtError(f"Format of device '{device}' does not match the expected format "
                         f"'{fmt}', forced overwrite is necessary",
                         code=ErrorNumber.STORAGE_POOL_BUILT, domain=_STORAGE)

    def _mkfs(self, device: str, fmt: str) -> None:
        argv = ["mkfs", "-t", fmt]
        if fmt in _MKFS_FORCE:
            argv.append(_MKFS_FORCE[fmt])
        result = self.runner.run([*argv, device], check=False)
        if result.status != 0:
            raise OperationFailed(f"Failed to make filesystem of type '{fmt}' on device "
                                  f"'{device}'", domain=_STORAGE)

    def find_pool_sources(self, src_spec: str | None, flags: int) -> str:
        raise NoSupport("pool type 'fs' does not support source discovery",
                        domain=_STORAGE)


def _probe_error(stderr: str, device: str) -> QvirtError:
    return QvirtError(f"Failed to probe for format type on device '{device}': "
                      f"{stderr.strip()}", code=ErrorNumber.STORAGE_PROBE_FAILED,
                      domain=_STORAGE)


class NetFSBackend(_Mounted):
    def _mount_source(self, pool: StoragePool) -> str:
        source = pool.source
        assert source is not None and source.hosts and source.dir is not None
        host = source.hosts[0].name
        if source.format == "cifs":
            return f"//{host}/{source.dir}"      # libvirt keeps the dir's own slash
        return f"{host}:{source.dir}"

    def _type_args(self, pool: StoragePool) -> list[str]:
        """'mount -t auto' cannot tell NFS, plain 'mount' can: auto gives no type."""
        return [] if self._fs_type(pool) == "auto" else super()._type_args(pool)

    def _options(self, pool: StoragePool) -> list[str]:
        assert pool.source is not None
        extra = []
        fmt = pool.source.format
        if fmt in ("auto", "nfs") and pool.source.protocol_ver:
            extra.append(f"nfsvers={pool.source.protocol_ver}")
        elif fmt == "glusterfs":
            extra.append("direct-io-mode=1")
        elif fmt == "cifs":
            extra.append("guest")
        return [DEFAULT_MOUNT_OPTS, *extra, *(opt[0] for opt in pool.mount_opts)]

    def find_pool_sources(self, src_spec: str | None, flags: int) -> str:
        """virStorageBackendFileSystemNetFindPoolSources: the host's NFS exports, as
        showmount lists them."""
        if not src_spec:
            raise InvalidArg("hostname must be specified for netfs sources", domain=_STORAGE)
        from qvirt.conf.storage_pool import PoolSource
        spec = PoolSource.from_xml(src_spec)
        if len(spec.hosts) != 1:
            raise InvalidArg("Expected exactly 1 host for the storage pool", domain=_STORAGE)
        host = str(spec.hosts[0].name)
        result = self.runner.run(["showmount", "--no-headers", "--exports", host],
                                 check=False)
        exports = []
        if result.status == 0:
            for line in result.stdout.splitlines():
                # libvirt's "^(/.*\S) +\S+$": the export may hold blanks, its clients not
                found = re.fullmatch(r"(/.*\S) +\S+", line)
                if found:
                    exports.append(found.group(1))
        if not exports:
            raise OperationFailed(f"no storage pools were found on host '{host}'",
                                  domain=_STORAGE)
        lines = ["<sources>"]
        for path in exports:
            lines += ["  <source>", f"    <host name='{escape(host)}'/>",
                      f"    <dir path='{escape(path)}'/>", "    <format type='nfs'/>",
                      "  </source>"]
        lines.append("</sources>")
        return "\n".join(lines) + "\n"
