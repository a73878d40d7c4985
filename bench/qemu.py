"""[qemu] rows: the tiny guest from start to running, and from destroy to shut off, under qvirt's
QEMU driver (qemu:///embed), real libvirtd (qemu:///system, through python3-libvirt in
Debian's python) and bare QEMU (-S, QMP, cont) side by side.

The harness times each call of a side's callable and calls it back to back, so the start row
starts a fresh guest on every call (each has its own overlay disk) and the destroy row
destroys them in turn; a side's guests accumulate while it is timed, the same for every side.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bench.harness import Row
from qvirt.builder import build
from qvirt.drivers.base import DomainRef
from qvirt.drivers.qemu.driver import QemuDriver
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd
from tests.support.plainqemu import PlainGuest

RUNS = 20
PREFIX = "qd-bench-"

# Runs in Debian's python3 (python3-libvirt): one command per stdin line, "ok" per answer.
LIBVIRT_HELPER = """
import sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open("qemu:///system")
doms = {}
for line in sys.stdin:
    op, name, *rest = line.split(" ", 2)
    if op == "define":
        doms[name] = conn.defineXML(rest[0].replace("\\\\n", "\\n"))
        print("ok", flush=True)
        continue
    dom = doms.get(name) or doms.setdefault(name, conn.lookupByName(name))
    if op == "start":
        dom.create()
    elif op == "destroy":
        dom.destroy()
    elif op == "undefine":
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    print("ok", flush=True)
"""


def _guest_xml(image: Path, work: Path, name: str) -> str:
    work.mkdir(parents=True, exist_ok=True)
    disk = work / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    str(image / "disk.qcow2"), str(disk)], check=True)
    xml = (image / "tiny.xml").read_text().replace(str(image / "disk.qcow2"), str(disk))
    return xml.replace("<name>tiny</name>", f"<name>{name}</name>")


class _Turns:
    """One side's guests: which run, and which the start and destroy rows take next."""

    def __init__(self, count: int, start: Callable[[int], object],
                 destroy: Callable[[int], object]) -> None:
        self.count, self._start, self._destroy = count, start, destroy
        self.running: set[int] = set()
        self.started = self.destroyed = 0

    def start(self) -> None:
        self._start(self.started)
        self.running.add(self.started)
        self.started += 1

    def destroy(self) -> None:
        self._destroy(self.destroyed)
        self.running.discard(self.destroyed)
        self.destroyed += 1

    def start_all(self) -> None:
        for i in range(self.count):
            if i not in self.running:
                self._start(i)
                self.running.add(i)

    def stop_all(self) -> None:
        for i in sorted(self.running):
            self._destroy(i)
        self.running.clear()


class Side(Protocol):
    turns: _Turns

    def close(self) -> None: ...


class QvirtSide:
    def __init__(self, image: Path, work: Path, count: int) -> None:
        root = work / "root"
        self.driver = QemuDriver(f"qemu:///embed?root={root}", root)
        self.refs: list[DomainRef] = [
            self.driver.domain_define_xml_flags(
                _guest_xml(image, work / f"g{i}", f"{PREFIX}q{i}"))
            for i in range(count)]
        self.turns = _Turns(count, self._start, self._destroy)

    def _start(self, i: int) -> None:
        self.driver.domain_create_with_flags(self.refs[i])

    def _destroy(self, i: int) -> None:
        self.driver.domain_destroy_flags(self.refs[i])

    def close(self) -> None:
        for ref in self.driver.connect_list_all_domains(1):
            self.driver.domain_destroy_flags(ref)
        self.driver.connect_close()


class LibvirtSide:
    """libvirtd through a python3-libvirt helper. This host's libvirtd sometimes crashes under
    load: the call is then retried once on a restarted daemon (its guests survive)."""

    def __init__(self, image: Path, work: Path, count: int) -> None:
        ensure_libvirtd()
        self.helper = self._spawn()
        self.names = [f"{PREFIX}l{i}" for i in range(count)]
        for i, name in enumerate(self.names):
            xml = _guest_xml(image, work / f"g{i}", name)
            self._ask("define", name, xml.replace("\n", "\\n"))
        self.turns = _Turns(count, lambda i: self._ask("start", self.names[i]),
                            lambda i: self._ask("destroy", self.names[i]))

    @staticmethod
    def _spawn() -> subprocess.Popen[str]:
        return subprocess.Popen([SYSTEM_PYTHON, "-c", LIBVIRT_HELPER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)

    def _ask(self, op: str, name: str, arg: str = "", retry: bool = True) -> None:
        assert self.helper.stdin is not None and self.helper.stdout is not None
        try:
            self.helper.stdin.write(f"{op} {name} {arg}\n")
            self.helper.stdin.flush()
            answer = self.helper.stdout.readline().strip()
        except BrokenPipeError:
            answer = ""
        if answer == "ok":
            return
        if not retry:
            raise RuntimeError(f"libvirt helper: {op} {name}: {answer or 'died'}")
        self.helper.kill()
        self.helper.wait()
        ensure_libvirtd()
        self.helper = self._spawn()
        self._ask(op, name, arg, retry=False)

    def close(self) -> None:
        for name in self.names:
            self._ask("undefine", name)
        assert self.helper.stdin is not None
        self.helper.stdin.close()
        self.helper.wait()


class BareSide:
    def __init__(self, image: Path, work: Path, count: int) -> None:
        self.guests = [PlainGuest(image, work / f"g{i}", disk=self._overlay(image, work, i),
                                  agent=False)
                       for i in range(count)]
        self.turns = _Turns(count, lambda i: self.guests[i].start(),
                            lambda i: self.guests[i].kill())

    @staticmethod
    def _overlay(image: Path, work: Path, i: int) -> Path:
        disk = work / f"g{i}" / "disk.qcow2"
        disk.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                        str(image / "disk.qcow2"), str(disk)], check=True)
        return disk

    def close(self) -> None:
        for guest in self.guests:
            guest.kill()


def rows() -> list[Row]:
    """Both rows share the guests; a side's resources go with its last destroy call."""
    # libvirtd runs QEMU as its own user: the image and overlays live where it can read.
    work = Path(tempfile.mkdtemp(prefix="qd-bench-", dir="/var/tmp"))
    work.chmod(0o755)
    image = work / "image"
    build("tiny", image)
    for path in image.iterdir():
        path.chmod(0o644)
    count = RUNS + 1
    sides: dict[str, Side] = {"qvirt": QvirtSide(image, work / "qvirt", count),
             "libvirtd": LibvirtSide(image, work / "libvirt", count),
             "bare QEMU": BareSide(image, work / "bare", count)}
    for sub in work.rglob("*"):
        sub.chmod(0o777 if sub.is_dir() else 0o666)

    closed: set[str] = set()

    def close(name: str) -> None:
        if name not in closed:
            closed.add(name)
            sides[name].close()
        if len(closed) == len(sides):
            shutil.rmtree(work, ignore_errors=True)

    def close_all() -> None:
        # Also when the table run fails half-way: no guest outlives the benchmark.
        for name in sides:
            with contextlib.suppress(Exception):
                close(name)

    atexit.register(close_all)

    def alone(name: str) -> None:
        for other, side in sides.items():
            if other != name:
                side.turns.stop_all()

    # Each side's first call is the harness's untimed warm-up: it clears the machine of the
    # other sides' guests, so every side is timed beside only its own.
    def start_call(name: str) -> Callable[[], None]:
        turns = sides[name].turns

        def call() -> None:
            if turns.started == 0:
                alone(name)
            turns.start()
        return call

    def destroy_call(name: str) -> Callable[[], None]:
        turns = sides[name].turns

        def call() -> None:
            if turns.destroyed == 0:
                alone(name)
                turns.start_all()
            turns.destroy()
            if turns.destroyed == turns.count:
                close(name)
        return call

    return [
        Row("qemu: tiny guest start to running", "ms", RUNS,
            {name: start_call(name) for name in sides}, goal="<= 2x bare QEMU"),
        Row("qemu: tiny guest destroy to shut off", "ms", RUNS,
            {name: destroy_call(name) for name in sides}, goal="< 100 ms"),
    ]


if __name__ == "__main__":
    from bench import harness
    print(harness.run(rows()))
