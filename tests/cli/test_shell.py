"""`qvirt` alone is virsh's interactive shell: on a terminal it greets, prompts "virsh # ",
runs what it reads with the same grammar, and ends on quit (or at end of input)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

QVIRT = str(Path(sys.executable).with_name("qvirt"))


def _read_until(fd: int, marker: bytes, seen: bytearray) -> bytes:
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, f"no {marker!r} in {bytes(seen)!r}"
        seen += os.read(fd, 4096)
    head, _, rest = bytes(seen).partition(marker)
    seen[:] = rest
    return head + marker


def test_shell_prompt_command_quit() -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([QVIRT, "-c", "test:///default"], stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    seen = bytearray()
    try:
        banner = _read_until(leader, b"virsh # ", seen)
        assert b"Welcome to qvirt, the virtualization interactive terminal." in banner
        assert b"Type:  'help' for help with commands" in banner
        os.write(leader, b"domstate --reason test; domid test\n")
        answer = _read_until(leader, b"virsh # ", seen)
        assert b"running (unknown)\r\n\r\n1\r\n\r\n" in answer
        os.write(leader, b"nosuch\n")
        assert b"error: unknown command: 'nosuch'" in _read_until(leader, b"virsh # ", seen)
        os.write(leader, b"quit\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)


def test_shell_reads_a_pipe_to_its_end() -> None:
    proc = subprocess.run([QVIRT, "-c", "test:///default"], input="uri\n", text=True,
                          capture_output=True, check=False, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.endswith("virsh # test:///default\n\nvirsh # \n")
