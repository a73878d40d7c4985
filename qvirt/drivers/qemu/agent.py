"""The guest agent client: qemu-ga over the org.qemu.guest_agent.0 channel's unix socket.

qemu-ga speaks QMP without a greeting, to whoever holds the socket, and keeps no notion of
sessions: a reply to a command someone else sent, or one that timed out, may still be in the
pipe. So every command is preceded, as libvirt's qemu_agent.c does it, by a 0xFF byte (which
resets qemu-ga's JSON parser) and guest-sync-delimited with a fresh random id; lines are read
and dropped until the echo of that id arrives, then the command is sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qvirt.drivers.qemu.paths import reachable
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# Seconds: libvirt's VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT for sync, and its agent timeout.
SYNC_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0
# guest-shutdown answers only when it fails: a guest going down shows up as the channel
# closing or the driver's own SHUTDOWN/RESET event, whichever comes first.
SHUTDOWN_MODES = ("powerdown", "reboot", "halt")

# qemuAgentStringifyErrorClass: the text for an error without a "desc".
_CLASS_TEXT = {
    "BufferOverrun": "Buffer overrun",
    "CommandDisabled": "The command has been disabled for this instance",
    "CommandNotFound": "The command has not been found",
    "FdNotFound": "File descriptor not found",
    "InvalidParameter": "Invalid parameter",
    "InvalidParameterType": "Invalid parameter type",
    "InvalidParameterValue": "Invalid parameter value",
    "OpenFileFailed": "Cannot open file",
    "QgaCommandFailed": "Guest agent command failed",
    "QMPBadInputObjectMember": "Bad QMP input object member",
    "QMPExtraInputObjectMember": "Unexpected extra object member",
    "UndefinedError": "An undefined error has occurred",
    "Unsupported": "this feature or command is not currently supported",
}


class AgentError(QvirtError):
    """A guest agent failure, with the agent's error class when it answered one."""

    code = ErrorNumber.INTERNAL_ERROR
    domain = ErrorDomain.QEMU

    def __init__(self, detail: str, *, code: int | None = None,
                 agent_class: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.agent_class = agent_class


def unresponsive(detail: str) -> AgentError:
    return AgentError(detail, code=ErrorNumber.AGENT_UNRESPONSIVE)


@dataclass(frozen=True)
class ExecStatus:
    """guest-exec-status: whether the process ended, its exit code and captured output."""

    exited: bool
    exitcode: int | None
    signal: int | None
    out: bytes
    err: bytes


class GuestAgent:
    """One domain's agent channel; commands are serialised, the connection is kept open."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            try:
                with reachable(Path(self.path)) as address:
                    self._reader, self._writer = await asyncio.open_unix_connection(address)
            except OSError as err:
                raise unresponsive("QEMU guest agent is not connected") from err
        return self._reader, self._writer

    async def _read_reply(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        while True:
            line = await reader.readline()
            if not line:
                raise unresponsive("Guest agent disappeared while executing command")
            text = line.lstrip(b"\xff").strip()
            if not text:
                continue
            try:
                reply = json.loads(text)
            except ValueError:
                continue  # a fragment left by an earlier client: the sync skips it
            if isinstance(reply, dict):
                return reply

    async def _sync(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        token = secrets.randbelow(2**53)
        writer.write(b"\xff" + _encode("guest-sync-delimited", {"id": token}))
        await writer.drain()
        while True:
            reply = await self._read_reply(reader)
            if reply.get("return") == token:
                return

    async def command(self, name: str, arguments: Mapping[str, Any] | None = None, *,
                      timeout: float = COMMAND_TIMEOUT,
                      until: asyncio.Event | None = None) -> Any:
        """Run one agent command; its "return".

        ``until`` is for commands that answer only on failure: when it is set (the driver saw
        the guest go down) or the channel closes, the command has succeeded.
        """
        async with self._lock:
            try:
                reader, writer = await self._connect()
                try:
                    await asyncio.wait_for(self._sync(reader, writer), SYNC_TIMEOUT)
                except TimeoutError as err:
                    raise unresponsive("Guest agent not available for now") from err
                writer.write(_encode(name, arguments))
                await writer.drain()
                if until is None:
                    try:
                        reply = await asyncio.wait_for(self._read_reply(reader), timeout)
                    except TimeoutError as err:
                        raise unresponsive("Guest agent not available for now") from err
                else:
                    answer = await _reply_or_event(self._read_reply(reader), until, timeout)
                    if answer is None:
                        return None
                    reply = answer
            except (AgentError, OSError, ConnectionError) as err:
                await self.close()
                if isinstance(err, AgentError):
                    raise
                raise unresponsive("Guest agent disappeared while executing command") from err
        return _check(name, reply)

    async def ping(self, timeout: float = SYNC_TIMEOUT) -> None:
        await self.command("guest-ping", timeout=timeout)

    async def info(self) -> dict[str, Any]:
        return dict(await self.command("guest-info"))

    async def shutdown(self, mode: str, until: asyncio.Event,
                       timeout: float = COMMAND_TIMEOUT) -> None:
        if mode not in SHUTDOWN_MODES:
            raise AgentError(f"unknown shutdown mode '{mode}'", code=ErrorNumber.INVALID_ARG)
        await self.command("guest-shutdown", {"mode": mode}, timeout=timeout, until=until)

    async def exec(self, path: str, args: list[str], *, capture: bool = True) -> int:
        started = await self.command("guest-exec", {"path": path, "arg": args,
                                                    "capture-output": capture})
        return int(started["pid"])

    async def exec_status(self, pid: int) -> ExecStatus:
        s = await self.command("guest-exec-status", {"pid": pid})
        return ExecStatus(exited=bool(s["exited"]), exitcode=s.get("exitcode"),
                          signal=s.get("signal"),
                          out=base64.b64decode(s.get("out-data", "")),
                          err=base64.b64decode(s.get("err-data", "")))


def _encode(name: str, arguments: Mapping[str, Any] | None) -> bytes:
    msg: dict[str, Any] = {"execute": name}
    if arguments:
        msg["arguments"] = dict(arguments)
    return json.dumps(msg).encode() + b"\n"


def _check(name: str, reply: Mapping[str, Any]) -> Any:
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, Mapping):
            raise AgentError(f"unable to execute QEMU agent command '{name}'")
        klass = error.get("class")
        detail = error.get("desc") or _CLASS_TEXT.get(str(klass), klass) \
            or "unknown QEMU command error"
        raise AgentError(f"unable to execute QEMU agent command '{name}': {detail}",
                         agent_class=klass)
    if "return" not in reply:
        raise AgentError(f"unable to execute QEMU agent command '{name}'")
    return reply["return"]


async def _reply_or_event(read: Any, until: asyncio.Event,
                          timeout: float) -> dict[str, Any] | None:
    """The reply if one comes first; None if the event fires or the agent hangs up first."""
    reply_task: asyncio.Task[dict[str, Any]] = asyncio.ensure_future(read)
    event_task = asyncio.ensure_future(until.wait())
    try:
        done, _ = await asyncio.wait({reply_task, event_task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if reply_task in done:
            try:
                return reply_task.result()
            except AgentError:
                return None  # the channel closed: the guest is going down
        if event_task in done:
            return None
        raise unresponsive("Guest agent not available for now")
    finally:
        for task in (reply_task, event_task):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
