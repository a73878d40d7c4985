"""Network namespaces for the network tests: the test's thread enters one (so the drivers it
opens, their threads and the processes they start all live there), and every namespace is
deleted afterwards, whatever happened."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def ip(*args: str, ns: str | None = None, check: bool = True) -> str:
    argv = ["ip", *(("-n", ns) if ns else ()), *args]
    return subprocess.run(argv, check=check, capture_output=True, text=True).stdout


def new_name(tag: str) -> str:
    return f"qvt-{tag}-{uuid.uuid4().hex[:6]}"


def pids_in(ns: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                          check=False)
    return [int(p) for p in done.stdout.split()]


@contextlib.contextmanager
def namespaces(*tags: str) -> Iterator[list[str]]:
    """Fresh namespaces with loopback up, deleted (their processes killed) afterwards."""
    names = [new_name(tag) for tag in tags]
    try:
        for name in names:
            ip("netns", "add", name)
            ip("link", "set", "lo", "up", ns=name)
        yield names
    finally:
        for name in names:
            for pid in pids_in(name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            ip("netns", "del", name, check=False)


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """The calling thread inside namespace ``name`` until the block ends."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(Path("/run/netns") / name, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
