"""Asking one QEMU binary what it can do, as libvirt's qemuProcessQMPLaunch does: start it with
no machine (``-machine none``) and no guest, ask over QMP, quit.

The answers are kept raw (command -> QMP "return", or the QMP error), so the cache stores
exactly what QEMU said and parsing can be tested on recorded replies without launching QEMU.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

if TYPE_CHECKING:
    from qvirt.drivers.qemu.monitor import QemuMonitor

# What libvirt asks (qemu_capabilities.c virQEMUCapsInitQMPMonitor), under the key the reply
# is stored as. Every reply is kept, a failure too: query-sev-capabilities failing is how a
# host without SEV says so.
PROBE_COMMANDS: tuple[tuple[str, str, Mapping[str, Any] | None], ...] = (
    ("query-version", "query-version", None),
    ("query-target", "query-target", None),
    ("query-commands", "query-commands", None),
    ("query-kvm", "query-kvm", None),
    ("query-machines", "query-machines", None),
    ("query-cpu-definitions", "query-cpu-definitions", None),
    ("qom-list-types", "qom-list-types", {"abstract": False}),
    ("query-tpm-models", "query-tpm-models", None),
    ("query-tpm-types", "query-tpm-types", None),
    ("query-qmp-schema", "query-qmp-schema", None),
    ("query-migrate-capabilities", "query-migrate-capabilities", None),
    ("query-sev-capabilities", "query-sev-capabilities", None),
    ("query-sgx-capabilities", "query-sgx-capabilities", None),
)

# libvirt probes under KVM when it can, and once more under TCG, because CPU models' usability
# and some limits differ between the two accelerators.
ACCELS = {"kvm": "kvm:tcg", "tcg": "tcg"}

# What the second, TCG-only probe asks again: the answers that depend on the accelerator.
PER_ACCEL = frozenset({"query-kvm", "query-machines", "query-cpu-definitions"})

_T = TypeVar("_T")


def launch_argv(binary: str, qmp_path: Path, accel: str) -> list[str]:
    """libvirt's probe command line, less -daemonize and -pidfile: the probe keeps QEMU as its
    own child instead, so it can always reap it."""
    return [binary, "-S", "-no-user-config", "-nodefaults", "-nographic",
            "-machine", f"none,accel={accel}",
            "-qmp", f"unix:{qmp_path},server=on,wait=off"]


def probe(binary: str, accel: str = ACCELS["kvm"], timeout: float = 30.0) -> dict[str, Any]:
    """Every PROBE_COMMANDS reply of ``binary`` run under ``accel`` (an -accel list)."""
    return run_sync(_probe(binary, accel, timeout))


def probe_apart(binary: str, accel: str = ACCELS["kvm"]) -> dict[str, Any]:
    """probe() in a Python process of its own, for a long-lived caller (qvirtd): the parsed
    replies (a QMP schema of megabytes) are freed afterwards, but into Python's and glibc's
    heaps, which keep most of it; probing in place left 7 MB more in a daemon's RSS."""
    proc = subprocess.run([sys.executable, "-m", __name__, binary, accel],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        raise _failed(binary, proc.stderr.strip() or f"prober exited {proc.returncode}") \
            from None
    if "error" in answer:
        error = answer["error"]
        raise QvirtError(error["message"], code=error["code"], domain=error["domain"])
    replies: dict[str, Any] = answer["replies"]
    return replies


def _main(binary: str, accel: str) -> int:
    """probe_apart's far end: the replies, or the probe's error, as JSON on stdout."""
    try:
        answer: dict[str, Any] = {"replies": probe(binary, accel)}
    except QvirtError as err:
        answer = {"error": {"message": err.detail, "code": err.code, "domain": err.domain}}
    json.dump(answer, sys.stdout)
    return 0


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to its end from synchronous code, also when the caller is itself inside an
    event loop (the embedded driver): then on a loop of its own in a helper thread."""
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as err:  # handed to the caller's thread
            box["error"] = err

    thread = threading.Thread(target=work, name="qemu-caps-probe")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: _T = box["value"]
    return result


async def _probe(binary: str, accel: str, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qvirt-caps-") as tmp:
        qmp_path = Path(tmp) / "qmp.monitor"
        log_path = Path(tmp) / "qemu.log"
        argv = launch_argv(binary, qmp_path, accel)
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as err:
                raise _failed(binary, str(err)) from err
        try:
            mon = await _connect(proc, qmp_path, log_path, binary, timeout)
            try:
                replies = {key: await _ask(mon, command, args)
                           for key, command, args in PROBE_COMMANDS
                           if accel != ACCELS["tcg"] or key in PER_ACCEL}
                await _ask(mon, "quit", None)
            finally:
                await mon.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(proc.wait, timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return replies


async def _ask(mon: QemuMonitor, command: str,
               args: Mapping[str, Any] | None) -> dict[str, Any]:
    from qvirt.drivers.qemu.monitor import MonitorError
    try:
        return {"return": await mon.execute(command, args)}
    except MonitorError as err:
        return {"error": {"class": err.qmp_class or "GenericError", "desc": err.detail or ""}}


async def _connect(proc: subprocess.Popen[bytes], path: Path, log_path: Path,
                   binary: str, timeout: float) -> QemuMonitor:
    """Connect once QEMU listens: the socket file appears when QEMU binds it, a moment before
    it listens, and QEMU may instead fail and exit, which its log then explains.
    The monitor's modules (qemu.qmp) load here: a daemon whose probe is cached never needs
    them before a guest starts."""
    from qvirt.drivers.qemu.monitor import MonitorError, QemuMonitor
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if proc.poll() is not None:
            raise _failed(binary, log_path.read_text(errors="replace").strip())
        if path.exists():
            try:
                return await QemuMonitor.connect(str(path), f"caps-{os.getpid()}",
                                                 timeout=timeout)
            except MonitorError:
                if loop.time() > deadline:
                    raise
        elif loop.time() > deadline:
            raise _failed(binary, "timed out waiting for the QMP socket")
        await asyncio.sleep(0.01)


def _failed(binary: str, detail: str) -> QvirtError:
    return QvirtError(f"Failed to probe capabilities for {binary}: {detail}",
                      code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.QEMU)


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:]))
