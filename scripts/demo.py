"""make demo: build the tiny guest, boot it under bare QEMU, show its console, power it off.

Until qvirt's QEMU driver boots guests, this drives qemu-system-x86_64 directly.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qvirt.builder import build
from tests.support.plainqemu import PlainGuest


def main() -> int:
    image = Path("build/tiny")
    print(f"==> qvirt-builder tiny --output {image}")
    started = time.monotonic()
    build("tiny", image)
    print(f"    built in {time.monotonic() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="qvirt-demo-") as work:
        guest = PlainGuest(image, Path(work))
        print("==> booting under qemu-system-x86_64 (TCG); the guest's serial console:")
        booted = time.monotonic()
        with guest:
            guest.wait_for("TINY-GUEST-READY")
            up = time.monotonic() - booted
            guest.wait_for("TINY-GUEST-TICK 3")
            for line in guest.console_text().splitlines():
                print("    | " + line.strip("\r"))
            guest.wait_agent()
            info = guest.agent("guest-info")
            assert isinstance(info, dict)
            print(f"==> TINY-GUEST-READY {up:.1f} s after launch; "
                  f"qemu-ga {info['version']} answers")
            print("==> system_powerdown (ACPI power button)")
            guest.qmp("system_powerdown")
            code = guest.wait_exit(timeout=60)
            print(f"==> QEMU exited with status {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
