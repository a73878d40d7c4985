"""What every part of the command line builder reads: the domain, where its files live, the
host's facts, and the boot index each device gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain


@dataclass(frozen=True)
class RunPaths:
    domain_dir: Path  # the running domain's private directory (sockets live here)
    monitor: Path  # the QMP socket QEMU must listen on (server, no wait)
    # A guest NIC's MAC -> the descriptor of the tap or macvtap the driver opened for it,
    # which QEMU inherits.
    net_fds: dict[str, int] = field(default_factory=dict)


@dataclass
class Context:
    dom: Domain
    paths: RunPaths
    facts: GuestFacts
    boot: dict[int, int]

    def bootindex(self, dev: object) -> int | None:
        return self.boot.get(id(dev))


Section = Callable[[Context], list[str]]
