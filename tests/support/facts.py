"""GuestFacts for this machine's QEMU, as the QEMU driver gets them: from its capabilities
probe, cached under ~/.cache like any probe (invalidated when the binary changes)."""

from __future__ import annotations

import functools
from pathlib import Path

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.drivers.qemu.capabilities import QemuCapsCache

CACHE = Path.home() / ".cache" / "qvirt-tests" / "capabilities"


@functools.cache
def qemu_facts() -> GuestFacts:
    return QemuCapsCache(CACHE).for_arch("x86_64").guest_facts()
