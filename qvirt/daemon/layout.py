"""Where one qvirtd keeps its files, by mode (DESIGN.md "Runtime model").

System (no mode option): /etc/qvirt, /run/qvirt (sockets, pid file, the QEMU driver's status
files in qemu/), /var/log/qvirt, /var/cache/qvirt, and libvirt's system PKI paths.
Session (``--session``): the XDG directories of the user, as libvirt's session daemon lays
out ~/.config/libvirt, $XDG_RUNTIME_DIR/libvirt and ~/.cache/libvirt, and ~/.pki/libvirt.
``--root DIR``: everything under DIR, the driver's files as qemu:///embed?root=DIR has them,
so tests and side-by-side daemons never meet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qvirt.drivers.network.paths import NetworkPaths
from qvirt.drivers.qemu.paths import DriverPaths
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.util.sockets import SOCK_RO, SOCK_RW, SYSTEM_RUN_DIR, root_socket_dir, session_socket_dir

CONFIG_NAME = "qvirtd.conf"
PID_NAME = "qvirtd.pid"
LOG_NAME = "qvirtd.log"


@dataclass(frozen=True)
class PKIPaths:
    """libvirt's default TLS files for a server (virNetTLSConfig*Creds)."""

    ca_file: Path
    crl_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def system(cls, etc: Path = Path("/etc")) -> PKIPaths:
        return cls(etc / "pki/CA/cacert.pem", etc / "pki/CA/cacrl.pem",
                   etc / "pki/libvirt/servercert.pem", etc / "pki/libvirt/private/serverkey.pem")

    @classmethod
    def user(cls, pki: Path) -> PKIPaths:
        return cls(pki / "cacert.pem", pki / "cacrl.pem", pki / "servercert.pem",
                   pki / "serverkey.pem")


@dataclass(frozen=True)
class Layout:
    """One daemon's directories: config, runtime (sockets, pid), its own log file, the QEMU
    driver's, the storage and network drivers', and the URI the driver answers to."""

    uri: str
    etc: Path
    run: Path
    log_file: Path
    driver: DriverPaths
    pki: PKIPaths
    storage: StoragePaths
    network: NetworkPaths

    @property
    def config_file(self) -> Path:
        return self.etc / CONFIG_NAME

    @property
    def pid_file(self) -> Path:
        return self.run / PID_NAME

    @property
    def sock_rw(self) -> Path:
        return self.run / SOCK_RW

    @property
    def sock_ro(self) -> Path:
        return self.run / SOCK_RO

    @classmethod
    def system(cls) -> Layout:
        etc, log, cache = Path("/etc/qvirt"), Path("/var/log/qvirt"), Path("/var/cache/qvirt")
        return cls("qemu:///system", etc, SYSTEM_RUN_DIR, log / LOG_NAME,
                   DriverPaths(etc / "qemu", SYSTEM_RUN_DIR / "qemu", log / "qemu",
                               cache / "qemu"),
                   PKIPaths.system(), StoragePaths.system(), NetworkPaths.system())

    @classmethod
    def session(cls) -> Layout:
        home = Path.home()
        etc = _xdg("XDG_CONFIG_HOME", home / ".config") / "qvirt"
        cache = _xdg("XDG_CACHE_HOME", home / ".cache") / "qvirt"
        run = session_socket_dir()
        return cls("qemu:///session", etc, run, cache / LOG_NAME,
                   DriverPaths(etc / "qemu", run / "qemu" / "run", cache / "qemu" / "log",
                               cache / "qemu" / "cache"),
                   PKIPaths.user(home / ".pki" / "libvirt"), StoragePaths.session(),
                   NetworkPaths.session())

    @classmethod
    def under(cls, root: Path) -> Layout:
        return cls(f"qemu:///embed?root={root}", root / "etc", root_socket_dir(root),
                   root / "log" / LOG_NAME, DriverPaths.under(root), PKIPaths.system(root / "etc"),
                   StoragePaths.under(root), NetworkPaths.under(root))


def _xdg(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else default
