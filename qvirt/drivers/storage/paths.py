"""Where the storage driver keeps its files, as libvirt's storage driver lays out its own:
pool configs (and autostart links) in a config directory, the live state of each active pool
in a state directory, and the default pool's images. Under one root they are etc/storage,
run/storage and lib/images."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoragePaths:
    config_dir: Path
    state_dir: Path
    images_dir: Path

    @classmethod
    def under(cls, root: Path) -> StoragePaths:
        return cls(root / "etc" / "storage", root / "run" / "storage", root / "lib" / "images")

    @classmethod
    def system(cls) -> StoragePaths:
        return cls(Path("/etc/qvirt/storage"), Path("/run/qvirt/storage"),
                   Path("/var/lib/qvirt/images"))

    @classmethod
    def session(cls) -> StoragePaths:
        """libvirt's session storage driver: $XDG_CONFIG_HOME/libvirt/storage,
        $XDG_RUNTIME_DIR/libvirt/storage/run and ~/.local/share/libvirt/images."""
        home = Path.home()
        config = _xdg("XDG_CONFIG_HOME", home / ".config") / "qvirt"
        runtime = _xdg("XDG_RUNTIME_DIR", home / ".cache") / "qvirt"
        data = _xdg("XDG_DATA_HOME", home / ".local" / "share") / "qvirt"
        return cls(config / "storage", runtime / "storage" / "run", data / "images")

    @property
    def autostart_dir(self) -> Path:
        return self.config_dir / "autostart"

    def config(self, name: str) -> Path:
        return self.config_dir / f"{name}.xml"

    def autostart_link(self, name: str) -> Path:
        return self.autostart_dir / f"{name}.xml"

    def state(self, name: str) -> Path:
        return self.state_dir / f"{name}.xml"


def _xdg(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else default
