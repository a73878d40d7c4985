"""make demo: build the tiny guest, boot it through qvirt's QEMU driver, show its console,
then shut it down with the ACPI button, as `virsh start`, `virsh console` and `virsh shutdown`
would.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from pathlib import Path

import qvirt
from qvirt.builder import build

STATES = {qvirt.VIR_DOMAIN_RUNNING: "running", qvirt.VIR_DOMAIN_PAUSED: "paused",
          qvirt.VIR_DOMAIN_SHUTOFF: "shut off"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SHUTOFF_REASONS = {qvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN: "shutdown",
                   qvirt.VIR_DOMAIN_SHUTOFF_DESTROYED: "destroyed"}


def console_until(pty: str, marker: str, timeout: float = 60) -> None:
    """Print the guest's serial console, read from its pty, until ``marker`` shows."""
    fd = os.open(pty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    pending, deadline = "", time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise SystemExit(f"demo: {marker} not seen in {timeout:.0f} s")
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            pending += ANSI.sub("", os.read(fd, 4096).decode("utf-8", "replace"))
            *lines, pending = pending.replace("\r", "").split("\n")
            for line in filter(str.strip, lines):
                print("    | " + line)
                if marker in line:
                    return
    finally:
        os.close(fd)


def main() -> int:
    image = Path("build/tiny")
    print(f"==> qvirt-builder tiny --output {image}")
    build("tiny", image)
    root = Path("build/demo-root").absolute()
    uri = f"qemu:///embed?root={root}"
    print(f"==> qvirt.open('{uri}')")
    conn = qvirt.open(uri)
    try:
        old = conn.lookupByName("tiny")
        if old.isActive():
            old.destroy()
        old.undefine()
    except qvirt.libvirtError:
        pass
    dom = conn.defineXML((image / "tiny.xml").read_text())
    print(f"==> defined '{dom.name()}' ({dom.UUIDString()}); starting it")
    started = time.monotonic()
    dom.create()
    state, _ = dom.state()
    print(f"==> id {dom.ID()}, {STATES.get(state, state)} after "
          f"{(time.monotonic() - started) * 1000:.0f} ms; its serial console:")
    pty = re.search(r"<console type='pty'[^>]*>\s*<source path='([^']+)'", dom.XMLDesc())
    if pty is None:
        raise SystemExit("demo: the live XML names no console pty")
    console_until(pty.group(1), "TINY-GUEST-TICK 2")
    print("==> TINY-GUEST-READY; shutting down (ACPI power button)")
    dom.shutdown()
    deadline = time.monotonic() + 60
    while dom.isActive() and time.monotonic() < deadline:
        time.sleep(0.2)
    state, reason = dom.state()
    print(f"==> {STATES.get(state, state)} ({SHUTOFF_REASONS.get(reason, reason)})")
    dom.undefine()
    conn.close()
    return 0 if state == qvirt.VIR_DOMAIN_SHUTOFF else 1


if __name__ == "__main__":
    sys.exit(main())
