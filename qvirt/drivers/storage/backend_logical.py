"""Logical pools (storage_backend_logical.c): an LVM volume group whose logical volumes are
the volumes. Every LVM tool runs with libvirt 9.0's exact argv (its /sbin paths, separators
and --options lists), and its output is parsed with libvirt's regular expressions, so what
vgs/lvs/pvs print on any host reads as libvirt reads it."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field

from qvirt.conf.storage_pool import StoragePool
from qvirt.conf.storage_vol import (
    BackingStore,
    Extent,
    ExtentDevice,
    StorageVol,
    VolumeTarget,
)
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.backend_disk import (
    BUILD_NO_OVERWRITE,
    BUILD_OVERWRITE,
    device_is_empty,
    read_block_info,
    zero_partition_table,
)
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

PVCREATE, PVREMOVE, PVS = "/sbin/pvcreate", "/sbin/pvremove", "/sbin/pvs"
VGCREATE, VGREMOVE, VGCHANGE, VGSCAN, VGS = (
    "/sbin/vgcreate", "/sbin/vgremove", "/sbin/vgchange", "/sbin/vgscan", "/sbin/vgs")
LVCREATE, LVREMOVE, LVCHANGE, LVS = (
    "/sbin/lvcreate", "/sbin/lvremove", "/sbin/lvchange", "/sbin/lvs")

LV_FIELDS = "lv_name,origin,uuid,devices,segtype,stripes,seg_size,vg_extent_size,size,lv_attr"
LV_LINE = re.compile(r"^\s*(\S+)#(\S*)#(\S+)#(\S+)#(\S+)#([0-9]+)#(\S+)#([0-9]+)#([0-9]+)#"
                     r"(\S+)#?\s*$")
VG_LINE = re.compile(r"^\s*(\S+):([0-9]+):?\s*$")
PV_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")
EXTENT_UNIT = r"(\S+)\((\S+)\)"
DEFAULT_VOL_MODE = 0o600


@dataclass
class Source:
    """One volume group as pvs reports it: its name and physical volumes."""

    name: str
    devices: list[str] = field(default_factory=list)


def _error(code: int, detail: str) -> QvirtError:
    return QvirtError(detail, code=code, domain=ErrorDomain.STORAGE)


class LogicalBackend:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    # -- the pool ---------------------------------------------------------------------------

    def check_pool(self, pool: StoragePool) -> bool:
        """Active if the group's directory exists and pvs still shows the group (errors only
        make it inactive, as libvirt logs and goes on)."""
        target = pool.target.path if pool.target is not None else None
        if not target or not os.path.exists(target):
            return False
        try:
            self._match_pool_source(pool)
        except QvirtError:
            return False
        return True

    def start_pool(self, pool: StoragePool) -> None:
        self._match_pool_source(pool)
        self.runner.run([VGCHANGE, "-aly", _vg(pool)])

    def stop_pool(self, pool: StoragePool) -> None:
        self.runner.run([VGCHANGE, "-aln", _vg(pool)])

    def build_pool(self, pool: StoragePool, flags: int) -> None:
        """pvcreate each device (blanked first), then vgcreate; devices already initialized
        are pvremoved again if a later one fails."""
        unknown = flags & ~(BUILD_NO_OVERWRITE | BUILD_OVERWRITE)
        if unknown:
            raise InvalidArg(f"unsupported flags (0x{unknown:x}) in function "
                             "virStorageBackendLogicalBuildPool")
        if flags & BUILD_OVERWRITE and flags & BUILD_NO_OVERWRITE:
            raise InvalidArg("Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and "
                             "'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive")
        vgcreate = [VGCREATE, _vg(pool)]
        done: list[str] = []
        try:
            for path in _devices(pool):
                if not flags & BUILD_OVERWRITE:
                    device_is_empty(self.runner, path, "LVM2_member", writelabel=True)
                zero_partition_table(path, 1024 * 1024)
                self.runner.run([PVCREATE, path])
                done.append(path)
                vgcreate.append(path)
            self.runner.run(vgcreate)
        except QvirtError:
            for path in done:
                self._remove_device(path)
            raise

    def delete_pool(self, pool: StoragePool, flags: int) -> None:
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendLogicalDeletePool")
        self.runner.run([VGREMOVE, "-f", _vg(pool)])
        for path in _devices(pool):
            self._remove_device(path)

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        state = PoolState()
        state.volumes = self._find_lvs(pool, None, [])
        vgs = self.runner.run([VGS, "--separator", ":", "--noheadings", "--units", "b",
                               "--unbuffered", "--nosuffix", "--options", "vg_size,vg_free",
                               _vg(pool)])
        for line in vgs.stdout.splitlines():
            found = VG_LINE.match(line)
            if found is None:
                continue
            if not found.group(1).isdigit():
                # libvirt's callback fails without a message of its own.
                raise QvirtError(None, code=ErrorNumber.INTERNAL_ERROR,
                                 domain=ErrorDomain.STORAGE)
            state.capacity, state.available = int(found.group(1)), int(found.group(2))
            state.allocation = state.capacity - state.available
        return state

    def find_pool_sources(self, src_spec: str | None, flags: int) -> str:
        """Every volume group pvs knows, as libvirt's <sources> document."""
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendLogicalFindPoolSources")
        lines = ["<sources>"]
        for source in self._pool_sources():
            lines.append("  <source>")
            lines.extend(f"    <device path='{_text(dev)}'/>" for dev in source.devices)
            lines.append(f"    <name>{_text(source.name)}</name>")
            lines.append("    <format type='lvm2'/>")
            lines.append("  </source>")
        lines.append("</sources>")
        return "\n".join(lines) + "\n"

    # -- volumes ----------------------------------------------------------------------------

    def create_vol(self, pool: StoragePool, vol: StorageVol) -> None:
        """lvcreate (a snapshot with --virtualsize when allocation is below capacity: libvirt's
        sparse volume), the node's owner and mode set, then the volume read back from lvs."""
        assert vol.target is not None
        encryption = vol.target.encryption
        if encryption is not None and encryption.format != "luks":
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         "storage pool only supports LUKS encrypted volumes")
        vol.type = "block"
        vol.target.path = f"{_target(pool)}/{vol.name}"
        capacity = int(vol.capacity or 0)
        allocation = int(vol.allocation if vol.allocation is not None else capacity)
        argv = [LVCREATE, "--name", str(vol.name), "-L"]
        if capacity != allocation:
            argv += [f"{_kib(allocation or 1)}K", "--type", "snapshot", "--virtualsize"]
        if encryption is not None:
            capacity += 2 * 1024 * 1024
        argv.append(f"{_kib(capacity)}K")
        backing = vol.backing_store.path if vol.backing_store is not None else None
        argv += ["-s", backing] if backing else [_vg(pool)]
        argv.append("--yes")
        self.runner.run(argv)
        try:
            _set_owner_and_mode(vol.target)
            self._find_lvs(pool, vol, [])
        except QvirtError:
            with contextlib.suppress(QvirtError):
                self.delete_vol(pool, vol, 0)
            raise

    def delete_vol(self, pool: StoragePool, vol: StorageVol, flags: int) -> None:
        """lvremove -f; if that fails, deactivate (lvchange -aln) and try once more."""
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendLogicalDeleteVol")
        path = str(vol.target.path if vol.target is not None else "")
        remove = [LVREMOVE, "-f", path]
        if self.runner.run(remove, check=False).status == 0:
            return
        self.runner.run([LVCHANGE, "-aln", path])
        self.runner.run(remove)

    # -- the tools' answers -----------------------------------------------------------------

    def _find_lvs(self, pool: StoragePool, vol: StorageVol | None,
                  volumes: list[StorageVol]) -> list[StorageVol]:
        """virStorageBackendLogicalFindLVs: one row per segment; inactive volumes and thin
        pools are skipped; with ``vol`` only that volume is filled in."""
        lvs = self.runner.run([LVS, "--separator", "#", "--noheadings", "--units", "b",
                               "--unbuffered", "--nosuffix", "--options", LV_FIELDS,
                               _vg(pool)])
        for line in lvs.stdout.splitlines():
            found = LV_LINE.match(line)
            if found is not None:
                self._make_vol(pool, list(found.groups()), vol, volumes)
        return volumes

    def _make_vol(self, pool: StoragePool, groups: list[str], wanted: StorageVol | None,
                  volumes: list[StorageVol]) -> None:
        attrs = groups[9]
        if len(attrs) < 5 or attrs[4] != "a" or attrs[0] == "t":
            return
        name = groups[0]
        if wanted is not None and wanted.name != name:
            return
        vol = wanted or next((v for v in volumes if v.name == name), None)
        if vol is None:
            vol = StorageVol()
            vol.type, vol.name, vol.target = "block", name, VolumeTarget()
            volumes.append(vol)
        assert vol.target is not None
        if vol.target.path is None:
            vol.target.path = f"{_target(pool)}/{name}"
        origin = groups[1]
        if origin and not origin.startswith("["):
            backing = BackingStore()
            backing.path = f"{_target(pool)}/{origin}"
            vol.backing_store = backing
        if vol.key is None:
            vol.key = groups[2]
        size = read_block_info(vol.target, False)
        vol.capacity = size
        vol.physical = size
        vol.allocation = int(groups[8])
        vol.capacity_unit = vol.allocation_unit = vol.physical_unit = "bytes"
        _add_extents(vol, groups)

    def _pool_sources(self) -> list[Source]:
        """vgscan (its failure only warned about), then pvs grouped by volume group."""
        self.runner.run([VGSCAN], check=False)
        pvs = self.runner.run([PVS, "--noheadings", "-o", "pv_name,vg_name"])
        sources: list[Source] = []
        for line in pvs.stdout.splitlines():
            found = PV_LINE.match(line)
            if found is None:
                continue
            pv, vg = found.groups()
            source = next((s for s in sources if s.name == vg), None)
            if source is None:
                source = Source(vg)
                sources.append(source)
            source.devices.append(pv)
        return sources

    def _match_pool_source(self, pool: StoragePool) -> None:
        """virStorageBackendLogicalMatchPoolSource: the group exists and holds at least one of
        the pool's devices (a partial match is only logged by libvirt)."""
        name = _vg(pool)
        source = next((s for s in self._pool_sources() if s.name == name), None)
        if source is None:
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         f"cannot find logical volume group name '{name}'")
        devices = _devices(pool)
        if devices and not any(dev in source.devices for dev in devices):
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         "cannot find any matching source devices for logical volume "
                         f"group '{name}'")

    def _remove_device(self, path: str) -> None:
        """pvremove, whose failure libvirt only logs."""
        self.runner.run([PVREMOVE, path], check=False)


def _add_extents(vol: StorageVol, groups: list[str]) -> None:
    """virStorageBackendLogicalParseVolExtents: "dev(offset)" per stripe, offsets in
    extents of the group's extent size."""
    segtype = groups[4]
    stripes = 1
    if segtype in ("striped", "mirror") or segtype.startswith("raid"):
        try:
            stripes = int(groups[5])
        except ValueError:
            raise InternalError("malformed volume extent stripes value",
                                domain=ErrorDomain.STORAGE) from None
    try:
        length = int(groups[6])
    except ValueError:
        raise InternalError("malformed volume extent length value",
                            domain=ErrorDomain.STORAGE) from None
    size = int(groups[7])
    found = re.match(",".join([EXTENT_UNIT] * stripes), groups[3])
    if found is None:
        raise InternalError("malformed volume extent devices value",
                            domain=ErrorDomain.STORAGE)
    for i in range(stripes):
        path, offset_text = found.group(2 * i + 1), found.group(2 * i + 2)
        try:
            offset = int(offset_text)
        except ValueError:
            raise InternalError("malformed volume extent offset value",
                                domain=ErrorDomain.STORAGE) from None
        extent = Extent()
        extent.start, extent.end = offset * size, offset * size + length
        holder = next((d for d in vol.extents if d.path == path), None)
        if holder is None:
            holder = ExtentDevice()
            holder.path, holder.extents = path, []
            vol.extents.append(holder)
        holder.extents.append(extent)


def _set_owner_and_mode(target: VolumeTarget) -> None:
    """The new node gets the volume's owner (root may chown) and mode (0600 by default)."""
    path = str(target.path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise QvirtError(f"cannot stat file '{path}': {os.strerror(err.errno or 0)}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STORAGE) from err
    try:
        perms = target.permissions
        uid = perms.owner if perms is not None and perms.owner is not None else -1
        gid = perms.group if perms is not None and perms.group is not None else -1
        mode = perms.mode if perms is not None and perms.mode is not None else DEFAULT_VOL_MODE
        if os.geteuid() == 0:
            try:
                os.fchown(fd, uid, gid)
            except OSError as err:
                raise QvirtError(f"cannot set file owner '{path}': {os.strerror(err.errno or 0)}",
                                 code=ErrorNumber.SYSTEM_ERROR,
                                 domain=ErrorDomain.STORAGE) from err
        try:
            os.fchmod(fd, mode)
        except OSError as err:
            raise QvirtError(f"cannot set file mode '{path}': {os.strerror(err.errno or 0)}",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STORAGE) from err
    finally:
        os.close(fd)


def _vg(pool: StoragePool) -> str:
    assert pool.source is not None
    return str(pool.source.name or pool.name)


def _target(pool: StoragePool) -> str:
    assert pool.target is not None
    return str(pool.target.path)


def _devices(pool: StoragePool) -> list[str]:
    assert pool.source is not None
    return [str(d.path) for d in pool.source.devices]


def _kib(size: int) -> int:
    return (size + 1023) // 1024


def _text(value: str) -> str:
    """virBufferEscapeString's escaping, for text and single-quoted attributes alike."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))
