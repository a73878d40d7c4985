"""A real iSCSI target for tests: tgtd (the userspace target of Debian's tgt) on 127.0.0.1
with its own management port, one target whose LUN 1 is a file. Tests start one per module."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    iqn: str
    lun_file: Path

    @property
    def portal(self) -> str:
        return f"{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def tgtd(workdir: Path, iqn: str, lun_size: int) -> Iterator[Target]:
    """tgtd in the foreground with a private control port; stopped through that port
    (tgtd ignores SIGTERM while it holds targets)."""
    port = _free_port()
    control = str(port % 10000 + 20000)
    lun_file = workdir / "lun1.img"
    with open(lun_file, "wb") as f:
        f.truncate(lun_size)
    with open(workdir / "tgtd.log", "wb") as log:
        proc = subprocess.Popen(["tgtd", "-f", "-C", control, "--iscsi",
                                 f"portal=127.0.0.1:{port}"], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)

    def adm(*args: str) -> None:
        subprocess.run(["tgtadm", "-C", control, "--lld", "iscsi", *args], check=True,
                       capture_output=True)

    try:
        deadline = time.monotonic() + 20
        while True:
            done = subprocess.run(["tgtadm", "-C", control, "--lld", "iscsi", "--op", "show",
                                   "--mode", "target"], capture_output=True, check=False)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("tgtd did not start: "
                                   + (workdir / "tgtd.log").read_text(errors="replace"))
            time.sleep(0.1)
        adm("--op", "new", "--mode", "target", "--tid", "1", "-T", iqn)
        adm("--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1", "-b",
            str(lun_file))
        adm("--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL")
        yield Target("127.0.0.1", port, iqn, lun_file)
    finally:
        subprocess.run(["tgtadm", "-C", control, "--op", "delete", "--mode", "target",
                        "--tid", "1", "--force"], capture_output=True, check=False)
        subprocess.run(["tgtadm", "-C", control, "--op", "delete", "--mode", "system"],
                       capture_output=True, check=False)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait()
