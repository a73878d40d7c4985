"""qvirt-builder as a user runs it: output, cache, and one clear line for each failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt.builder import BuilderError, build, default_cache, tiny

BUILDER = [sys.executable, "-m", "qvirt.cli.builder"]


def run_builder(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BUILDER, *args], capture_output=True, text=True, env=env, check=False)


def test_output_holds_kernel_initrd_blank_disk_and_domain(tiny_image: Path) -> None:
    assert sorted(p.name for p in tiny_image.iterdir()) == [
        "disk.qcow2", "initrd.img", "tiny.xml", "vmlinuz"]
    info = subprocess.run(["qemu-img", "info", "--output=json", str(tiny_image / "disk.qcow2")],
                          capture_output=True, text=True, check=True).stdout
    assert '"format": "qcow2"' in info
    xml = (tiny_image / "tiny.xml").read_text()
    assert "<domain type='qemu'>" in xml
    assert f"<kernel>{tiny_image}/vmlinuz</kernel>" in xml
    assert "name='org.qemu.guest_agent.0'" in xml


@pytest.mark.compat
def test_domain_xml_validates_against_libvirt_schema(tiny_image: Path) -> None:
    proc = subprocess.run(["virt-xml-validate", str(tiny_image / "tiny.xml"), "domain"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_kvm_flag_writes_a_kvm_domain(tiny_image: Path, tmp_path: Path) -> None:
    proc = run_builder("tiny", "--output", str(tmp_path / "out"), "--kvm")
    assert proc.returncode == 0, proc.stderr
    assert "<domain type='kvm'>" in (tmp_path / "out/tiny.xml").read_text()


def test_second_build_comes_from_the_cache_without_apt(tiny_image: Path, tmp_path: Path) -> None:
    # A PATH holding only qemu-img: any look-up, download or unpack would fail the build.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    qemu_img = shutil.which("qemu-img")
    assert qemu_img is not None
    (bin_dir / "qemu-img").symlink_to(qemu_img)
    env = {**os.environ, "PATH": str(bin_dir)}
    proc = run_builder("tiny", "--output", str(tmp_path / "again"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "again/initrd.img").read_bytes() == (tiny_image / "initrd.img").read_bytes()


def test_unknown_template_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    proc = run_builder("windows", "--output", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr == "qvirt-builder: error: unknown template 'windows' (available: tiny)\n"
    assert not (tmp_path / "out").exists()


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "ro"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], check=True)
    yield target
    subprocess.run(["umount", str(target)], check=True)


def test_unwritable_output_is_one_line_and_leaves_nothing(tiny_image: Path,
                                                          read_only_dir: Path) -> None:
    proc = run_builder("tiny", "--output", str(read_only_dir / "out"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("qvirt-builder: error: cannot write ")
    assert proc.stderr.endswith("Read-only file system\n")
    assert proc.stderr.count("\n") == 1
    assert list(read_only_dir.iterdir()) == []


def test_output_inside_a_file_is_refused(tiny_image: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run_builder("tiny", "--output", str(blocker / "out"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("qvirt-builder: error: cannot write ")
    assert proc.stderr.count("\n") == 1


def test_package_missing_from_the_mirror_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tiny, "PROGRAMS", (*tiny.PROGRAMS, ("qvirt-no-such-package", "bin/x")))
    with pytest.raises(BuilderError) as caught:
        build("tiny", tmp_path / "out", cache=default_cache())
    assert str(caught.value) == (
        "package not available from the host's apt sources: qvirt-no-such-package")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []
