"""Real libvirt 9.0 as the oracle: start libvirtd if it is not running, and define documents in
it to read back what libvirt makes of them (tests only; qvirt never uses libvirt)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import time
from pathlib import Path

HELPER = Path(__file__).with_name("oracle_helper.py")
SYSTEM_PYTHON = "/usr/bin/python3"
URI = "qemu:///system"


def ensure_libvirtd() -> None:
    """Start virtlogd and libvirtd (as ORACLE.md says) unless they already answer."""
    with open("/tmp/qvirt-oracle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers():
            return
        kvm = Path("/dev/kvm")
        if kvm.exists():
            subprocess.run(["chgrp", "kvm", str(kvm)], check=False)
            os.chmod(kvm, 0o660)
        subprocess.run(["virtlogd", "-d"], check=False, capture_output=True)
        subprocess.run(["libvirtd", "-d"], check=False, capture_output=True)
        deadline = time.monotonic() + 30
        while not _answers():
            if time.monotonic() > deadline:
                raise RuntimeError("libvirtd did not start")
            time.sleep(0.2)


def _answers() -> bool:
    proc = subprocess.run(["virsh", "-c", URI, "version"], capture_output=True, check=False)
    return proc.returncode == 0


def define_and_dump(kind: str, docs: list[str], flags: int = 0) -> list[dict[str, object]]:
    """Each document defined in libvirtd, dumped inactive and undefined again.

    libvirtd 9.0 here crashes now and then (segfaults seen under domxml-to-native): a batch
    that lost its daemon is asked again of a restarted one, up to three times.
    """
    request = json.dumps({"uri": URI, "kind": kind, "docs": docs, "flags": flags})
    for _attempt in range(3):
        ensure_libvirtd()
        # One batch at a time across test workers: a batch undefines what a crashed one left
        # behind, which must never be what another worker has just defined.
        with open("/tmp/qvirt-oracle-batch.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc = subprocess.run([SYSTEM_PYTHON, str(HELPER)], input=request,
                                  capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            result: list[dict[str, object]] = json.loads(proc.stdout)
            return result
        if proc.returncode != 75:
            raise RuntimeError(f"oracle helper failed: {proc.stderr.strip()}")
    raise RuntimeError("libvirtd kept going away during the oracle's requests")


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAC = re.compile(r"52:54:00(:[0-9a-f]{2}){3}")


def normalize(xml: str) -> str:
    """Blank out only what is random: generated UUIDs and MAC addresses."""
    return _MAC.sub("52:54:00:XX:XX:XX", _UUID.sub("UUID", xml))
