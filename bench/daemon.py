"""[daemon] rows: one python3-libvirt client (bench/libvirt_client.py, in Debian's python3)
against qvirtd and against the real libvirtd, in one run: defineXML of 1,000 domains, then
getVersion, lookupByName, info and XMLDesc among them, listAllDomains of them all, and each
daemon's RSS holding them.

The domains are minimal (type qemu, no disks) and named with a prefix of this run's own; each
side's helper undefines exactly the domains it defined when the run ends, so libvirtd's other
users (the tests share it) never lose theirs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Row
from qvirt.util.sockets import SOCK_RO, SOCK_RW, root_socket_dir
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

CLIENT = Path(__file__).with_name("libvirt_client.py")
QVIRTD = str(Path(sys.executable).parent / "qvirtd")
LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
LIBVIRTD_PID = Path("/var/run/libvirtd.pid")

DOMAINS = 1000
DEFINE_BATCH = 20              # the harness's warm-up call defines the first batch
CALL_BATCH = 100
RUNS = 41
START_WAIT = 60.0


class Client:
    """The python3-libvirt helper connected to one daemon."""

    def __init__(self, uri: str, prefix: str) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(CLIENT), uri, prefix],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, op: str, count: int = 1) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{op} {count}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"libvirt client: {op} {count}: exited {self.proc.wait()}")
        return answer

    def call(self, op: str, count: int) -> Callable[[], object]:
        return lambda: self.ask(op, count)

    def close(self) -> None:
        """Undefine what it defined, then end."""
        if self.proc.poll() is None:
            self.ask("undefine")
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait()


class Qvirtd:
    """A qvirtd of the benchmark's own, on a fresh root; inside network namespace ``netns``
    when given (``ip netns exec`` execs it: the same pid)."""

    def __init__(self, netns: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="qd-bench-daemon-"))
        inside = ["ip", "netns", "exec", netns] if netns else []
        with open(self.root / "qvirtd.log", "w") as log:
            self.proc = subprocess.Popen([*inside, QVIRTD, "--root", str(self.root / "r")],
                                         stdout=log, stderr=subprocess.STDOUT)
        sockets = root_socket_dir(self.root / "r")
        deadline = time.monotonic() + START_WAIT
        while not (sockets / SOCK_RO).exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("qvirtd did not start: "
                                   + (self.root / "qvirtd.log").read_text())
            time.sleep(0.05)
        self.uri = f"qemu+unix:///system?socket={sockets / SOCK_RW}"
        self.pid = self.proc.pid

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def rss_of(pid: Callable[[], int]) -> Callable[[], object]:
    return lambda: rss_mb(pid())


def rows() -> list[Row]:
    ensure_libvirtd()
    qvirtd = Qvirtd()
    prefix = f"qd-bench-{os.getpid()}-"
    clients = {"qvirt": Client(qvirtd.uri, prefix), "libvirtd": Client(LIBVIRTD_URI, prefix)}
    pids: dict[str, Callable[[], int]] = {
        "qvirt": lambda: qvirtd.pid,
        "libvirtd": lambda: int(LIBVIRTD_PID.read_text().split()[0])}

    def close_all() -> None:
        # Also when the run fails half-way: no domain of this run outlives it.
        for client in clients.values():
            with contextlib.suppress(Exception):
                client.close()
        qvirtd.close()

    atexit.register(close_all)

    def each(op: str, count: int) -> dict[str, Callable[[], object]]:
        return {side: client.call(op, count) for side, client in clients.items()}

    return [
        Row("daemon: defineXML (1,000 domains)", "µs", DOMAINS // DEFINE_BATCH - 1,
            each("define", DEFINE_BATCH), batch=DEFINE_BATCH, goal="<= 1.0x libvirtd"),
        Row("daemon: getVersion", "µs", RUNS, each("version", CALL_BATCH), batch=CALL_BATCH,
            goal="<= 1.0x libvirtd"),
        Row("daemon: lookupByName", "µs", RUNS, each("lookup", CALL_BATCH), batch=CALL_BATCH,
            goal="<= 1.0x libvirtd"),
        Row("daemon: info", "µs", RUNS, each("info", CALL_BATCH), batch=CALL_BATCH,
            goal="<= 1.0x libvirtd"),
        Row("daemon: XMLDesc", "µs", RUNS, each("xml", CALL_BATCH), batch=CALL_BATCH,
            goal="<= 1.0x libvirtd"),
        Row("daemon: listAllDomains of 1,000", "ms", RUNS, each("list", 1),
            goal="<= 1.0x libvirtd"),
        Row("daemon: RSS with 1,000 domains", "MB", 3,
            {side: rss_of(pid) for side, pid in pids.items()}, goal="<= 1.0x libvirtd"),
    ]


if __name__ == "__main__":
    from bench import harness
    print(harness.run(rows()))
