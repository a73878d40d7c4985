"""Every document kind qvirt/conf models: its class, libvirt's schema for it, and whether
libvirtd can define it (so the live oracle can be asked)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMAS = Path("/usr/share/libvirt/schemas")
CORPUS = Path(__file__).resolve().parent.parent / "data" / "conf"


@dataclass(frozen=True)
class Kind:
    module: str
    cls: str
    schema: str
    oracle: str = ""       # define_and_dump kind, when libvirtd can define documents of it
    defaults: str = ""     # the module's defaults function, for kinds other than domain

    def load(self) -> type[Any]:
        return getattr(importlib.import_module(self.module), self.cls)  # type: ignore[no-any-return]


KINDS: dict[str, Kind] = {
    "domain": Kind("qvirt.conf.domain", "Domain", "domain.rng", "domain"),
    "network": Kind("qvirt.conf.network", "Network", "network.rng", "network", "apply_defaults"),
    "pool": Kind("qvirt.conf.storage_pool", "StoragePool", "storagepool.rng", "pool",
                 "apply_defaults"),
    "volume": Kind("qvirt.conf.storage_vol", "StorageVol", "storagevol.rng"),
    "snapshot": Kind("qvirt.conf.snapshot", "DomainSnapshot", "domainsnapshot.rng"),
    "secret": Kind("qvirt.conf.secret", "Secret", "secret.rng", "secret", "apply_defaults"),
    "nodedev": Kind("qvirt.conf.nodedev", "NodeDevice", "nodedev.rng"),
    "nwfilter": Kind("qvirt.conf.nwfilter", "NWFilter", "nwfilter.rng", "nwfilter",
                     "apply_defaults"),
    "interface": Kind("qvirt.conf.iface", "Interface", "interface.rng"),
    "capabilities": Kind("qvirt.conf.capabilities", "Capabilities", "capability.rng"),
    "domaincaps": Kind("qvirt.conf.domaincaps", "DomainCapabilities", "domaincaps.rng"),
}


def corpus(kind: str, invalid: bool = False) -> list[Path]:
    folder = CORPUS / kind / "invalid" if invalid else CORPUS / kind
    return sorted(folder.glob("*.xml")) if folder.is_dir() else []
