"""GuestAgent against a fake qemu-ga on a unix socket: the 0xFF reset and guest-sync-delimited
before every command, stale replies skipped, libvirt's error texts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qvirt.drivers.qemu.agent import AgentError, GuestAgent
from qvirt.errors import ErrorNumber

Answer = Callable[[dict[str, Any]], list[bytes] | None]


class FakeGa:
    """Answers each command line with what ``answer`` returns (None: stay silent)."""

    def __init__(self, path: Path, answer: Answer) -> None:
        self.path, self.answer = path, answer
        self.received: list[bytes] = []
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> FakeGa:
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            self.received.append(line)
            replies = self.answer(json.loads(line.lstrip(b"\xff")))
            if replies is None:
                continue
            for reply in replies:
                writer.write(reply)
            await writer.drain()
        writer.close()


def well_behaved(cmd: dict[str, Any]) -> list[bytes] | None:
    if cmd["execute"] == "guest-sync-delimited":
        # A reply left over from an earlier client comes first; the sync skips it.
        return [b'{"return": {"stale": true}}\n',
                b"\xff" + json.dumps({"return": cmd["arguments"]["id"]}).encode() + b"\n"]
    if cmd["execute"] == "guest-info":
        return [b'{"return": {"version": "7.2.0"}}\n']
    if cmd["execute"] == "guest-exec":
        return [b'{"error": {"class": "GenericError", "desc": "Failed to execute child"}}\n']
    if cmd["execute"] == "guest-fsfreeze-thaw":
        return [b'{"error": {"class": "CommandNotFound"}}\n']
    return None


def test_sync_then_command(tmp_path: Path) -> None:
    async def main() -> None:
        async with FakeGa(tmp_path / "ga.sock", well_behaved) as ga:
            agent = GuestAgent(str(ga.path))
            assert await agent.info() == {"version": "7.2.0"}
            assert await agent.info() == {"version": "7.2.0"}
            await agent.close()
            syncs = [line for line in ga.received if b"guest-sync-delimited" in line]
            assert len(syncs) == 2 and all(line.startswith(b"\xff") for line in syncs)
            ids = {json.loads(line[1:])["arguments"]["id"] for line in syncs}
            assert len(ids) == 2

    asyncio.run(main())


def test_errors_use_libvirt_texts(tmp_path: Path) -> None:
    async def main() -> None:
        async with FakeGa(tmp_path / "ga.sock", well_behaved) as ga:
            agent = GuestAgent(str(ga.path))
            with pytest.raises(AgentError) as caught:
                await agent.exec("/bin/nothing", [])
            assert caught.value.message == ("internal error: unable to execute QEMU agent "
                                            "command 'guest-exec': Failed to execute child")
            assert caught.value.agent_class == "GenericError"
            with pytest.raises(AgentError) as caught:
                await agent.command("guest-fsfreeze-thaw")
            assert caught.value.message.endswith(": The command has not been found")
            await agent.close()

    asyncio.run(main())


def test_silent_agent_is_unresponsive(tmp_path: Path) -> None:
    async def main() -> None:
        async with FakeGa(tmp_path / "ga.sock", well_behaved) as ga:
            agent = GuestAgent(str(ga.path))
            with pytest.raises(AgentError) as caught:
                await agent.command("guest-ping", timeout=0.2)
            assert caught.value.code == ErrorNumber.AGENT_UNRESPONSIVE
            assert caught.value.message == ("Guest agent is not responding: "
                                            "Guest agent not available for now")
            await agent.close()

    asyncio.run(main())


def test_shutdown_succeeds_when_the_guest_goes_down(tmp_path: Path) -> None:
    async def main() -> None:
        async with FakeGa(tmp_path / "ga.sock", well_behaved) as ga:
            agent = GuestAgent(str(ga.path))
            down = asyncio.Event()
            asyncio.get_running_loop().call_later(0.05, down.set)
            await agent.shutdown("powerdown", down)
            assert json.loads(ga.received[-1]) == {"execute": "guest-shutdown",
                                                   "arguments": {"mode": "powerdown"}}
            await agent.close()

    asyncio.run(main())


def test_no_socket_means_not_connected(tmp_path: Path) -> None:
    agent = GuestAgent(str(tmp_path / "absent.sock"))
    with pytest.raises(AgentError) as caught:
        asyncio.run(agent.ping())
    assert caught.value.message == "Guest agent is not responding: QEMU guest agent is not " \
                                   "connected"
