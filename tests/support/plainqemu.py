"""The tiny guest under bare QEMU, with no qvirt in between.

Tests of the guest itself and ``make demo`` use it until the QEMU driver boots guests; the
benchmarks keep it as the bare-QEMU baseline. The serial console is a socket chardev with a
log file, so a test can both read every line the guest printed and type at its shell.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from qemu.qmp.legacy import QEMUMonitorProtocol
from qemu.qmp.protocol import ConnectError

QEMU = "qemu-system-x86_64"


class GuestTimeout(AssertionError):
    """The guest did not do what was awaited; the message ends with its console's last lines."""


class PlainGuest:
    """One QEMU process booting the image that ``qvirt-builder tiny`` wrote into ``image``."""

    def __init__(self, image: Path, work: Path, *, disk: Path | None = None,
                 nic: bool = True, agent: bool = True) -> None:
        self.image, self.work = image, work
        self.disk = disk if disk is not None else image / "disk.qcow2"
        self.nic, self.has_agent = nic, agent
        self.serial_log = work / "serial.log"
        self.serial_sock = work / "serial.sock"
        self.qmp_sock = work / "qmp.sock"
        self.qga_sock = work / "qga.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self._qmp: QEMUMonitorProtocol | None = None
        self._console: socket.socket | None = None

    def argv(self) -> list[str]:
        argv = [
            QEMU, "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-S",
            "-kernel", str(self.image / "vmlinuz"), "-initrd", str(self.image / "initrd.img"),
            "-append", "console=ttyS0 quiet",
            "-chardev", f"socket,id=serial0,path={self.serial_sock},server=on,wait=off,"
                        f"logfile={self.serial_log}",
            "-serial", "chardev:serial0",
            "-qmp", f"unix:{self.qmp_sock},server=on,wait=off",
            "-blockdev", f"driver=qcow2,node-name=disk0,file.driver=file,"
                         f"file.filename={self.disk}",
            "-device", "virtio-blk-pci,drive=disk0",
        ]
        if self.nic:
            argv += ["-netdev", "user,id=net0",
                     "-device", "virtio-net-pci,netdev=net0,romfile="]
        if self.has_agent:
            argv += ["-device", "virtio-serial-pci",
                     "-chardev", f"socket,id=qga0,path={self.qga_sock},server=on,wait=off",
                     "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]
        return argv

    def start(self) -> PlainGuest:
        """Launch QEMU paused (-S), connect QMP, then let the guest run."""
        self.work.mkdir(parents=True, exist_ok=True)
        for stale in (self.serial_sock, self.qmp_sock, self.qga_sock, self.serial_log):
            stale.unlink(missing_ok=True)
        with open(self.work / "qemu.log", "wb") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                qmp = QEMUMonitorProtocol(str(self.qmp_sock))
                qmp.connect()
                break
            except (ConnectError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (self.work / "qemu.log").read_text()
                    self.kill()
                    raise RuntimeError("QEMU did not start: " + log_text) from None
                time.sleep(0.01)
        self._qmp = qmp
        self.qmp("cont")
        return self

    def __enter__(self) -> PlainGuest:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()

    def kill(self) -> None:
        for closable in (self._qmp, self._console):
            if closable is not None:
                closable.close()
        self._qmp = self._console = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # The serial console -----------------------------------------------------------------

    def console_text(self) -> str:
        try:
            return self.serial_log.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern: str, timeout: float = 60, count: int = 1) -> list[re.Match[str]]:
        """Wait until ``pattern`` has matched ``count`` lines of the console; return the matches."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            matches = list(regex.finditer(self.console_text()))
            if len(matches) >= count:
                return matches
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                tail = "\n".join(self.console_text().splitlines()[-15:])
                raise GuestTimeout(f"{pattern!r} x{count} not seen; console ends:\n{tail}")
            time.sleep(0.05)

    def type(self, text: str) -> None:
        """Type at the shell on ttyS0."""
        if self._console is None:
            self._console = socket.socket(socket.AF_UNIX)
            self._console.connect(str(self.serial_sock))
        self._console.sendall(text.encode())

    # QMP and the guest agent ------------------------------------------------------------

    def qmp(self, command: str, **args: object) -> object:
        assert self._qmp is not None, "QMP is not connected"
        return self._qmp.cmd(command, **args)

    def events(self, wait: float = 0) -> list[dict[str, object]]:
        assert self._qmp is not None, "QMP is not connected"
        return list(self._qmp.get_events(wait=wait or False))

    def agent(self, command: str, timeout: float = 10, reply: bool = True,
              **args: object) -> object:
        """One qemu-ga command on a fresh connection, synced first as libvirt does.

        ``reply=False`` is for the commands that answer only on failure (guest-shutdown).
        """
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.qga_sock))
            sock.settimeout(timeout)
            stream = sock.makefile("rwb")
            token = int(time.monotonic() * 1000) % 2**31
            # 0xFF resets qemu-ga's parser after whatever a previous client left half-sent.
            stream.write(b"\xff")
            for message in ({"execute": "guest-sync-delimited", "arguments": {"id": token}},
                            {"execute": command, **({"arguments": args} if args else {})}):
                stream.write(json.dumps(message).encode() + b"\n")
                stream.flush()
                if not reply and message["execute"] == command:
                    return None
                while True:
                    line = stream.readline().lstrip(b"\xff")
                    if not line:
                        raise GuestTimeout(f"guest agent closed during {command}")
                    answer = json.loads(line)
                    synced = answer.get("return") == token
                    if message["execute"] != "guest-sync-delimited" or synced:
                        break
            if "error" in answer:
                raise RuntimeError(f"{command}: {answer['error']}")
            return answer["return"]

    def wait_agent(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.agent("guest-ping", timeout=2)
                return
            except (OSError, GuestTimeout, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def run(self, script: str, timeout: float = 30) -> tuple[int, str]:
        """Run a shell script in the guest through qemu-ga's guest-exec; (exit code, stdout)."""
        started = self.agent("guest-exec", path="/bin/sh", arg=["-c", script],
                             **{"capture-output": True})
        assert isinstance(started, dict)
        deadline = time.monotonic() + timeout
        while True:
            status = self.agent("guest-exec-status", pid=started["pid"])
            assert isinstance(status, dict)
            if status["exited"]:
                out = base64.b64decode(status.get("out-data", "")).decode()
                return int(status["exitcode"]), out
            if time.monotonic() > deadline:
                raise GuestTimeout(f"guest script still running: {script}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)
