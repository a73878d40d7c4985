"""iSCSI pools (storage_backend_iscsi.c, util/viriscsi.c): the kernel initiator, driven by
iscsiadm, logs in to one target; its LUNs, found through the SCSI layer in sysfs, are the
volumes. iscsiadm runs with libvirt 9.0's argv (its /usr/bin/iscsiadm) and its output is
read with libvirt's regular expressions."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable

from qvirt.conf.storage_common import AuthSecret
from qvirt.conf.storage_pool import PoolSource, StoragePool
from qvirt.drivers.storage.backend import PoolState
from qvirt.drivers.storage.backend_scsi import HostPaths, LunScanner
from qvirt.drivers.storage.runner import Runner
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

ISCSIADM = "/usr/bin/iscsiadm"
DEFAULT_PORT = 3260
SESSION_LINE = re.compile(r"^tcp:\s+\[(\S+)\]\s+\S+\s+(\S+).*$")
TARGET_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*$")

# A secret's value by its <secret> reference (the secret driver's job; None: none known).
SecretLookup = Callable[[AuthSecret], bytes | None]


def _error(code: int, detail: str) -> QvirtError:
    return QvirtError(detail, code=code, domain=ErrorDomain.STORAGE)


def portal(source: PoolSource) -> str:
    """virStorageBackendISCSIPortal: host:port,1 (brackets around an IPv6 address); the port
    defaults to 3260 and is written back into the source, as libvirt does."""
    if len(source.hosts) != 1:
        raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                     "Expected exactly 1 host for the storage pool")
    host = source.hosts[0]
    if not host.port:
        host.port = DEFAULT_PORT
    name = f"[{host.name}]" if ":" in str(host.name) else str(host.name)
    return f"{name}:{host.port},1"


def parse_source(src_spec: str | None, pool_type: str) -> PoolSource:
    """virStoragePoolDefParseSourceString, for find-storage-pool-sources' spec."""
    if not src_spec:
        raise InvalidArg("hostname must be specified for iscsi sources",
                         domain=ErrorDomain.STORAGE)
    source = PoolSource.from_xml(src_spec, context="(storage_source_specification)")
    if len(source.hosts) != 1:
        raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                     "Expected exactly 1 host for the storage pool")
    return source


def format_sources(host: str, port: int | None, targets: list[str],
                   initiator: str | None) -> str:
    """virStoragePoolSourceListFormat for iSCSI targets: one <source> per target."""
    lines = ["<sources>"]
    for target in targets:
        lines.append("  <source>")
        port_attr = f" port='{port}'" if port else ""
        lines.append(f"    <host name='{_esc(host)}'{port_attr}/>")
        lines.append(f"    <device path='{_esc(target)}'/>")
        if initiator:
            lines += ["    <initiator>", f"      <iqn name='{_esc(initiator)}'/>",
                      "    </initiator>"]
        lines.append("  </source>")
    lines.append("</sources>")
    return "\n".join(lines) + "\n"


def _esc(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


class ISCSIBackend:
    def __init__(self, runner: Runner, paths: HostPaths | None = None,
                 secrets: SecretLookup | None = None) -> None:
        self.runner = runner
        self.paths = paths or HostPaths()
        self.secrets = secrets
        self.luns = LunScanner(runner, self.paths)

    # -- the pool ---------------------------------------------------------------------------

    def check_pool(self, pool: StoragePool) -> bool:
        self._check_source(pool)
        return self._session(pool, probe=True) is not None

    def start_pool(self, pool: StoragePool) -> None:
        """A static node record for the target, CHAP settings, then the login, unless a
        session to the target is up already."""
        self._check_source(pool)
        if self._session(pool, probe=True) is not None:
            return
        source = _source(pool)
        where = portal(source)
        target = _target(pool)
        new = self.runner.run([ISCSIADM, "--mode", "node", "--portal", where,
                               "--targetname", target, "--op", "new"], check=False)
        if new.status != 0:
            raise InternalError(f"{ISCSIADM} failed new mode for target '{target}' with "
                                f"status '{new.status}'")
        self._set_auth(where, source)
        self._connection(where, source.initiator_iqn, target, "--login")

    def refresh_pool(self, pool: StoragePool) -> PoolState:
        session = self._session(pool, probe=False)
        assert session is not None
        self.runner.run([ISCSIADM, "--mode", "session", "-r", session, "-R"])
        state = PoolState()
        self.luns.find_lus(pool, self._host_number(session), state)
        return state

    def stop_pool(self, pool: StoragePool) -> None:
        if self._session(pool, probe=True) is None:
            return
        source = _source(pool)
        self._connection(portal(source), source.initiator_iqn, _target(pool), "--logout")

    def find_pool_sources(self, src_spec: str | None, flags: int) -> str:
        if flags:
            raise InvalidArg(f"unsupported flags (0x{flags:x}) in function "
                             "virStorageBackendISCSIFindPoolSources")
        source = parse_source(src_spec, "iscsi")
        where = portal(source)
        targets = self._scan_targets(where, source.initiator_iqn, persist=False)
        host = source.hosts[0]
        return format_sources(str(host.name), host.port, targets, source.initiator_iqn)

    # -- iscsiadm ---------------------------------------------------------------------------

    def _session(self, pool: StoragePool, *, probe: bool) -> str | None:
        """virISCSIGetSession: the session number of the pool's target in `iscsiadm --mode
        session` (which exits 21 when there is none)."""
        result = self.runner.run([ISCSIADM, "--mode", "session"], check=False)
        target = _target(pool)
        for line in result.stdout.splitlines():
            found = SESSION_LINE.match(line)
            if found is not None and found.group(2) == target:
                return found.group(1)
        if not probe:
            raise InternalError(f"cannot find iscsiadm session: {result.stderr}",
                                domain=ErrorDomain.NONE)
        return None

    def _scan_targets(self, where: str, initiator: str | None, *,
                      persist: bool) -> list[str]:
        """virISCSIScanTargets: sendtargets discovery, through the interface bound to the
        initiator IQN when there is one."""
        iface = None
        if initiator:
            iface = self._iface_for(initiator)
            if iface is None:
                raise QvirtError(f"no iSCSI interface defined for IQN {initiator}",
                                 code=ErrorNumber.OPERATION_FAILED)
        return self._discover(where, iface, persist=persist)

    def _discover(self, where: str, iface: str | None, *, persist: bool) -> list[str]:
        argv = [ISCSIADM, "--mode", "discovery", "--type", "sendtargets", "--portal", where]
        if not persist:
            argv += ["--op", "nonpersistent"]
        if iface:
            argv += ["--interface", iface]
        result = self.runner.run(argv)
        return [found.group(2) for found in map(TARGET_LINE.match, result.stdout.splitlines())
                if found is not None]

    def _iface_for(self, initiator: str) -> str | None:
        """virStorageBackendIQNFound: the iface whose last field is the IQN."""
        result = self.runner.run([ISCSIADM, "--mode", "iface"])
        for line in result.stdout.splitlines():
            if "," not in line:
                continue
            if line.rsplit(",", 1)[1] == initiator:
                if " " not in line:
                    raise InternalError(f"malformed output of {ISCSIADM}: {line}",
                                        domain=ErrorDomain.NONE)
                return line.split(" ", 1)[0]
        return None

    def _create_iface(self, initiator: str) -> str:
        """virStorageBackendCreateIfaceIQN: a libvirt-iface-XXXXXXXX bound to the IQN (the
        tool's exit status is ignored; the iface listing decides)."""
        name = f"libvirt-iface-{random.getrandbits(30):08x}"
        self.runner.run([ISCSIADM, "--mode", "iface", "--interface", name, "--op", "new"],
                        check=False)
        self.runner.run([ISCSIADM, "--mode", "iface", "--interface", name, "--op", "update",
                         "--name", "iface.initiatorname", "--value", initiator], check=False)
        found = self._iface_for(initiator)
        if found is None:
            raise QvirtError(None, code=ErrorNumber.INTERNAL_ERROR)
        return found

    def _connection(self, where: str, initiator: str | None, target: str,
                    action: str) -> None:
        """virISCSIConnection: login or logout, through the initiator's interface (made,
        and its targets discovered, if it is missing)."""
        argv = [ISCSIADM, "--mode", "node", "--portal", where, "--targetname", target, action]
        if initiator:
            iface = self._iface_for(initiator)
            if iface is None:
                iface = self._create_iface(initiator)
                self._discover(where, iface, persist=True)
            argv += ["--interface", iface]
        self.runner.run(argv)

    def _set_auth(self, where: str, source: PoolSource) -> None:
        """CHAP settings as node records (libvirt's virStorageBackendISCSISetAuth)."""
        auth = source.auth
        if auth is None:
            return
        if auth.type != "chap":
            raise _error(ErrorNumber.XML_ERROR, "iscsi pool only supports 'chap' auth type")
        secret = auth.secret
        assert secret is not None
        value = self.secrets(secret) if self.secrets is not None else None
        if value is None:
            what = (f"uuid '{secret.uuid}'" if secret.uuid
                    else f"usage value '{secret.usage}'")
            raise QvirtError(f"no secret with matching {what}", code=ErrorNumber.NO_SECRET,
                             domain=ErrorDomain.SECRET)
        target = str(source.devices[0].path)
        for name, setting in (("node.session.auth.authmethod", "CHAP"),
                              ("node.session.auth.username", str(auth.username)),
                              ("node.session.auth.password", value.decode())):
            # libvirt ignores the tool's exit status here.
            self.runner.run([ISCSIADM, "--mode", "node", "--portal", where, "--target",
                             target, "--op", "update", "--name", name, "--value", setting],
                            check=False)

    def _host_number(self, session: str) -> int:
        """virStorageBackendISCSIGetHostNumber: the N of the session's targetN:... entry."""
        path = os.path.join(self.paths.sys, f"class/iscsi_session/session{session}/device")
        sys_path = f"/sys/class/iscsi_session/session{session}/device"
        try:
            names = sorted(os.listdir(path))
        except OSError as err:
            raise QvirtError(f"cannot open directory '{sys_path}': "
                             f"{os.strerror(err.errno or 0)}", code=ErrorNumber.SYSTEM_ERROR,
                             domain=ErrorDomain.STORAGE) from err
        for name in names:
            if name.startswith("target"):
                found = re.match(r"target(\d+):", name)
                if found is None:
                    raise InternalError(f"Failed to parse target '{name}'",
                                        domain=ErrorDomain.STORAGE)
                return int(found.group(1))
        raise InternalError(f"Failed to get host number for iSCSI session with path "
                            f"'{sys_path}'", domain=ErrorDomain.STORAGE)

    @staticmethod
    def _check_source(pool: StoragePool) -> None:
        source = _source(pool)
        if len(source.hosts) != 1:
            raise _error(ErrorNumber.CONFIG_UNSUPPORTED,
                         "Expected exactly 1 host for the storage pool")
        if source.hosts[0].name is None:
            raise InternalError("missing source host", domain=ErrorDomain.STORAGE)
        if len(source.devices) != 1 or source.devices[0].path is None:
            raise InternalError("missing source device", domain=ErrorDomain.STORAGE)


def _source(pool: StoragePool) -> PoolSource:
    assert pool.source is not None
    source: PoolSource = pool.source
    return source


def _target(pool: StoragePool) -> str:
    return str(_source(pool).devices[0].path)
