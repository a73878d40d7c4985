"""Where the network driver keeps its files, as libvirt's network driver lays out its own:
network configs (and autostart links) in a config directory, each active network's live XML
and dnsmasq pid in a state directory, and dnsmasq's config, hosts and lease files in a
directory of their own. Under one root they are etc/network, run/network and lib/dnsmasq."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NetworkPaths:
    config_dir: Path
    state_dir: Path
    dnsmasq_dir: Path

    @classmethod
    def under(cls, root: Path) -> NetworkPaths:
        return cls(root / "etc" / "network", root / "run" / "network", root / "lib" / "dnsmasq")

    @classmethod
    def system(cls) -> NetworkPaths:
        """libvirt's /etc/libvirt/qemu/networks, /run/libvirt/network and
        /var/lib/libvirt/dnsmasq under qvirt's names."""
        return cls(Path("/etc/qvirt/qemu/networks"), Path("/run/qvirt/network"),
                   Path("/var/lib/qvirt/dnsmasq"))

    @classmethod
    def session(cls) -> NetworkPaths:
        home = Path.home()
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "qvirt"
        runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or home / ".cache") / "qvirt"
        return cls(config / "qemu" / "networks", runtime / "network",
                   runtime / "dnsmasq")

    @property
    def autostart_dir(self) -> Path:
        return self.config_dir / "autostart"

    def make_dirs(self) -> None:
        for d in (self.config_dir, self.autostart_dir, self.state_dir, self.dnsmasq_dir):
            d.mkdir(parents=True, exist_ok=True)

    def config(self, name: str) -> Path:
        return self.config_dir / f"{name}.xml"

    def autostart_link(self, name: str) -> Path:
        return self.autostart_dir / f"{name}.xml"

    def state(self, name: str) -> Path:
        return self.state_dir / f"{name}.xml"

    def pid(self, name: str) -> Path:
        return self.state_dir / f"{name}.pid"

    def dnsmasq(self, name: str, suffix: str) -> Path:
        """NAME.conf, NAME.hostsfile, NAME.addnhosts, NAME.leases."""
        return self.dnsmasq_dir / f"{name}.{suffix}"
