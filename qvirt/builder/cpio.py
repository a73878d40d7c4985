"""A writer for the cpio "newc" format the Linux kernel unpacks as an initramfs.

Entries are built in memory from a description of the tree (not copied from a staging
directory), so the archive holds exactly the modes, owners and links the guest needs, whatever
the host's umask or user is.
"""

from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass, field


@dataclass
class Entry:
    path: str                 # relative to the guest's root, no leading slash
    mode: int                 # full st_mode: type bits and permissions
    data: bytes = b""         # file content, or a symlink's target
    rdev: tuple[int, int] = (0, 0)  # a device node's major and minor


@dataclass
class Archive:
    entries: dict[str, Entry] = field(default_factory=dict)

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in self.entries:
                self.entries[parent] = Entry(parent, stat.S_IFDIR | 0o755)

    def add_dir(self, path: str, perm: int = 0o755) -> None:
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFDIR | perm)

    def add_file(self, path: str, data: bytes, perm: int = 0o644) -> None:
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFREG | perm, data)

    def add_symlink(self, path: str, target: str) -> None:
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFLNK | 0o777, target.encode())

    def add_chardev(self, path: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._parents(path)
        self.entries[path] = Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))

    def __contains__(self, path: str) -> bool:
        return path in self.entries

    def pack(self) -> bytes:
        """The gzip-compressed archive: directories before their contents, then the trailer."""
        out = bytearray()
        for ino, path in enumerate(sorted(self.entries), start=1):
            _write(out, ino, self.entries[path])
        _write(out, 0, Entry("TRAILER!!!", 0))
        return gzip.compress(bytes(out), compresslevel=6, mtime=0)


def _write(out: bytearray, ino: int, entry: Entry) -> None:
    name = entry.path.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0, *entry.rdev, len(name), 0)
    out += b"070701" + b"".join(b"%08X" % f for f in fields)
    out += name
    out += b"\0" * (-len(out) % 4)
    out += entry.data
    out += b"\0" * (-len(out) % 4)
