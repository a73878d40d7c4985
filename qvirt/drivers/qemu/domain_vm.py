"""One domain as the QEMU driver holds it: its definitions, state, and while it runs, its
process, monitor and agent (libvirt's virDomainObj with its qemuDomainObjPrivate)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qvirt.conf.domain import Domain
from qvirt.drivers.base import DomainRef
from qvirt.drivers.qemu.state import Paused, Shutoff, State, Stopped

if TYPE_CHECKING:
    # Only while a guest runs: the driver imports them when it starts or finds one.
    from qvirt.drivers.qemu.agent import GuestAgent
    from qvirt.drivers.qemu.monitor import QemuMonitor
    from qvirt.drivers.qemu.process import QemuProcess

AGENT_CHANNEL = "org.qemu.guest_agent.0"


@dataclass(slots=True)
class VM:
    """Slots, and the asyncio objects made on first use: a daemon holds one per defined
    domain, thousands of them, most never started (a __dict__ and three idle asyncio objects
    were 2.5 KB of each)."""

    name: str
    uuid: str
    config: Domain | None              # the persistent definition; None for a transient one
    live: Domain | None = None         # the running definition
    state: State = State.SHUTOFF
    reason: int = Shutoff.UNKNOWN
    id: int = -1
    proc: QemuProcess | None = None
    monitor: QemuMonitor | None = None
    agent: GuestAgent | None = None
    runtime_dir: Path | None = None
    monitor_path: Path | None = None
    autodestroy: bool = False
    # Runtime flags libvirt keeps in qemuDomainObjPrivate.
    got_shutdown: bool = False
    fake_reboot: bool = False
    being_destroyed: bool = False
    agent_connected: bool = False
    paused_reason: int = Paused.UNKNOWN
    # How the coming end of QEMU is to be recorded, when a handler already knows it.
    pending_stop: tuple[Shutoff, Stopped] | None = None
    restart_after_stop: bool = False
    _job: asyncio.Lock | None = field(default=None, repr=False)
    _went_down: asyncio.Event | None = field(default=None, repr=False)
    _was_reset: asyncio.Event | None = field(default=None, repr=False)

    @property
    def job(self) -> asyncio.Lock:
        """One modifying job at a time (libvirt's qemuDomainObjBeginJob); queries take none."""
        if self._job is None:
            self._job = asyncio.Lock()
        return self._job

    @property
    def went_down(self) -> asyncio.Event:
        """Set when the guest goes down, for agent commands that answer only on failure."""
        if self._went_down is None:
            self._went_down = asyncio.Event()
        return self._went_down

    @went_down.setter
    def went_down(self, event: asyncio.Event) -> None:
        self._went_down = event

    @property
    def was_reset(self) -> asyncio.Event:
        """Set when the guest resets, likewise."""
        if self._was_reset is None:
            self._was_reset = asyncio.Event()
        return self._was_reset

    @was_reset.setter
    def was_reset(self, event: asyncio.Event) -> None:
        self._was_reset = event

    @property
    def active(self) -> bool:
        return self.id != -1

    @property
    def persistent(self) -> bool:
        return self.config is not None

    def ref(self) -> DomainRef:
        return DomainRef(self.name, self.uuid, self.id)

    def current_def(self) -> Domain:
        definition = self.live if self.active and self.live is not None else self.config
        assert definition is not None, "an inactive domain always has its config"
        return definition

    def agent_channel(self) -> str | None:
        """The agent socket's path in the live definition, if the domain has the channel."""
        if self.live is None or self.live.devices is None:
            return None
        for chan in self.live.devices.channels:
            if chan.target_name == AGENT_CHANNEL and chan.type == "unix" and chan.sources:
                path = chan.sources[0].path
                return str(path) if path else None
        return None
