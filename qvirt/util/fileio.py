"""Files that are either wholly old or wholly new: a crash never leaves half a document."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from qvirt.errors import ErrorNumber, QvirtError


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write ``path`` through ``path.new`` (libvirt's virFileRewrite): write, fsync, rename,
    fsync the directory. Failures carry libvirt's wording and leave no temporary behind."""
    blob = data.encode() if isinstance(data, str) else data
    temp = path.with_name(path.name + ".new")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    except OSError as err:
        raise QvirtError(f"Failed to create file '{temp}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR) from err
    try:
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        _fsync_dir(path.parent)
    except OSError as err:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise QvirtError(f"cannot write file '{path}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR) from err


def remove(path: Path) -> None:
    """Unlink if present, and make the removal durable."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:  # a name that long was never written
            return
        raise
    _fsync_dir(path.parent)
