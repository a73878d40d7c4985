"""SCSI pools (storage_backend_scsi.c, and storage_util.c's LUN scan that iSCSI pools share):
the LUNs of one SCSI host adapter are the volumes, found by walking sysfs.

Every sysfs and /dev path is taken under a root the backend is given (``/sys`` and ``/dev`` on
a host), so tests walk a directory tree laid out as a real machine's is. A LUN's key is its
SCSI unique id from /lib/udev/scsi_id, or the device path where that tool gives nothing, as
libvirt falls back."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from qvirt.conf.storage_pool import Adapter, StoragePool
from qvirt.conf.storage_vol import StorageVol, VolumeTarget
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.backend_disk import read_block_info
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

SCSI_ID = "/lib/udev/scsi_id"
DEVICE_TYPE_DISK = 0
DEVICE_TYPE_ROM = 5
LUN_NAME = re.compile(r"^(\d+):(\d+):(\d+):(\d+)$")


@dataclass(frozen=True)
class HostPaths:
    """Where the host's sysfs and device nodes are: "/sys" and "/dev" on a real host."""

    sys: str = "/sys"
    dev: str = "/dev"

    def in_dev(self, path: str) -> str:
        """A /dev path of libvirt's (a pool target, a node) on this host."""
        if self.dev == "/dev" or not (path == "/dev" or path.startswith("/dev/")):
            return path
        return self.dev + path[len("/dev"):]


def _error(code: int, detail: str) -> QvirtError:
    return QvirtError(detail, code=code, domain=ErrorDomain.STORAGE)


def _system_error(detail: str, err: OSError) -> QvirtError:
    return QvirtError(f"{detail}: {os.strerror(err.errno or 0)}", code=ErrorNumber.SYSTEM_ERROR,
                      domain=ErrorDomain.STORAGE)


def _is_stable(path: str | None) -> bool:
    """virStorageBackendPoolPathIsStable: a /dev subdirectory (by-path, by-id, ...)."""
    return bool(path) and path not in ("/dev", "/dev/") and str(path).startswith("/dev/")


class LunScanner:
    """virStorageBackendSCSIFindLUs and what it calls: every disk or CD LUN of one SCSI
    host that has a block device becomes a volume named unit:BUS:TARGET:LUN."""

    def __init__(self, runner: Runner, paths: HostPaths) -> None:
        self.runner = runner
        self.paths = paths

    def find_lus(self, pool: StoragePool, host: int, state: PoolState) -> int:
        devices = os.path.join(self.paths.sys, "bus/scsi/devices")
        try:
            names = os.listdir(devices)
        except OSError as err:
            raise _system_error(f"cannot open directory '{devices}'", err) from err
        luns = sorted(tuple(int(x) for x in found.groups())
                      for found in map(LUN_NAME.match, names) if found)
        found_count = 0
        for h, bus, target, lun in luns:
            if h == host and self._process_lu(pool, h, bus, target, lun, state):
                found_count += 1
        return found_count

    def _process_lu(self, pool: StoragePool, host: int, bus: int, target: int, lun: int,
                    state: PoolState) -> bool:
        """processLU: False for a LUN that is not a disk or CD, or has no usable node."""
        kind = self._device_type(host, bus, target, lun)
        if kind not in (DEVICE_TYPE_DISK, DEVICE_TYPE_ROM):
            return False
        block = self._block_device(host, bus, target, lun)
        if block is None:
            return False
        vol = self._new_lun(pool, bus, target, lun, block)
        if vol is None:
            return False
        state.capacity += int(vol.capacity or 0)
        state.allocation += int(vol.allocation or 0)
        state.volumes.append(vol)
        return True

    def _lun_path(self, host: int, bus: int, target: int, lun: int) -> str:
        return os.path.join(self.paths.sys, f"bus/scsi/devices/{host}:{bus}:{target}:{lun}")

    def _device_type(self, host: int, bus: int, target: int, lun: int) -> int:
        type_path = os.path.join(self._lun_path(host, bus, target, lun), "type")
        try:
            with open(type_path) as f:
                text = f.read(2)
        except OSError as err:
            raise _system_error(f"Could not find typefile '{type_path}'", err) from err
        found = re.match(r"\s*([+-]?\d+)", text)
        if found is None:
            raise InternalError(f"Device type '{text}' is not an integer",
                                domain=ErrorDomain.STORAGE)
        return int(found.group(1))

    def _block_device(self, host: int, bus: int, target: int, lun: int) -> str | None:
        """getBlockDevice: the node's name under block/ (or an old kernel's block:NAME)."""
        lun_path = self._lun_path(host, bus, target, lun)
        try:
            entries = sorted(os.listdir(lun_path))
        except OSError as err:
            raise _system_error(f"cannot open directory '{lun_path}'", err) from err
        for entry in entries:
            if not entry.startswith("block"):
                continue
            if entry == "block":
                block_dir = os.path.join(lun_path, entry)
                try:
                    names = sorted(os.listdir(block_dir))
                except OSError as err:
                    raise _system_error(f"cannot open directory '{block_dir}'", err) from err
                return names[0] if names else None
            return entry.partition(":")[2] or None
        return None

    def _new_lun(self, pool: StoragePool, bus: int, target: int, lun: int,
                 dev: str) -> StorageVol | None:
        """virStorageBackendSCSINewLun."""
        target_path = pool.target.path if pool.target is not None else None
        plain_dev = target_path in ("/dev", "/dev/")
        if not _is_stable(target_path) and not plain_dev:
            raise InvalidArg(f"unable to use target path '{target_path or '(null)'}' for dev "
                             f"'{dev}'", domain=ErrorDomain.STORAGE)
        devpath = self.paths.in_dev(f"/dev/{dev}")
        path = self._stable_path(str(target_path), devpath)
        if path == devpath and not plain_dev:
            return None
        vol = StorageVol()
        vol.type = "block"
        vol.name = f"unit:{bus}:{target}:{lun}"
        vol.target = VolumeTarget()
        vol.target.path = path
        try:
            size = read_block_info(vol.target, False)
        except QvirtError:
            return None
        vol.capacity = vol.allocation = vol.physical = size
        vol.capacity_unit = vol.allocation_unit = vol.physical_unit = "bytes"
        vol.key = self._serial(path)
        return vol

    def _stable_path(self, target_path: str, devpath: str) -> str:
        """virStorageBackendStablePath: the link in the target directory that names the
        node, else the node itself."""
        if not _is_stable(target_path):
            return devpath
        directory = self.paths.in_dev(target_path)
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            return devpath
        for name in entries:
            link = os.path.join(directory, name)
            if os.path.realpath(link) == os.path.realpath(devpath):
                return link
        return devpath

    def _serial(self, path: str) -> str:
        """virStorageBackendSCSISerial: scsi_id's answer, the device path without one."""
        try:
            result = self.runner.run([SCSI_ID, "--replace-whitespace", "--whitelisted",
                                      "--device", path], check=False)
        except QvirtError:
            return path
        key = result.stdout.split("\n", 1)[0] if result.status == 0 else ""
        return key or path


class SCSIBackend:
    def __init__(self, runner: Runner, paths: HostPaths | None = None) -> None:
        self.runner = runner
        self.paths = paths or HostPaths()
        self.luns = LunScanner(runner, self.paths)

    def check_pool(self, pool: StoragePool) -> bool:
        try:
            host = self._host_number(_adapter(pool))
        except QvirtError:
            return False
        return os.path.exists(os.path.join(self.paths.sys, f"class/scsi_host/host{host}"))

    def start_pool(self, pool: StoragePool) -> None:
        """A scsi_host adapter only has to exist; an fc_host one is found by its WWNs."""
        self._host_number(_adapter(pool))

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        host = self._host_number(_adapter(pool))
        self._trigger_rescan(host)
        state = PoolState()
        self.luns.find_lus(pool, host, state)
        return state

    def _trigger_rescan(self, host: int) -> None:
        """Writes "- - -" to the host's scan file: every channel, target and LUN."""
        path = os.path.join(self.paths.sys, f"class/scsi_host/host{host}/scan")
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as err:
            raise _system_error(f"Failed to open {path}", err) from err
        try:
            os.write(fd, b"- - -")
        except OSError as err:
            raise _system_error(f"Write to '{path}' to trigger host scan failed", err) from err
        finally:
            os.close(fd)

    def _host_number(self, adapter: Adapter) -> int:
        """getAdapterName + virSCSIHostGetNumber: the N of hostN."""
        name = self._adapter_name(adapter)
        found = re.fullmatch(r"(?:scsi_)?host(\d+)", name)
        if found is None:
            raise InternalError(f"failed to parse scsi host '{name}'",
                                domain=ErrorDomain.STORAGE)
        return int(found.group(1))

    def _adapter_name(self, adapter: Adapter) -> str:
        if adapter.type == "fc_host":
            return self._host_by_wwn(str(adapter.wwnn), str(adapter.wwpn))
        if adapter.parentaddr is not None:
            return self._host_by_pci(adapter)
        return str(adapter.name)

    def _host_by_pci(self, adapter: Adapter) -> str:
        """virSCSIHostFindByPCI: the scsi_host whose device sits under the PCI address and
        whose unique_id matches."""
        addr = adapter.parentaddr
        assert addr is not None
        pci = (f"{int(addr.domain or 0):04x}:{int(addr.bus or 0):02x}:"
               f"{int(addr.slot or 0):02x}.{int(addr.function or 0):x}")
        base = os.path.join(self.paths.sys, "class/scsi_host")
        for name in sorted(os.listdir(base)):
            host_dir = os.path.join(base, name)
            if pci not in os.path.realpath(host_dir):
                continue
            try:
                with open(os.path.join(host_dir, "unique_id")) as f:
                    unique = int(f.read().strip())
            except (OSError, ValueError):
                continue
            if unique == adapter.unique_id:
                return name
        raise _error(ErrorNumber.XML_ERROR, f"Failed to find scsi_host using PCI '{pci}' and "
                     f"unique_id='{adapter.unique_id}'")

    def _host_by_wwn(self, wwnn: str, wwpn: str) -> str:
        """virVHBAGetHostByWWN: the fc_host whose node_name and port_name are the WWNs."""
        base = os.path.join(self.paths.sys, "class/fc_host")
        names = sorted(os.listdir(base)) if os.path.isdir(base) else []
        for name in names:
            if (_read_wwn(os.path.join(base, name, "node_name")) == _wwn(wwnn)
                    and _read_wwn(os.path.join(base, name, "port_name")) == _wwn(wwpn)):
                return name
        raise _error(ErrorNumber.XML_ERROR, f"Failed to find SCSI host with wwnn='{wwnn}', "
                     f"wwpn='{wwpn}'")


def _adapter(pool: StoragePool) -> Adapter:
    assert pool.source is not None and pool.source.adapter is not None
    adapter: Adapter = pool.source.adapter
    return adapter


def _wwn(wwn: str) -> str:
    return wwn.lower().removeprefix("0x")


def _read_wwn(path: str) -> str | None:
    try:
        with open(path) as f:
            return _wwn(f.read().strip())
    except OSError:
        return None
