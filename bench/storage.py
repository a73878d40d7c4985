"""[storage] rows: Debian's virsh against qvirtd and against the real libvirtd, in one run:
vol-upload and vol-download of a 256 MiB file beside dd copying the same file (what a volume
stream costs over a plain copy), and vol-clone of a sparse 10 GiB raw volume holding 100 MiB
of data (time that follows the data, not the capacity).

Each daemon gets a dir pool of this run's own, in a directory of its own on the same disk;
the pools and everything in them go when the run ends, so libvirtd's other users never see
them.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.daemon import LIBVIRTD_URI, Qvirtd
from bench.harness import Row
from tests.support.oracle import ensure_libvirtd

MIB = 1 << 20
STREAM_MIB = 256
CLONE_GIB = 10
CLONE_DATA_MIB = 100
RUNS = 9
CLONE_RUNS = 3


def virsh(uri: str, *args: str) -> str:
    proc = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode:
        raise RuntimeError(f"virsh {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def dd(source: Path, target: Path) -> None:
    subprocess.run(["dd", f"if={source}", f"of={target}", "bs=1M", "conv=notrunc",
                    "status=none"], check=True)


class Pool:
    """A dir pool of the run's own on one daemon, with the volumes the rows use."""

    def __init__(self, uri: str, name: str, path: Path) -> None:
        self.uri, self.name, self.path = uri, name, path
        path.mkdir(parents=True)
        xml = path.parent / f"{name}.xml"
        xml.write_text(f"<pool type='dir'><name>{name}</name>"
                       f"<target><path>{path}</path></target></pool>")
        virsh(uri, "pool-create", str(xml))
        self.clones = itertools.count()
        virsh(uri, "vol-create-as", name, "stream.raw", f"{STREAM_MIB}M", "--format", "raw")
        virsh(uri, "vol-create-as", name, "sparse.raw", f"{CLONE_GIB}G", "--allocation", "0",
              "--format", "raw")
        # 100 MiB of data in ten runs across the 10 GiB.
        sparse = path / "sparse.raw"
        with sparse.open("r+b") as f:
            for n in range(10):
                f.seek(n * (CLONE_GIB << 30) // 10)
                f.write(os.urandom(CLONE_DATA_MIB * MIB // 10))

    def upload(self, source: Path) -> Callable[[], object]:
        return lambda: virsh(self.uri, "vol-upload", "--pool", self.name, "stream.raw",
                             str(source))

    def download(self, target: Path) -> Callable[[], object]:
        return lambda: virsh(self.uri, "vol-download", "--pool", self.name, "stream.raw",
                             str(target))

    def clone(self) -> Callable[[], object]:
        return lambda: virsh(self.uri, "vol-clone", "--pool", self.name, "sparse.raw",
                             f"clone{next(self.clones)}.raw")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            virsh(self.uri, "pool-destroy", self.name)
        shutil.rmtree(self.path, ignore_errors=True)


def rows() -> list[Row]:
    ensure_libvirtd()
    work = Path(tempfile.mkdtemp(prefix="qd-bench-storage-", dir="/var/tmp"))
    qvirtd = Qvirtd()
    name = f"qd-bench-{os.getpid()}"
    pools: dict[str, Pool] = {}

    def close_all() -> None:
        for pool in pools.values():
            with contextlib.suppress(Exception):
                pool.close()
        qvirtd.close()
        shutil.rmtree(work, ignore_errors=True)

    atexit.register(close_all)
    pools["qvirt"] = Pool(qvirtd.uri, name, work / "qvirt")
    pools["libvirtd"] = Pool(LIBVIRTD_URI, name, work / "libvirtd")
    source = work / "source.raw"
    source.write_bytes(os.urandom(STREAM_MIB * MIB))
    copy = work / "dd.raw"
    copy.write_bytes(b"")
    down = {side: work / f"down-{side}.raw" for side in ("qvirt", "libvirtd", "dd")}
    return [
        Row(f"storage: vol-upload {STREAM_MIB} MiB", "ms", RUNS,
            {**{s: p.upload(source) for s, p in pools.items()},
             "dd": lambda: dd(source, copy)}, goal="<= 1.0x libvirtd"),
        Row(f"storage: vol-download {STREAM_MIB} MiB", "ms", RUNS,
            {**{s: p.download(down[s]) for s, p in pools.items()},
             "dd": lambda: dd(source, down["dd"])}, goal="<= 1.0x libvirtd"),
        Row(f"storage: vol-clone {CLONE_GIB} GiB sparse, {CLONE_DATA_MIB} MiB data", "s",
            CLONE_RUNS, {s: p.clone() for s, p in pools.items()}, goal="<= 1.0x libvirtd"),
    ]


if __name__ == "__main__":
    from bench import harness
    print(harness.run(rows()))
