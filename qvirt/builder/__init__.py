"""qvirt-builder: bootable guests made from Debian packages, as libguestfs's virt-builder makes
them from templates.

A build is cached under a key made of the source packages' versions and the builder's own
files, so asking again for the same guest only copies the cached kernel and initramfs.
Output appears whole or not at all: everything is staged beside the output directory first.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qvirt.builder import tiny
from qvirt.builder.assemble import AssemblyError
from qvirt.builder.debs import PackageError

TEMPLATES = ("tiny",)
_SOURCES = Path(__file__).parent


class BuilderError(RuntimeError):
    """A build that cannot be done: the message is the one line the user sees."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qvirt-builder"


@contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """One build at a time per cache (parallel test workers share one)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _image_key(versions: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(versions):
        digest.update(f"{name}={versions[name]}\n".encode())
    for f in sorted(_SOURCES.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            digest.update(str(f.relative_to(_SOURCES)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:24]


def _cached_images(cache: Path) -> Path:
    """The directory holding vmlinuz and initrd.img for the current packages, built if needed."""
    versions = tiny.source_packages(cache)
    images = cache / "images" / _image_key(versions)
    if not (images / "initrd.img").exists():
        images.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=images.parent) as tmp:
            work = Path(tmp) / "out"
            work.mkdir()
            tiny.make_images(versions, cache / "debs", work)
            os.rename(work, images)
    return images


def build(template: str, output: Path, cache: Path | None = None, kvm: bool = False) -> None:
    """Write vmlinuz, initrd.img, disk.qcow2 and <template>.xml into ``output``."""
    if template not in TEMPLATES:
        raise BuilderError(
            f"unknown template '{template}' (available: {', '.join(TEMPLATES)})"
        )
    cache = cache or default_cache()
    output = output.absolute()
    try:
        with _locked(cache):
            images = _cached_images(cache)
        _publish(images, output, kvm)
    except (PackageError, AssemblyError) as err:
        raise BuilderError(str(err)) from err
    except OSError as err:
        where = err.filename or output
        raise BuilderError(f"cannot write {where}: {err.strerror or err}") from err


def _publish(images: Path, output: Path, kvm: bool) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as tmp:
        stage = Path(tmp)
        for name in ("vmlinuz", "initrd.img"):
            shutil.copyfile(images / name, stage / name)
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", str(stage / "disk.qcow2"),
             tiny.DISK_SIZE],
            check=True, capture_output=True,
        )
        (stage / "tiny.xml").write_text(tiny.domain_xml(output, kvm))
        output.mkdir(exist_ok=True)
        for f in stage.iterdir():
            os.replace(f, output / f.name)
