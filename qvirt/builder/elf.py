"""Just enough of the ELF format to assemble a guest from Debian packages.

The builder needs three facts that live inside ELF files: the libraries a program was linked
against (DT_NEEDED), the dynamic loader it names (PT_INTERP), and a kernel module's
``.modinfo`` strings (its ``depends=`` line gives the load order). Reading them here keeps the
builder free of binutils and kmod, whose presence on the host would otherwise decide whether a
guest can be built.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_MAGIC = b"\x7fELF"
_PT_INTERP = 3
_SHT_DYNAMIC = 6
_DT_NULL, _DT_NEEDED, _DT_STRTAB = 0, 1, 5


class ELFError(ValueError):
    """The file is not a 64-bit little-endian ELF object, or its tables point outside it."""


@dataclass(frozen=True)
class _Section:
    name: str
    type: int
    addr: int
    offset: int
    size: int
    link: int


class ELFFile:
    """A parsed 64-bit little-endian ELF file, held in memory (guest programs are small)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = path.read_bytes()
        if self.data[:4] != _MAGIC or self.data[4] != 2 or self.data[5] != 1:
            raise ELFError(f"{path}: not a 64-bit little-endian ELF file")
        (self._phoff, self._shoff) = struct.unpack_from("<QQ", self.data, 0x20)
        (self._phentsize, self._phnum, self._shentsize, self._shnum, self._shstrndx) = (
            struct.unpack_from("<HHHHH", self.data, 0x36)
        )
        self.sections = self._read_sections()

    def _read_sections(self) -> list[_Section]:
        raw = []
        for i in range(self._shnum):
            off = self._shoff + i * self._shentsize
            if off + 64 > len(self.data):
                raise ELFError(f"{self.path}: section header {i} lies outside the file")
            name, stype, _flags, addr, offset, size, link = struct.unpack_from(
                "<IIQQQQI", self.data, off
            )
            raw.append((name, stype, addr, offset, size, link))
        if not raw:
            return []
        names_off = raw[self._shstrndx][3]
        return [
            _Section(self._cstring(names_off + n), t, a, o, s, lk) for n, t, a, o, s, lk in raw
        ]

    def _cstring(self, offset: int) -> str:
        end = self.data.find(b"\0", offset)
        if offset >= len(self.data) or end < 0:
            raise ELFError(f"{self.path}: string at {offset} lies outside the file")
        return self.data[offset:end].decode("utf-8", "replace")

    def section(self, name: str) -> bytes | None:
        for s in self.sections:
            if s.name == name:
                return self.data[s.offset : s.offset + s.size]
        return None

    def interpreter(self) -> str | None:
        """The dynamic loader's path, or None for a static program."""
        for i in range(self._phnum):
            ptype, _flags, offset, _vaddr, _paddr, filesz = struct.unpack_from(
                "<IIQQQQ", self.data, self._phoff + i * self._phentsize
            )
            if ptype == _PT_INTERP:
                return self.data[offset : offset + filesz].rstrip(b"\0").decode()
        return None

    def needed(self) -> list[str]:
        """The sonames in DT_NEEDED, in link order."""
        dynamic = next((s for s in self.sections if s.type == _SHT_DYNAMIC), None)
        if dynamic is None:
            return []
        strtab = self.sections[dynamic.link].offset
        names = []
        for off in range(dynamic.offset, dynamic.offset + dynamic.size, 16):
            tag, value = struct.unpack_from("<qQ", self.data, off)
            if tag == _DT_NULL:
                break
            if tag == _DT_NEEDED:
                names.append(self._cstring(strtab + value))
        return names

    def modinfo(self) -> dict[str, str]:
        """A kernel module's ``.modinfo`` key=value strings (the last value of a repeated key)."""
        raw = self.section(".modinfo")
        if raw is None:
            raise ELFError(f"{self.path}: no .modinfo section; not a kernel module")
        info = {}
        for entry in raw.split(b"\0"):
            key, sep, value = entry.decode("utf-8", "replace").partition("=")
            if sep:
                info[key] = value
        return info
