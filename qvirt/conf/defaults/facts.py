"""Host facts that defaults depend on, handed in by the driver: conf itself never probes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GuestFacts:
    """What the QEMU driver learned from one emulator binary (capabilities), for one arch."""

    emulator: str = "/usr/bin/qemu-system-x86_64"
    arch: str = "x86_64"
    # Other guest architectures the host can run, and their emulators (i686 guests run in
    # qemu-system-i386, which libvirt prefers to x86_64's for them).
    emulators: dict[str, str] = field(default_factory=dict)
    # machine alias or name -> canonical name ("pc" -> "pc-i440fx-7.2"); canonical names map
    # to themselves.
    machines: dict[str, str] = field(default_factory=dict)
    default_machine: str = "pc"
    default_cpu_model: str = "qemu64"
    # The host's first security driver (security_driver in qemu.conf): a <seclabel> without
    # a model gets this one. "none" when neither SELinux nor AppArmor is active.
    security_model: str = "none"
