"""The initramfs qvirt-builder writes, unpacked by GNU cpio and inspected file by file."""

from __future__ import annotations

import gzip
import stat
import subprocess
from pathlib import Path

import pytest

from qvirt.builder.cpio import Archive
from qvirt.builder.elf import ELFError, ELFFile


@pytest.fixture(scope="module")
def initramfs(tiny_image: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("initramfs")
    data = gzip.decompress((tiny_image / "initrd.img").read_bytes())
    subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], input=data,
                   cwd=root, check=True)
    return root


def test_init_is_busybox_init_reading_inittab(initramfs: Path) -> None:
    assert (initramfs / "init").readlink() == Path("bin/busybox")
    inittab = (initramfs / "etc/inittab").read_text()
    assert "::sysinit:/etc/rc.sysinit" in inittab
    assert "ttyS0::respawn:/sbin/getty" in inittab
    assert stat.S_ISCHR((initramfs / "dev/console").lstat().st_mode)


def test_modules_come_after_everything_they_depend_on(initramfs: Path) -> None:
    order = (initramfs / "etc/modules.order").read_text().split()
    for wanted in ("virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "button"):
        assert wanted in order
    assert order.index("virtio_ring") < order.index("virtio_pci")
    for position, name in enumerate(order):
        depends = ELFFile(initramfs / f"lib/modules/{name}.ko").modinfo()["depends"]
        for dep in filter(None, depends.split(",")):
            assert order.index(dep) < position, f"{name} loads before its dependency {dep}"


def test_every_program_finds_its_loader_and_libraries(initramfs: Path) -> None:
    programs = [initramfs / "usr/sbin/qemu-ga", initramfs / "sbin/mke2fs"]
    libs = sorted((initramfs / "lib/x86_64-linux-gnu").iterdir())
    assert {"libglib-2.0.so.0", "libc.so.6", "libext2fs.so.2"} <= {p.name for p in libs}
    for path in programs + libs:
        elf = ELFFile(path)
        interpreter = elf.interpreter()
        if interpreter:
            assert (initramfs / interpreter.lstrip("/")).is_file()
        for soname in elf.needed():
            assert (initramfs / "lib/x86_64-linux-gnu" / soname).is_file(), (path, soname)


def test_real_mke2fs_is_not_shadowed_by_the_busybox_applet(initramfs: Path) -> None:
    mke2fs = initramfs / "sbin/mke2fs"
    assert not mke2fs.is_symlink()
    assert "libext2fs.so.2" in ELFFile(mke2fs).needed()
    assert (initramfs / "etc/mke2fs.conf").is_file()


def test_archive_round_trips_through_gnu_cpio(tmp_path: Path) -> None:
    archive = Archive()
    archive.add_file("a/b/file", b"content\n", 0o640)
    archive.add_symlink("a/link", "b/file")
    archive.add_chardev("dev/null", 1, 3, 0o666)
    archive.add_dir("empty", 0o700)
    listing = subprocess.run(["cpio", "-tv", "--quiet"], input=gzip.decompress(archive.pack()),
                             capture_output=True, check=True).stdout.decode()
    lines = {line.split()[-1] if "->" not in line else line.split()[-3]: line
             for line in listing.splitlines()}
    assert lines["a/b/file"].startswith("-rw-r-----")
    assert lines["a"].startswith("drwxr-xr-x")
    assert lines["empty"].startswith("drwx------")
    assert lines["a/link"].startswith("lrwxrwxrwx") and lines["a/link"].endswith("-> b/file")
    assert lines["dev/null"].startswith("crw-rw-rw-") and "1,   3" in lines["dev/null"]


def test_non_elf_input_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "script"
    text.write_text("#!/bin/sh\n")
    with pytest.raises(ELFError, match="not a 64-bit little-endian ELF file"):
        ELFFile(text)
