"""The x86 CPU models libvirt 9.0 knows (its cpu_map/x86_*.xml), with their vendors.

libvirt offers a QEMU CPU model in domain capabilities only when its own CPU map describes it,
and names the vendor from that map, not from QEMU (QEMU's qemu64 is an AMD CPU; libvirt's has
no vendor and prints "unknown"). This is that map's index, as data.
"""

from __future__ import annotations

# model name -> vendor ("" when the map names none).
X86_MODELS: dict[str, str] = {
    "486": "", "pentium": "", "pentium2": "", "pentium3": "", "pentiumpro": "",
    "coreduo": "Intel", "n270": "Intel", "core2duo": "Intel",
    "qemu32": "", "kvm32": "", "cpu64-rhel5": "", "cpu64-rhel6": "", "kvm64": "",
    "qemu64": "",
    "Conroe": "Intel", "Penryn": "Intel", "Nehalem": "Intel", "Nehalem-IBRS": "Intel",
    "Westmere": "Intel", "Westmere-IBRS": "Intel", "SandyBridge": "Intel",
    "SandyBridge-IBRS": "Intel", "IvyBridge": "Intel", "IvyBridge-IBRS": "Intel",
    "Haswell-noTSX": "Intel", "Haswell-noTSX-IBRS": "Intel", "Haswell": "Intel",
    "Haswell-IBRS": "Intel", "Broadwell-noTSX": "Intel", "Broadwell-noTSX-IBRS": "Intel",
    "Broadwell": "Intel", "Broadwell-IBRS": "Intel", "Skylake-Client": "Intel",
    "Skylake-Client-IBRS": "Intel", "Skylake-Client-noTSX-IBRS": "Intel",
    "Skylake-Server": "Intel", "Skylake-Server-IBRS": "Intel",
    "Skylake-Server-noTSX-IBRS": "Intel", "Cascadelake-Server": "Intel",
    "Cascadelake-Server-noTSX": "Intel", "Icelake-Client": "Intel",
    "Icelake-Client-noTSX": "Intel", "Icelake-Server": "Intel",
    "Icelake-Server-noTSX": "Intel", "Cooperlake": "Intel", "Snowridge": "Intel",
    "athlon": "AMD", "phenom": "AMD", "Opteron_G1": "AMD", "Opteron_G2": "AMD",
    "Opteron_G3": "AMD", "Opteron_G4": "AMD", "Opteron_G5": "AMD", "EPYC": "AMD",
    "EPYC-IBPB": "AMD", "EPYC-Rome": "AMD", "EPYC-Milan": "AMD",
    "Dhyana": "Hygon",
}

# Architectures whose CPU models libvirt's map covers, so the filter applies.
MAPPED_ARCHES = {"x86_64": X86_MODELS, "i686": X86_MODELS}
