"""Streams in the public API: the tiny guest's serial console through qvirtd (stream frames
over the remote protocol) and through the in-process QEMU driver (qemu:///embed, the pty read
directly): the guest's ticks, its shell, a command's answer, the finish. The remote stream's
errors are compared with python3-libvirt's against the same qvirtd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import qvirt
from tests.daemon.conftest import Daemon, guest_xml
from tests.support.oracle import SYSTEM_PYTHON

WAIT = 120.0  # ceiling for the guest's answers under TCG on a loaded host; never asserted


class Console:
    """A console stream read into a buffer; a watchdog aborts it if the guest stays silent
    (a blocked recv then fails rather than hangs the test)."""

    def __init__(self, dom: qvirt.virDomain, flags: int = 0) -> None:
        self.stream = dom.connect().newStream(0)
        assert dom.openConsole(None, self.stream, flags) == 0
        self.output = b""

    def wait_for(self, text: bytes, since: int = 0) -> None:
        watchdog = threading.Timer(WAIT, self.stream.abort)
        watchdog.start()
        try:
            while text not in self.output[since:]:
                got = self.stream.recv(4096)
                assert isinstance(got, bytes) and got, self.output[-600:]
                self.output += got
        finally:
            watchdog.cancel()

    def prompt(self) -> None:
        """Enter until the shell answers with its prompt."""
        self.wait_for(b"TINY-GUEST-TICK")
        mark = len(self.output)
        assert self.stream.send(b"\r") == 1
        self.wait_for(b"# ", since=mark)


def shell_session(dom: qvirt.virDomain) -> bytes:
    console = Console(dom)
    console.prompt()
    mark = len(console.output)
    command = b"echo hi-$((6*7))\r"
    assert console.stream.send(command) == len(command)
    console.wait_for(b"hi-42", since=mark + len(command))  # the answer, not the echo
    assert console.stream.finish() == 0
    return console.output


def start(conn: qvirt.virConnect, tiny_image: Path, work: Path, name: str) -> qvirt.virDomain:
    dom = conn.defineXML(guest_xml(tiny_image, work, name).read_text())
    dom.create()
    return dom


@pytest.mark.integration
def test_console_through_qvirtd(qvirtd: Daemon, tiny_image: Path, guest_dir: Path) -> None:
    conn = qvirt.open(qvirtd.uri)
    try:
        dom = start(conn, tiny_image, guest_dir / "g", f"qd5-{os.getpid()}-st")
        assert b"hi-42" in shell_session(dom)
        # The console is free again: a second session reaches the same shell.
        assert b"hi-42" in shell_session(dom)
        dom.destroy()
    finally:
        conn.close()


@pytest.mark.integration
def test_console_through_embed(tiny_image: Path, guest_dir: Path) -> None:
    conn = qvirt.open(f"qemu:///embed?root={guest_dir / 'root'}")
    try:
        dom = start(conn, tiny_image, guest_dir / "g", f"qd5-{os.getpid()}-emb")
        try:
            assert b"hi-42" in shell_session(dom)
            assert b"hi-42" in shell_session(dom)
        finally:
            dom.destroy()
    finally:
        conn.close()


# Run by python3-libvirt and by qvirt (argv[1] names the module): each step of a stream's life
# and misuse against one running guest, printed as JSON (a result, or the error's code, domain
# and message). Bytes read are left out: how the guest's output splits is not the API's.
SCRIPT = """
import importlib, json, sys
libvirt = importlib.import_module(sys.argv[1])
uri, name = sys.argv[2:]
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open(uri)
dom = conn.lookupByName(name)
out = []
def step(label, f):
    try:
        r = f()
        out.append([label, r if isinstance(r, int) else type(r).__name__])
    except libvirt.libvirtError as e:
        out.append([label, e.get_error_code(), e.get_error_domain(), e.get_error_message()])
def drain(st):
    while st.recv(65536):
        pass
st = conn.newStream(0)
for api in ("recv", "send", "finish", "abort"):
    step("unopened " + api, lambda: getattr(st, api)(*{"recv": [1], "send": [b"x"]}.get(api, [])))
step("open", lambda: dom.openConsole(None, st, 0))
step("recv", lambda: st.recv(1))
step("open again elsewhere", lambda: dom.openConsole(None, conn.newStream(0), 0))
step("no such device", lambda: dom.openConsole("nosuch0", conn.newStream(0), 0))
step("finish", st.finish)
for api in ("finish", "recv", "send", "abort"):
    step("finished " + api, lambda: getattr(st, api)(*{"recv": [1], "send": [b"x"]}.get(api, [])))
st = conn.newStream(0)
step("open", lambda: dom.openConsole(None, st, 0))
step("abort", st.abort)
for api in ("recv", "send", "finish", "abort"):
    step("aborted " + api, lambda: getattr(st, api)(*{"recv": [1], "send": [b"x"]}.get(api, [])))
first, second = conn.newStream(0), conn.newStream(0)
step("open", lambda: dom.openConsole(None, first, 0))
step("forced", lambda: dom.openConsole(None, second, libvirt.VIR_DOMAIN_CONSOLE_FORCE))
step("taken drain", lambda: drain(first))
step("taken send", lambda: first.send(b"x"))
step("taken abort", first.abort)
step("forced send", lambda: second.send(b"\\r"))
step("forced abort", second.abort)
step("event callback without a loop", lambda: conn.newStream(0).eventAddCallback(
    libvirt.VIR_STREAM_EVENT_READABLE, lambda *a: None, None))
ro = libvirt.openReadOnly(uri)
step("read-only", lambda: ro.lookupByName(name).openConsole(None, ro.newStream(0), 0))
step("other connection", lambda: dom.openConsole(None, ro.newStream(0), 0))
print(json.dumps(out))
"""


def stream_steps(python: str, module: str, uri: str, name: str) -> list[list[object]]:
    done = subprocess.run([python, "-c", SCRIPT, module, uri, name], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    steps: list[list[object]] = json.loads(done.stdout)
    return steps


@pytest.mark.integration
@pytest.mark.compat
def test_remote_stream_errors_match_libvirt(qvirtd: Daemon, tiny_image: Path,
                                            guest_dir: Path) -> None:
    name = f"qd5-{os.getpid()}-sterr"
    conn = qvirt.open(qvirtd.uri)
    try:
        start(conn, tiny_image, guest_dir / "g", name)
        have = stream_steps(sys.executable, "qvirt", qvirtd.uri, name)
        want = stream_steps(SYSTEM_PYTHON, "libvirt", qvirtd.uri, name)
    finally:
        conn.close()
    assert have == want
    assert ["taken drain", 39, 38, "stream had I/O failure"] in have
    assert ["finished recv", 9, 7, "operation failed: stream is closed"] in have
