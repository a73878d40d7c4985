"""iSCSI-direct pools for real: libiscsi's tools against tgtd on 127.0.0.1 (a LUN backed by a
file), and QEMU's own iSCSI block driver reading and writing the volume by its iscsi:// URL."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.drivers.storage.backend import backend_class
from qvirt.drivers.storage.backend_iscsi_direct import ISCSIDirectBackend, lun_of, volume_url
from qvirt.drivers.storage.runner import HostRunner
from qvirt.errors import ErrorNumber, QvirtError
from tests.support.iscsi_target import Target, tgtd

IQN = "iqn.2026-11.org.qvirt:direct"
INITIATOR = "iqn.2026-11.org.qvirt:initiator"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with tgtd(tmp_path_factory.mktemp("tgtd"), IQN, 16 * MiB) as t:
        yield t


def pool_doc(target: Target, device: str = IQN) -> StoragePool:
    pool = StoragePool.from_xml(
        f"<pool type='iscsi-direct'><name>d</name><source><host name='127.0.0.1' "
        f"port='{target.port}'/><device path='{device}'/><initiator><iqn name='{INITIATOR}'/>"
        "</initiator></source></pool>")
    apply_defaults(pool)
    return pool


def test_table_entry_names_the_iscsi_direct_backend() -> None:
    assert backend_class("iscsi-direct").__name__ == ISCSIDirectBackend.__name__


def test_find_sources_discovers_the_target(target: Target) -> None:
    spec = (f"<source><host name='127.0.0.1' port='{target.port}'/><initiator>"
            f"<iqn name='{INITIATOR}'/></initiator></source>")
    assert ISCSIDirectBackend(HostRunner()).find_pool_sources(spec, 0) == (
        "<sources>\n  <source>\n"
        f"    <host name='127.0.0.1' port='{target.port}'/>\n"
        f"    <device path='{IQN}'/>\n"
        f"    <initiator>\n      <iqn name='{INITIATOR}'/>\n    </initiator>\n"
        "  </source>\n</sources>\n")


def test_find_sources_needs_the_initiator() -> None:
    backend = ISCSIDirectBackend(HostRunner())
    with pytest.raises(QvirtError) as noiqn:
        backend.find_pool_sources("<source><host name='127.0.0.1'/></source>", 0)
    assert noiqn.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert noiqn.value.message == "unsupported configuration: missing initiator IQN"


def test_refresh_lists_every_lun_with_libvirts_sizes(target: Target) -> None:
    pool = pool_doc(target)
    state = ISCSIDirectBackend(HostRunner()).refresh_pool(pool)
    controller, disk = state.volumes
    where = f"127.0.0.1:{target.port}"
    assert (controller.name, controller.type, controller.capacity) == ("unit:0:0:0",
                                                                       "network", 0)
    # libvirt multiplies the block length by the last LBA READ CAPACITY(16) returns: one
    # block short of the LUN's size, kept.
    assert (disk.name, disk.capacity, disk.allocation) == ("unit:0:0:1", 16 * MiB - 512,
                                                           16 * MiB - 512)
    assert disk.key == f"ip-{where}-iscsi-{IQN}-lun-1"
    assert disk.target is not None and disk.target.path == disk.key
    assert (state.capacity, state.allocation, state.available) == (16 * MiB - 512,
                                                                   16 * MiB - 512, 0)
    assert lun_of(disk) == 1
    assert volume_url(pool, disk) == f"iscsi://{where}/{IQN}/1"


def test_qemu_reads_and_writes_the_volume_by_its_url(target: Target,
                                                     tmp_path: os.PathLike[str]) -> None:
    """QEMU's iSCSI block driver (qemu-block-extra's, listed by qemu-img --help) on the URL."""
    formats = subprocess.run(["qemu-img", "--help"], capture_output=True, text=True,
                             check=True).stdout
    assert " iscsi " in formats or " iscsi\n" in formats
    pool = pool_doc(target)
    disk = ISCSIDirectBackend(HostRunner()).refresh_pool(pool).volumes[1]
    url = volume_url(pool, disk)
    pattern = os.path.join(tmp_path, "pattern.raw")
    with open(pattern, "wb") as f:
        f.write(bytes(range(256)) * 4096)
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", pattern, url],
                   check=True, capture_output=True)
    with open(target.lun_file, "rb") as f:
        assert f.read(MiB) == bytes(range(256)) * 4096
    info = subprocess.run(["qemu-img", "info", "--output=json", url], capture_output=True,
                          text=True, check=True).stdout
    assert f'"virtual-size": {16 * MiB}' in info


def test_refresh_of_a_target_the_portal_does_not_have(target: Target) -> None:
    with pytest.raises(QvirtError) as missing:
        ISCSIDirectBackend(HostRunner()).refresh_pool(pool_doc(target, "iqn.2026-11.x:none"))
    assert missing.value.message.startswith("internal error: Failed to login:")


def test_refresh_of_a_portal_nobody_listens_on(target: Target) -> None:
    pool = StoragePool.from_xml(
        "<pool type='iscsi-direct'><name>d</name><source><host name='127.0.0.1' port='9'/>"
        f"<device path='{IQN}'/><initiator><iqn name='{INITIATOR}'/></initiator></source>"
        "</pool>")
    with pytest.raises(QvirtError) as refused:
        ISCSIDirectBackend(HostRunner()).refresh_pool(pool)
    assert refused.value.message.startswith("internal error: Failed to connect:")
