"""QemuMonitor against a fake QMP server fed (expected command, canned reply) pairs.

The server fails the test on any command it was not told to expect, as libvirt's
qemumonitortestutils.c does; events can be sent before a reply to check none is lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from qvirt.drivers.qemu.monitor import ChardevInfo, MonitorError, QemuMonitor, RunStatus
from qvirt.errors import ErrorDomain, ErrorNumber

GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""},
                    "capabilities": ["oob"]}}


class Step:
    """One expected command and what the server answers: events first, then the reply."""

    def __init__(self, command: str, reply: Any = None, *, error: tuple[str, str] | None = None,
                 events: tuple[str, ...] = (), hang_up: bool = False, garbage: bool = False,
                 arguments: Mapping[str, Any] | None = None) -> None:
        self.command, self.reply, self.error = command, reply, error
        self.events, self.hang_up, self.arguments = events, hang_up, arguments
        self.garbage = garbage


class JsonStream:
    """QMP clients need not end a command with a newline: split the stream by JSON values."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader, self.buf = reader, ""
        self.decoder = json.JSONDecoder()

    async def next(self) -> dict[str, Any] | None:
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    value, end = self.decoder.raw_decode(text)
                except json.JSONDecodeError:
                    pass
                else:
                    self.buf = text[end:]
                    return dict(value)
            chunk = await self.reader.read(4096)
            if not chunk:
                return None
            self.buf += chunk.decode()


class FakeQmp:
    def __init__(self, path: Path, steps: list[Step]) -> None:
        self.path, self.steps = path, list(steps)
        self.failures: list[str] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _send(self, writer: asyncio.StreamWriter, msg: Mapping[str, Any]) -> None:
        writer.write(json.dumps(msg).encode() + b"\r\n")
        await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._send(writer, GREETING)
        steps = [Step("qmp_capabilities", {}), *self.steps]
        stream = JsonStream(reader)
        for step in steps:
            msg = await stream.next()
            if msg is None:
                self.failures.append(f"client hung up before {step.command}")
                break
            if msg.get("execute") != step.command:
                self.failures.append(f"expected {step.command}, got {msg}")
                break
            if step.arguments is not None and msg.get("arguments") != step.arguments:
                self.failures.append(f"{step.command}: arguments {msg.get('arguments')}")
            for n, name in enumerate(step.events):
                await self._send(writer, {"event": name, "data": {"n": n},
                                          "timestamp": {"seconds": 10, "microseconds": n}})
            if step.hang_up:
                break
            if step.garbage:
                # An error without an id answers nothing: QEMU's parser failed.
                await self._send(writer, {"error": {"class": "GenericError", "desc": "bad"}})
                await reader.read()
                break
            if step.error is not None:
                answer: dict[str, Any] = {"error": {"class": step.error[0],
                                                    "desc": step.error[1]}}
            else:
                answer = {"return": step.reply if step.reply is not None else {}}
            if "id" in msg:
                answer["id"] = msg["id"]
            await self._send(writer, answer)
        else:
            await reader.read()
        writer.close()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.eof = asyncio.Event()

    def on_stop(self, mon: QemuMonitor, data: Mapping[str, Any], when: float) -> None:
        self.seen.append(("STOP", data["n"]))

    async def on_resume(self, mon: QemuMonitor, data: Mapping[str, Any], when: float) -> None:
        self.seen.append(("RESUME", data["n"]))

    def on_shutdown(self, mon: QemuMonitor, data: Mapping[str, Any], when: float) -> None:
        self.seen.append(("SHUTDOWN", when))

    def on_eof(self, mon: QemuMonitor) -> None:
        self.seen.append(("EOF", None))
        self.eof.set()


def run_session(tmp_path: Path, steps: list[Step], body: Any) -> tuple[FakeQmp, Recorder]:
    async def main() -> tuple[FakeQmp, Recorder]:
        server = FakeQmp(tmp_path / "qmp.sock", steps)
        await server.start()
        rec = Recorder()
        mon = await QemuMonitor.connect(str(server.path), "vm1", rec)
        try:
            await body(mon, rec)
        finally:
            await mon.close()
            await server.stop()
        return server, rec

    server, rec = asyncio.run(main())
    assert server.failures == []
    return server, rec


def test_typed_replies(tmp_path: Path) -> None:
    async def body(mon: QemuMonitor, rec: Recorder) -> None:
        assert await mon.query_status() == RunStatus(running=False, status="prelaunch")
        chardevs = await mon.query_chardev()
        assert chardevs == [ChardevInfo("charserial0", "pty:/dev/pts/7", True)]
        assert chardevs[0].pty_path == "/dev/pts/7"
        assert (await mon.query_version()).number == 7_002_000
        await mon.cont()

    run_session(tmp_path, [
        Step("query-status", {"running": False, "status": "prelaunch", "singlestep": False}),
        Step("query-chardev", [{"label": "charserial0", "filename": "pty:/dev/pts/7",
                                "frontend-open": True}]),
        Step("query-version", {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "x"}),
        Step("cont"),
    ], body)


def test_error_keeps_class_and_command(tmp_path: Path) -> None:
    async def body(mon: QemuMonitor, rec: Recorder) -> None:
        with pytest.raises(MonitorError) as caught:
            await mon.execute("device_del", {"id": "net9"})
        err = caught.value
        assert err.message == ("internal error: unable to execute QEMU command 'device_del': "
                               "Device 'net9' not found")
        assert err.code == ErrorNumber.INTERNAL_ERROR and err.domain == ErrorDomain.QEMU
        assert err.qmp_class == "DeviceNotFound"
        assert err.sent == {"execute": "device_del", "arguments": {"id": "net9"}}

    run_session(tmp_path, [Step("device_del", error=("DeviceNotFound", "Device 'net9' not found"),
                                arguments={"id": "net9"})], body)


def test_events_arrive_in_order_while_a_reply_is_awaited(tmp_path: Path) -> None:
    async def body(mon: QemuMonitor, rec: Recorder) -> None:
        await mon.stop()
        await mon.cont()
        for _ in range(100):
            if len(rec.seen) == 4:
                break
            await asyncio.sleep(0.01)

    _, rec = run_session(tmp_path, [
        Step("stop", events=("STOP", "RESUME")),
        Step("cont", events=("RESUME", "NOT_IN_TABLE", "STOP")),
    ], body)
    assert rec.seen == [("STOP", 0), ("RESUME", 1), ("RESUME", 0), ("STOP", 2)]


def test_hang_up_interrupts_the_command_and_reports_eof_after_events(tmp_path: Path) -> None:
    async def body(mon: QemuMonitor, rec: Recorder) -> None:
        with pytest.raises(MonitorError) as caught:
            await mon.quit()
        assert caught.value.message == "internal error: End of file from qemu monitor (vm='vm1')"
        await asyncio.wait_for(rec.eof.wait(), 10)
        with pytest.raises(MonitorError, match="End of file"):
            await mon.cont()
        assert not mon.connected

    _, rec = run_session(tmp_path, [Step("quit", events=("SHUTDOWN",), hang_up=True)], body)
    assert rec.seen == [("SHUTDOWN", 10.0), ("EOF", None)]


def test_command_qemu_lacks_fails_before_sending(tmp_path: Path) -> None:
    async def body(mon: QemuMonitor, rec: Recorder) -> None:
        assert await mon.load_commands() == {"cont", "query-commands"}
        with pytest.raises(MonitorError) as caught:
            await mon.stop()
        assert caught.value.code == ErrorNumber.OPERATION_UNSUPPORTED
        await mon.cont()

    run_session(tmp_path, [Step("query-commands", [{"name": "cont"}, {"name": "query-commands"}]),
                           Step("cont")], body)


def test_connect_to_nothing_fails_with_libvirt_error(tmp_path: Path) -> None:
    with pytest.raises(MonitorError) as caught:
        asyncio.run(QemuMonitor.connect(str(tmp_path / "absent.sock"), "vm1"))
    assert caught.value.message.startswith(
        "internal error: QEMU unexpectedly closed the monitor (vm='vm1'): ")


def test_protocol_error_ends_the_connection_and_surfaces_from_close(tmp_path: Path) -> None:
    async def main() -> None:
        server = FakeQmp(tmp_path / "qmp.sock", [Step("cont", garbage=True)])
        await server.start()
        rec = Recorder()
        mon = await QemuMonitor.connect(str(server.path), "vm1", rec)
        with pytest.raises(MonitorError, match="End of file"):
            await mon.cont()
        await asyncio.wait_for(rec.eof.wait(), 10)
        with pytest.raises(MonitorError) as caught:
            await mon.close()
        assert caught.value.message.startswith("internal error: QEMU monitor of vm 'vm1' failed")
        await server.stop()
        assert server.failures == []

    asyncio.run(main())
