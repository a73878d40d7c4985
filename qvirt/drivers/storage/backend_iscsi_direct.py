"""iSCSI pools without the kernel initiator (storage_backend_iscsi_direct.c). libvirt links
libiscsi and talks to the target itself; qvirt runs libiscsi's own command-line tools
(iscsi-ls for discovery and the LUN list, iscsi-readcapacity16 for sizes), which speak the
same protocol through the same library. Volumes are network volumes named unit:0:0:LUN with
libvirt's ip-PORTAL-iscsi-TARGET-lun-N keys and paths; ``volume_url`` gives the iscsi:// URL
QEMU's iSCSI block driver opens them by. There is no check_pool: libvirt answers with the
pool object's own state, which the driver holds."""

from __future__ import annotations

import re

from qvirt.conf.storage_pool import PoolSource, StoragePool
from qvirt.conf.storage_vol import StorageVol, VolumeTarget
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.backend_iscsi import format_sources, parse_source
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

ISCSI_LS = "iscsi-ls"
READCAPACITY16 = "iscsi-readcapacity16"
DEFAULT_PORT = 3260
VOL_NAME_PREFIX = "unit:0:0:"
TARGET_LINE = re.compile(r"^Target:(\S+) Portal:(\S+)")
LUN_LINE = re.compile(r"^Lun:(\d+)\s+Type:(\S+)")


def _error(code: int, detail: str) -> QvirtError:
    return QvirtError(detail, code=code, domain=ErrorDomain.STORAGE)


def portal(source: PoolSource) -> str:
    """virStorageBackendISCSIDirectPortal: host:port, 3260 when the port is not given."""
    if len(source.hosts) != 1:
        raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                     "Expected exactly 1 host for the storage pool")
    host = source.hosts[0]
    if not host.port:
        return f"{host.name}:{DEFAULT_PORT}"
    name = f"[{host.name}]" if ":" in str(host.name) else str(host.name)
    return f"{name}:{host.port}"


def volume_url(pool: StoragePool, vol: StorageVol) -> str:
    """The iscsi:// URL of a volume, for QEMU (iscsi://HOST:PORT/TARGET/LUN)."""
    assert pool.source is not None
    return (f"iscsi://{portal(pool.source)}/{pool.source.devices[0].path}/"
            f"{lun_of(vol)}")


def lun_of(vol: StorageVol) -> int:
    """virStorageBackendISCSIDirectGetLun."""
    name = str(vol.name)
    rest = name.removeprefix(VOL_NAME_PREFIX)
    if rest == name or not rest.lstrip("-").isdigit():
        raise InternalError(f"Invalid volume name {name}", domain=ErrorDomain.STORAGE)
    return int(rest)


class ISCSIDirectBackend:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def find_pool_sources(self, src_spec: str | None, flags: int) -> str:
        """Discovery with the initiator IQN the spec must name."""
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendISCSIDirectFindPoolSources")
        source = parse_source(src_spec, "iscsi-direct")
        iqn = source.initiator_iqn
        if not iqn:
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED, "missing initiator IQN")
        where = portal(source)
        targets = [t for t, _ in self._targets(iqn, where)]
        host = source.hosts[0]
        return format_sources(str(host.name), host.port, targets, iqn)

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        """Every LUN the target reports is a volume; direct-access ones get their size from
        READ CAPACITY(16), as libvirt computes it (block length times the returned LBA)."""
        source = _source(pool)
        if source.auth is not None:
            kind = "chap" if source.auth.type == "chap" else None
            if kind is None:
                raise _error(ErrorNumber.XML_ERROR,
                             "iscsi-direct pool only supports 'chap' auth type")
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         "CHAP authentication of iscsi-direct pools is not supported")
        iqn = str(source.initiator_iqn)
        where = portal(source)
        target = str(source.devices[0].path)
        luns = dict(self._targets(iqn, where, luns=True)).get(target)
        if luns is None:
            raise InternalError(f"Failed to login: no target {target} at {where}",
                                domain=ErrorDomain.STORAGE)
        state = PoolState()
        for lun, kind in luns:
            size = self._capacity(iqn, where, target, lun) if kind == "DIRECT_ACCESS" else 0
            vol = StorageVol()
            vol.type = "network"
            vol.name = f"{VOL_NAME_PREFIX}{lun}"
            vol.key = f"ip-{where}-iscsi-{target}-lun-{lun}"
            vol.target = VolumeTarget()
            vol.target.path = vol.key
            vol.capacity = vol.allocation = size
            vol.capacity_unit = vol.allocation_unit = "bytes"
            state.capacity += size
            state.allocation += size
            state.volumes.append(vol)
        return state

    def _targets(self, iqn: str, where: str, *,
                 luns: bool = False) -> list[tuple[str, list[tuple[int, str]]]]:
        """iscsi-ls: the targets of the portal, with their LUNs and types when asked."""
        argv = [ISCSI_LS, "-i", iqn] + (["-s"] if luns else []) + [f"iscsi://{where}"]
        result = self.runner.run(argv, check=False)
        if result.status != 0:
            raise InternalError(f"Failed to connect: {result.stderr.strip()}",
                                domain=ErrorDomain.STORAGE)
        found: list[tuple[str, list[tuple[int, str]]]] = []
        for line in result.stdout.splitlines():
            target = TARGET_LINE.match(line)
            if target is not None:
                found.append((target.group(1), []))
                continue
            lun = LUN_LINE.match(line)
            if lun is not None and found:
                found[-1][1].append((int(lun.group(1)), lun.group(2)))
        return found

    def _capacity(self, iqn: str, where: str, target: str, lun: int) -> int:
        result = self.runner.run([READCAPACITY16, "-i", iqn,
                                  f"iscsi://{where}/{target}/{lun}"], check=False)
        values = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
        try:
            lba = int(values["RETURNED LOGICAL BLOCK ADDRESS"])
            block = int(values["LOGICAL BLOCK LENGTH IN BYTES"])
        except (KeyError, ValueError):
            raise InternalError("Failed to get capacity of lun: "
                                f"{result.stderr.strip()}", domain=ErrorDomain.STORAGE) from None
        return block * lba


def _source(pool: StoragePool) -> PoolSource:
    assert pool.source is not None
    source: PoolSource = pool.source
    return source
