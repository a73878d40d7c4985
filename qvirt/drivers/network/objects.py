"""What the network driver knows about one network: its persistent definition, the
definition it runs with, and the guest ports plugged into it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qvirt.conf.network import Network
from qvirt.drivers.base import NetworkRef


@dataclass
class NetObj:
    # The persistent definition (None: transient); while the network runs, a redefinition
    # or an AFFECT_CONFIG update changes this one only (libvirt's newDef).
    config: Network | None
    live: Network | None = None     # the running definition (None: inactive)
    autostart: bool = False
    dnsmasq_pid: int | None = None
    # forward dev -> guest ports using it (macvtap pools); "" counts ports on the bridge.
    ports: Counter[str] = field(default_factory=Counter)

    @property
    def definition(self) -> Network:
        net = self.live or self.config
        assert net is not None
        return net

    @property
    def name(self) -> str:
        return str(self.definition.name)

    @property
    def uuid(self) -> str:
        return str(self.definition.uuid)

    @property
    def active(self) -> bool:
        return self.live is not None

    @property
    def persistent(self) -> bool:
        return self.config is not None

    @property
    def connections(self) -> int:
        return sum(self.ports.values())

    def ref(self) -> NetworkRef:
        return NetworkRef(self.name, self.uuid)

    def inactive_definition(self) -> Network:
        """What VIR_NETWORK_XML_INACTIVE shows: the persistent definition (libvirt's newDef
        while the network runs), or for a transient network the running one."""
        net = self.config or self.live
        assert net is not None
        return net
