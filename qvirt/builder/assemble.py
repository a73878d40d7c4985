"""Turning unpacked Debian packages into an initramfs: kernel modules and dynamic programs.

The two rules here are the ones a hand-made initramfs usually gets wrong: modules load in the
order their own ``depends=`` data dictates, and a program carries every shared library it
reaches (recursively, plus the dynamic loader), taken from the packages it depends on.
"""

from __future__ import annotations

import os
from pathlib import Path

from qvirt.builder.cpio import Archive
from qvirt.builder.elf import ELFFile

LIBDIR = "lib/x86_64-linux-gnu"
_SEARCH = (LIBDIR, "usr/" + LIBDIR, "lib64", "usr/lib64", "lib", "usr/lib")


class AssemblyError(RuntimeError):
    """A module or library the guest needs is not in the packages that should hold it."""


def resolve_in(root: Path, path: str) -> Path:
    """``path`` inside ``root`` with every symlink followed inside ``root``, never the host."""
    current = root
    parts = [p for p in path.split("/") if p]
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise AssemblyError(f"symlink loop at /{path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = root
            parts = [p for p in target.split("/") if p] + parts
            continue
        current = candidate
    return current


def module_order(kernel_root: Path, wanted: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Each wanted module and everything it depends on, dependencies first.

    Modules built into the kernel (listed in modules.builtin) need no loading and are left out.
    """
    (moddir,) = (kernel_root / "lib/modules").iterdir()
    files = {p.stem.replace("-", "_"): p for p in moddir.rglob("*.ko")}
    builtin_file = moddir / "modules.builtin"
    builtin = {
        Path(line).stem.replace("-", "_")
        for line in builtin_file.read_text().split()
    } if builtin_file.exists() else set()

    order: list[tuple[str, Path]] = []
    done: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        name = name.replace("-", "_")
        if name in done or name in builtin:
            return
        if name in chain:
            raise AssemblyError("module dependency loop: " + " -> ".join((*chain, name)))
        if name not in files:
            raise AssemblyError(f"kernel module {name} is in neither the kernel nor its package")
        depends = ELFFile(files[name]).modinfo().get("depends", "")
        for dep in filter(None, depends.split(",")):
            visit(dep, (*chain, name))
        done.add(name)
        order.append((name, files[name]))

    for module in wanted:
        visit(module, ())
    return order


def add_program(archive: Archive, root: Path, path: str) -> None:
    """Put the program at ``path`` in ``root`` into the archive with its loader and libraries."""
    program = resolve_in(root, path)
    if not program.is_file():
        raise AssemblyError(f"/{path} is not in its package")
    archive.add_file(path, program.read_bytes(), 0o755)
    pending = [(path, ELFFile(program))]
    while pending:
        owner, elf = pending.pop()
        interp = elf.interpreter()
        if interp and interp.lstrip("/") not in archive:
            loader = resolve_in(root, interp)
            if not loader.is_file():
                raise AssemblyError(f"/{owner} needs the loader {interp}, which is missing")
            archive.add_file(interp.lstrip("/"), loader.read_bytes(), 0o755)
        for soname in elf.needed():
            dest = f"{LIBDIR}/{soname}"
            if dest in archive:
                continue
            lib = next(
                (f for d in _SEARCH if (f := resolve_in(root, f"{d}/{soname}")).is_file()), None
            )
            if lib is None:
                raise AssemblyError(
                    f"/{owner} needs {soname}, which no package it depends on provides"
                )
            archive.add_file(dest, lib.read_bytes(), 0o755)
            pending.append((dest, ELFFile(lib)))
