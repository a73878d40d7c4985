"""QEMU processes: started so that they outlive the driver (own session, stdin from /dev/null,
output appended to the domain log), found again by pid after a driver restart, and killed as
libvirt's virProcessKillPainfully kills them (SIGTERM, then SIGKILL unless asked to be
graceful)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# Seconds: how long SIGTERM gets before SIGKILL, and SIGKILL before giving up (libvirt's
# virProcessKillPainfully waits 10 s and 5 s).
TERM_WAIT = 10.0
KILL_WAIT = 5.0
MONITOR_WAIT = 30.0
_POLL = 0.005

# What QEMU's environment keeps from ours (libvirt clears it likewise and sets LC_ALL=C).
_ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR")


def log_stamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def qemu_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


class QemuProcess:
    """One QEMU: our child when we started it, a stranger's pid after a driver restart."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self._popen = popen

    @classmethod
    def spawn(cls, argv: list[str], env: Mapping[str, str], log: Path,
              pass_fds: tuple[int, ...] = ()) -> tuple[QemuProcess, int]:
        """Start QEMU; returns it and the log offset where its own output begins."""
        try:
            out = open(log, "ab")  # noqa: SIM115 - closed below, once QEMU holds its copy
        except OSError as err:
            raise QvirtError(f"failed to create logfile {log}: {err.strerror}",
                             code=ErrorNumber.SYSTEM_ERROR) from err
        with out:
            header = (f"{log_stamp()}: starting up qvirt\n"
                      + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " "
                      + " ".join(shlex.quote(a) for a in argv) + "\n")
            out.write(header.encode())
            out.flush()
            offset = out.tell()
            try:
                popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=dict(env),
                                         start_new_session=True, close_fds=True,
                                         pass_fds=pass_fds)
            except OSError as err:
                raise QvirtError(f"Cannot find QEMU binary {argv[0]}: {err.strerror}",
                                 code=ErrorNumber.SYSTEM_ERROR) from err
        return cls(popen.pid, popen), offset

    def alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return pid_alive(self.pid)

    def reap(self) -> None:
        """Collect our child's exit status, so no zombie is left once it is gone."""
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=0)

    async def wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(_POLL)
        self.reap()
        return True

    async def kill(self, graceful: bool = False) -> None:
        """SIGTERM, then (unless graceful) SIGKILL; the error libvirt gives if it survives."""
        for sig, wait in ((signal.SIGTERM, TERM_WAIT), (signal.SIGKILL, KILL_WAIT)):
            if graceful and sig == signal.SIGKILL:
                break
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                self.reap()
                return
            if await self.wait_gone(wait):
                return
        name = "SIGTERM" if graceful else "SIGKILL"
        raise QvirtError(f"Failed to terminate process {self.pid} with {name}: "
                         "Device or resource busy", code=ErrorNumber.SYSTEM_ERROR)

    async def wait_for_socket(self, path: Path, log: Path, log_offset: int,
                              timeout: float = MONITOR_WAIT) -> None:
        """Until QEMU listens on its monitor socket; QEMU's own words if it exits first."""
        deadline = time.monotonic() + timeout
        while not path.exists():
            if not self.alive():
                self.reap()
                raise QvirtError("qemu unexpectedly closed the monitor: "
                                 + read_from(log, log_offset).strip(),
                                 code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.QEMU)
            if time.monotonic() > deadline:
                raise QvirtError("monitor socket did not show up",
                                 code=ErrorNumber.OPERATION_TIMEOUT, domain=ErrorDomain.QEMU)
            await asyncio.sleep(_POLL)

    def has_arg(self, needle: str) -> bool:
        """Whether this pid's command line names ``needle`` (the domain's uuid): a recycled
        pid after a reboot must not be taken for our QEMU."""
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return needle.encode() in cmdline


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name; Z (zombie) is as good as gone.
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def read_from(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def append_log(log: Path, line: str) -> None:
    with contextlib.suppress(OSError), open(log, "a") as f:
        f.write(f"{log_stamp()}: {line}\n")


def cpu_time(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
