"""The daemon's pid file, held locked while it runs (src/util/virpidfile.c).

The lock, not the file's presence, says a daemon runs: a pid file left by a daemon that died
is taken over; one whose lock is held refuses the second daemon with libvirt's text, "Failed
to acquire pid file '/run/qvirt/qvirtd.pid': Resource temporarily unavailable".
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from qvirt.daemon.conffile import system_error


class PidFile:
    """An acquired pid file; release() unlinks it before dropping the lock, as libvirt does."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def acquire(cls, path: Path, pid: int) -> PidFile:
        while True:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as err:
                raise system_error(f"Failed to open pid file '{path}'", err) from err
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
            except OSError as err:
                os.close(fd)
                raise system_error(f"Failed to acquire pid file '{path}'", err) from err
            # The file we locked must still be the one at the path: a daemon releasing it
            # unlinks it first, and then we must lock the new one instead.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{pid}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)
