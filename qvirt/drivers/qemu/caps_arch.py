"""Guest architectures: libvirt's names for them, QEMU's, and which binary serves which
(virarch.c, qemu_capabilities.c virQEMUCapsFindBinaryForArch and virQEMUCapsIsArchSupported).
"""

from __future__ import annotations

import shutil

# libvirt's virArch names in its enum order (the order guests appear in capabilities), with
# each one's word size.
ARCHES: dict[str, int] = {
    "alpha": 64, "armv6l": 32, "armv7l": 32, "armv7b": 32, "aarch64": 64, "cris": 32,
    "i686": 32, "itanium": 64, "lm32": 32, "loongarch64": 64, "m68k": 32, "microblaze": 32,
    "microblazeel": 32, "mips": 32, "mipsel": 32, "mips64": 64, "mips64el": 64, "or32": 32,
    "parisc": 32, "parisc64": 64, "ppc": 32, "ppcle": 32, "ppc64": 64, "ppc64le": 64,
    "ppcemb": 32, "riscv32": 32, "riscv64": 64, "s390": 32, "s390x": 64, "sh4": 32,
    "sh4eb": 32, "sparc": 32, "sparc64": 64, "unicore32": 32, "x86_64": 64, "xtensa": 32,
    "xtensaeb": 32,
}

# libvirt arch -> QEMU's target name where they differ (virQEMUCapsArchToString).
QEMU_TARGETS = {"i686": "i386", "armv6l": "arm", "armv7l": "arm", "armv7b": "arm",
                "or32": "or1k"}

# QEMU's query-target answer -> libvirt arch (virQEMUCapsArchFromString).
FROM_QEMU = {"i386": "i686", "arm": "armv7l", "or1k": "or32"}

# A binary's arch -> the other guest arches it runs natively.
ALSO_SERVES: dict[str, tuple[str, ...]] = {
    "x86_64": ("i686",), "aarch64": ("armv7l",), "ppc64": ("ppc64le",),
    "armv7l": ("armv6l",),
}

# Where emulators are looked for, as virFindFileInPath does with libvirtd's PATH.
EMULATOR_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def from_qemu(target: str) -> str:
    return FROM_QEMU.get(target, target)


def serves(binary_arch: str, guest_arch: str) -> bool:
    return guest_arch == binary_arch or guest_arch in ALSO_SERVES.get(binary_arch, ())


def find_binary_for_arch(guest_arch: str, host_arch: str,
                         path: str = EMULATOR_PATH) -> str | None:
    """The binary libvirt runs ``guest_arch`` guests in: aarch64's first for armv7l on an
    aarch64 host (for KVM), then the arch's own, then the host's when the guest is native to
    it (x86_64 for i686), then plain ``qemu`` for i686."""
    tries = []
    if host_arch == "aarch64" and guest_arch == "armv7l":
        tries.append("qemu-system-aarch64")
    tries.append(f"qemu-system-{QEMU_TARGETS.get(guest_arch, guest_arch)}")
    if guest_arch != host_arch and serves(host_arch, guest_arch):
        tries.append(f"qemu-system-{QEMU_TARGETS.get(host_arch, host_arch)}")
    if guest_arch == "ppc64le":
        tries.append("qemu-system-ppc64")
    if guest_arch == "i686":
        tries.append("qemu")
    for name in tries:
        found = shutil.which(name, path=path)
        if found is not None:
            return found
    return None
