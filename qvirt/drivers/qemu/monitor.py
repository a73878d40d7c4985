"""The QMP monitor: one typed coroutine per QMP command qvirt sends, events to a callback table.

Only this module imports ``qemu.qmp`` (QEMU's own client: greeting, capabilities negotiation,
id-correlated replies, reader and writer tasks). What it adds is libvirt's view of the monitor:
errors worded as libvirt's qemu_monitor*.c words them, a table of the events the driver acts on
(libvirt's qemu_monitor_json.c eventHandlers), and the end of the connection reported once, as
libvirt's qemuProcessHandleMonitorEOF is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from qemu.qmp import EventListener, ExecInterruptedError, ExecuteError, QMPClient, QMPError
from qemu.qmp.message import Message
from qemu.qmp.protocol import ConnectError, Runstate, StateError

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# QMP event name -> the callback method that handles it: (monitor, data, timestamp seconds).
EVENTS: dict[str, str] = {
    "SHUTDOWN": "on_shutdown",
    "RESET": "on_reset",
    "POWERDOWN": "on_powerdown",
    "STOP": "on_stop",
    "RESUME": "on_resume",
    "GUEST_PANICKED": "on_guest_panicked",
    "GUEST_CRASHLOADED": "on_guest_crashloaded",
    "SUSPEND": "on_suspend",
    "WAKEUP": "on_wakeup",
    "RTC_CHANGE": "on_rtc_change",
    "WATCHDOG": "on_watchdog",
    "DEVICE_DELETED": "on_device_deleted",
    "VSERPORT_CHANGE": "on_serial_change",
    "BLOCK_JOB_COMPLETED": "on_block_job",
    "BLOCK_JOB_CANCELLED": "on_block_job",
    "BLOCK_JOB_READY": "on_block_job",
    "JOB_STATUS_CHANGE": "on_job_status_change",
    "MIGRATION": "on_migration_status",
}

# Called once when the connection ends without close() having been asked for (QEMU exited).
EOF_HANDLER = "on_eof"
_EOF_MARK = "__QVIRT_EOF__"

# Failures reach callers as MonitorError; the library's own error log would only repeat them.
logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())

EventHandler = Callable[["QemuMonitor", Mapping[str, Any], float], Awaitable[None] | None]


class MonitorError(QvirtError):
    """A QMP command failed: libvirt's "unable to execute QEMU command" with the QMP class."""

    code = ErrorNumber.INTERNAL_ERROR
    domain = ErrorDomain.QEMU

    def __init__(self, detail: str, *, qmp_class: str | None = None,
                 sent: Mapping[str, Any] | None = None, code: int | None = None) -> None:
        super().__init__(detail, code=code)
        self.qmp_class = qmp_class
        self.sent = dict(sent) if sent is not None else None


@dataclass(frozen=True)
class RunStatus:
    """query-status: whether vCPUs run, and QEMU's RunState name (running, paused, shutdown...)."""

    running: bool
    status: str


@dataclass(frozen=True)
class ChardevInfo:
    """query-chardev: a character device's id and its backend's filename (pty:/dev/pts/3...)."""

    label: str
    filename: str
    frontend_open: bool

    @property
    def pty_path(self) -> str | None:
        return self.filename[4:] if self.filename.startswith("pty:") else None


@dataclass(frozen=True)
class MachineInfo:
    name: str
    alias: str | None
    is_default: bool
    cpu_max: int
    hotpluggable_cpus: bool
    deprecated: bool
    default_cpu_type: str | None
    default_ram_id: str | None


@dataclass(frozen=True)
class CpuDefinition:
    name: str
    typename: str
    migration_safe: bool
    static: bool
    unavailable_features: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True)
class KvmInfo:
    enabled: bool
    present: bool


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    micro: int
    package: str

    @property
    def number(self) -> int:
        """libvirt's encoding: major * 1,000,000 + minor * 1,000 + micro."""
        return self.major * 1_000_000 + self.minor * 1_000 + self.micro


class QemuMonitor:
    """One QMP connection to one QEMU process.

    Events are taken from the client's queue by one pump task and handed to ``callbacks`` in
    the order QEMU sent them, whether or not a command's reply is being awaited meanwhile.
    """

    def __init__(self, vm_name: str, callbacks: object | None = None) -> None:
        self.vm_name = vm_name
        self.callbacks = callbacks
        self._client = QMPClient(vm_name)
        self._listener = EventListener()
        self._client.register_listener(self._listener)
        self._pump: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._closing = False
        self._eof = False
        self._commands: frozenset[str] | None = None

    @classmethod
    async def connect(cls, path: str, vm_name: str, callbacks: object | None = None,
                      timeout: float = 30.0) -> QemuMonitor:
        """Connect to QEMU's QMP socket and negotiate; fail as libvirt does if QEMU hangs up."""
        mon = cls(vm_name, callbacks)
        try:
            await asyncio.wait_for(mon._client.connect(path), timeout)
        except (TimeoutError, ConnectError, OSError) as err:
            raise MonitorError(f"QEMU unexpectedly closed the monitor (vm='{vm_name}'): "
                               f"{_root_cause(err)}") from err
        mon._pump = asyncio.create_task(mon._pump_events(), name=f"qmp-events-{vm_name}")
        mon._watch = asyncio.create_task(mon._watch_eof(), name=f"qmp-eof-{vm_name}")
        return mon

    @property
    def connected(self) -> bool:
        return self._client.runstate == Runstate.RUNNING and not self._eof

    async def close(self) -> None:
        """Disconnect. QEMU hanging up is an expected end (the driver learns of it from
        on_eof); any other error that ended the reader or writer surfaces here."""
        self._closing = True
        for task in (self._watch, self._pump):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self._client.disconnect()
        except (EOFError, ConnectionError):
            pass
        except QMPError as err:
            raise MonitorError(f"QEMU monitor of vm '{self.vm_name}' failed: {err}") from err

    async def drain(self, timeout: float) -> None:
        """Once QEMU is gone: until every event it sent before hanging up is handled (the
        pump ends at the EOF mark), so none is lost to a close() that follows."""
        if self._pump is not None and self._pump is not asyncio.current_task():
            await asyncio.wait({self._pump}, timeout=timeout)

    # The event pump and the EOF watch --------------------------------------------------

    async def _pump_events(self) -> None:
        while True:
            event = await self._listener.get()
            name = str(event["event"])
            if name == _EOF_MARK:
                break
            data = cast(Mapping[str, Any], event.get("data", {}))
            await self._dispatch(name, data, _timestamp(event.get("timestamp")))
        handler = getattr(self.callbacks, EOF_HANDLER, None)
        if handler is not None:
            result = handler(self)
            if result is not None:
                await result

    async def _dispatch(self, name: str, data: Mapping[str, Any], when: float) -> None:
        handler_name = EVENTS.get(name)
        handler = getattr(self.callbacks, handler_name, None) if handler_name else None
        if handler is None:
            return
        result = cast(EventHandler, handler)(self, data, when)
        if result is not None:
            await result

    async def _watch_eof(self) -> None:
        """Queue an end mark behind the events QEMU sent before hanging up (SHUTDOWN comes
        before the EOF of a guest that powered off), so the pump sees them in order."""
        while self._client.runstate == Runstate.RUNNING:
            await self._client.runstate_changed()
        if self._closing:
            return
        self._eof = True
        await self._listener.put(Message({"event": _EOF_MARK}))

    # Commands --------------------------------------------------------------------------

    async def _run(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        if self._eof:
            raise MonitorError(f"End of file from qemu monitor (vm='{self.vm_name}')")
        if self._commands is not None and command not in self._commands:
            raise MonitorError(f"QEMU does not support the '{command}' command",
                               code=ErrorNumber.OPERATION_UNSUPPORTED,
                               sent={"execute": command})
        sent = {"execute": command, **({"arguments": dict(arguments)} if arguments else {})}
        try:
            return await self._client.execute(command, dict(arguments) if arguments else None)
        except ExecuteError as err:
            raise MonitorError(f"unable to execute QEMU command '{command}': {err}",
                               qmp_class=err.error_class, sent=sent) from err
        except ExecInterruptedError as err:
            raise MonitorError(f"End of file from qemu monitor (vm='{self.vm_name}')",
                               sent=sent) from err
        except StateError as err:
            raise MonitorError(f"QEMU monitor is {err.state.name.lower()}, "
                               f"not {err.required.name.lower()} (vm='{self.vm_name}')",
                               sent=sent) from err

    async def execute(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """Any command without a typed method of its own; the reply's "return" as JSON data."""
        return await self._run(command, arguments)

    def send_fd(self, fd: int) -> None:
        """A descriptor for the next getfd (SCM_RIGHTS on the monitor socket)."""
        self._client.send_fd_scm(fd)

    async def load_commands(self) -> frozenset[str]:
        """query-commands once; afterwards a command QEMU lacks fails before it is sent."""
        if self._commands is None:
            self._commands = frozenset(await self.query_commands())
        return self._commands

    async def cont(self) -> None:
        await self._run("cont")

    async def stop(self) -> None:
        await self._run("stop")

    async def system_powerdown(self) -> None:
        await self._run("system_powerdown")

    async def system_reset(self) -> None:
        await self._run("system_reset")

    async def quit(self) -> None:
        await self._run("quit")

    async def set_action(self, *, reboot: str | None = None, shutdown: str | None = None,
                         panic: str | None = None, watchdog: str | None = None) -> None:
        """set-action: what QEMU itself does on a guest reboot, poweroff, panic, watchdog."""
        args = {k: v for k, v in (("reboot", reboot), ("shutdown", shutdown), ("panic", panic),
                                  ("watchdog", watchdog)) if v is not None}
        await self._run("set-action", args)

    async def query_status(self) -> RunStatus:
        reply = await self._run("query-status")
        return RunStatus(running=bool(reply["running"]), status=str(reply["status"]))

    async def query_chardev(self) -> list[ChardevInfo]:
        return [ChardevInfo(label=str(c["label"]), filename=str(c["filename"]),
                            frontend_open=bool(c.get("frontend-open", False)))
                for c in await self._run("query-chardev")]

    async def query_machines(self) -> list[MachineInfo]:
        return [MachineInfo(name=str(m["name"]), alias=m.get("alias"),
                            is_default=bool(m.get("is-default", False)),
                            cpu_max=int(m.get("cpu-max", 1)),
                            hotpluggable_cpus=bool(m.get("hotpluggable-cpus", False)),
                            deprecated=bool(m.get("deprecated", False)),
                            default_cpu_type=m.get("default-cpu-type"),
                            default_ram_id=m.get("default-ram-id"))
                for m in await self._run("query-machines")]

    async def query_cpu_definitions(self) -> list[CpuDefinition]:
        return [CpuDefinition(name=str(c["name"]), typename=str(c.get("typename", "")),
                              migration_safe=bool(c.get("migration-safe", False)),
                              static=bool(c.get("static", False)),
                              unavailable_features=tuple(c.get("unavailable-features", ())),
                              deprecated=bool(c.get("deprecated", False)))
                for c in await self._run("query-cpu-definitions")]

    async def query_kvm(self) -> KvmInfo:
        reply = await self._run("query-kvm")
        return KvmInfo(enabled=bool(reply["enabled"]), present=bool(reply["present"]))

    async def qom_list_types(self, implements: str | None = None,
                             abstract: bool = False) -> list[str]:
        args: dict[str, Any] = {"abstract": abstract}
        if implements is not None:
            args["implements"] = implements
        return [str(t["name"]) for t in await self._run("qom-list-types", args)]

    async def query_commands(self) -> list[str]:
        return [str(c["name"]) for c in await self._run("query-commands")]

    async def query_version(self) -> Version:
        reply = await self._run("query-version")
        q = reply["qemu"]
        return Version(int(q["major"]), int(q["minor"]), int(q["micro"]),
                       str(reply.get("package", "")))

    async def query_target(self) -> str:
        return str((await self._run("query-target"))["arch"])

    async def human_monitor_command(self, command_line: str) -> str:
        return str(await self._run("human-monitor-command", {"command-line": command_line}))


def _timestamp(stamp: object) -> float:
    if isinstance(stamp, Mapping):
        return float(stamp.get("seconds", 0)) + float(stamp.get("microseconds", 0)) / 1e6
    return 0.0


def _root_cause(err: BaseException) -> str:
    inner = getattr(err, "exc", None)
    if isinstance(inner, BaseException):
        return _root_cause(inner)
    return str(err) or type(err).__name__
