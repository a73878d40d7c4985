"""GuestFacts for this machine's QEMU, read from the binary as the QEMU driver will read them.

Until the driver's capabilities probe exists, tests derive the facts from `-machine help`.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

from qvirt.conf.defaults.facts import GuestFacts

EMULATOR = "/usr/bin/qemu-system-x86_64"


@functools.cache
def qemu_facts() -> GuestFacts:
    out = subprocess.run([EMULATOR, "-machine", "help"], capture_output=True, text=True,
                         check=True).stdout
    machines: dict[str, str] = {}
    default = "pc"
    for line in out.splitlines()[1:]:
        name = line.split(" ", 1)[0]
        if not name:
            continue
        alias = re.search(r"\(alias of (\S+)\)", line)
        machines[name] = alias.group(1) if alias else name
        if "(default)" in line:
            default = name
    others = {"i686": "/usr/bin/qemu-system-i386"}
    return GuestFacts(emulator=EMULATOR, arch="x86_64", machines=machines,
                      emulators={a: e for a, e in others.items() if Path(e).exists()},
                      default_machine=default, default_cpu_model="qemu64")
