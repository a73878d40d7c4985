"""find-storage-pool-sources(-as) through the `qvirt` command on qemu:///embed, beside virsh
on libvirtd 9.0 on the same host: the logical groups pvs knows, iSCSI discovery against a
live tgtd (which fails alike without the kernel initiator), NFS exports (no showmount here:
libvirt's "no storage pools were found"), and the refusals for types without discovery."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.iscsi_target import Target, tgtd
from tests.support.oracle import URI, ensure_libvirtd

QVIRT = str(Path(sys.executable).parent / "qvirt")
IQN = "iqn.2026-11.org.qvirt:sources"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with tgtd(tmp_path_factory.mktemp("tgtd"), IQN, 1024 * 1024) as t:
        yield t


def test_source_discovery_prints_what_virsh_prints(target: Target, tmp_path: Path) -> None:
    spec = tmp_path / "spec.xml"
    spec.write_text(f"<source><host name='127.0.0.1' port='{target.port}'/></source>")
    line = "; ".join([
        f"find-storage-pool-sources-as iscsi 127.0.0.1 {target.port}",
        f"find-storage-pool-sources iscsi {spec}",
        f"find-storage-pool-sources-as iscsi 127.0.0.1 {target.port} "
        "--initiator iqn.2026-11.org.qvirt:nobody",
        "find-storage-pool-sources-as iscsi",
        "find-storage-pool-sources-as netfs 127.0.0.1", "find-storage-pool-sources-as netfs",
        "find-storage-pool-sources-as dir", "find-storage-pool-sources-as disk",
        "find-storage-pool-sources-as nosuch",
    ])
    ensure_libvirtd()
    theirs = subprocess.run(["virsh", "-c", URI, line], capture_output=True, text=True,
                            check=False)
    ours = subprocess.run([QVIRT, "-c", f"qemu:///embed?root={tmp_path / 'root'}", line],
                          capture_output=True, text=True, check=False)
    assert theirs.stderr.count("error: Failed to find any ") == 9     # each one refused
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout,
                                                           theirs.stderr)


def run(tool: list[str], line: str) -> tuple[int, str, str]:
    done = subprocess.run([*tool, line], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_logical_groups_as_virsh_lists_them(tmp_path: Path) -> None:
    """The groups pvs knows; other tests make and remove groups meanwhile, so qvirt's answer
    counts when libvirtd gave the same one just before and just after it."""
    line = "find-storage-pool-sources logical; find-storage-pool-sources-as logical"
    virsh, ours = ["virsh", "-c", URI], [QVIRT, "-c", f"qemu:///embed?root={tmp_path}"]
    ensure_libvirtd()
    for _ in range(10):
        before, mine, after = run(virsh, line), run(ours, line), run(virsh, line)
        if before == after:
            break
    assert before == after
    assert "<sources>" in before[1]
    assert mine == before
