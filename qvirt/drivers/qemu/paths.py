"""Where the QEMU driver keeps its files, as libvirt lays out its own: config XML in a config
directory (with autostart links in its autostart/), status XML and per-domain runtime directories
(sockets) in a state directory, logs, and cached capabilities. Under one root they are
etc/qemu, run/qemu, log/qemu and cache/qemu."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
UNIX_PATH_MAX = 107
SHORT_NAME_MAX = 20


@dataclass(frozen=True)
class DriverPaths:
    """The driver's four directories. ``under(root)`` is the one-root layout of
    qemu:///embed and ``qvirtd --root``; qvirtd's system and session modes pass libvirt's
    directories for qemu:///system and qemu:///session explicitly."""

    config_dir: Path
    state_dir: Path
    log_dir: Path
    cache_dir: Path

    @classmethod
    def under(cls, root: Path) -> DriverPaths:
        return cls(root / "etc" / "qemu", root / "run" / "qemu", root / "log" / "qemu",
                   root / "cache" / "qemu")

    @property
    def autostart_dir(self) -> Path:
        return self.config_dir / "autostart"

    @property
    def driver_lock(self) -> Path:
        return self.state_dir / "driver.pid"

    @property
    def last_id_file(self) -> Path:
        return self.state_dir / "last-id"

    def make_dirs(self) -> None:
        for d in (self.config_dir, self.autostart_dir, self.state_dir, self.log_dir,
                  self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)

    def config(self, name: str) -> Path:
        return self.config_dir / f"{name}.xml"

    def autostart_link(self, name: str) -> Path:
        return self.autostart_dir / f"{name}.xml"

    def status(self, name: str) -> Path:
        return self.state_dir / f"{name}.xml"

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def runtime_dir(self, dom_id: int, name: str) -> Path:
        """libvirt's domain-ID-SHORTNAME (virDomainDefGetShortName), kept to safe characters
        so a hostile name cannot leave the directory or lengthen socket paths."""
        short = re.sub(r"[^A-Za-z0-9_.+-]", "", name)[:SHORT_NAME_MAX].lstrip(".")
        return self.state_dir / f"domain-{dom_id}-{short}"


def too_long(path: Path) -> bool:
    return len(str(path).encode()) > UNIX_PATH_MAX


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A name for the unix socket ``path`` that fits in sun_path: the path itself, or when a
    deep root makes it too long, the same file through an open descriptor of its directory
    (/proc/self/fd/N/NAME), valid while the block runs."""
    if not too_long(path):
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
