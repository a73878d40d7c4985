"""SCSI pools over a sysfs tree laid out as a real host's (sysfs_tree.py): LUN volumes, their
by-path names and scsi_id keys, the rescan, and libvirt's adapter lookups and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.drivers.storage.backend import backend_class
from qvirt.drivers.storage.backend_scsi import HostPaths, SCSIBackend
from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.storage import sysfs_tree
from tests.support.recorded import RecordedRunner, Step

MiB = 1024 * 1024
SCSI_ID = "/lib/udev/scsi_id"


@pytest.fixture
def host(tmp_path: Path) -> HostPaths:
    sys, dev = sysfs_tree.build(tmp_path, "iqn.2026-11.org.qvirt:t", 3260)
    return HostPaths(str(sys), str(dev))


def pool_doc(adapter: str, target: str = "/dev/disk/by-path") -> StoragePool:
    pool = StoragePool.from_xml(f"<pool type='scsi'><name>s</name><source>{adapter}</source>"
                                f"<target><path>{target}</path></target></pool>")
    apply_defaults(pool)
    return pool


def scsi_id(path: str, out: str = "", status: int = 0) -> Step:
    return Step((SCSI_ID, "--replace-whitespace", "--whitelisted", "--device", path),
                out, status=status)


def test_table_entry_names_the_scsi_backend() -> None:
    assert backend_class("scsi").__name__ == SCSIBackend.__name__


def test_refresh_finds_disk_and_cdrom_luns_by_path(host: HostPaths) -> None:
    by_path = f"{host.dev}/disk/by-path"
    runner = RecordedRunner([
        scsi_id(f"{by_path}/pci-0000:00:1f.2-ata-3", "0ATA_QEMU_HARDDISK_QM00005\n"),
        scsi_id(f"{by_path}/pci-0000:00:1f.2-ata-3.0-cd", status=1),
    ])
    backend = SCSIBackend(runner, host)
    pool = pool_doc("<adapter type='scsi_host' name='host2'/>")
    assert backend.check_pool(pool)
    state = backend.refresh_pool(pool)
    runner.assert_done()
    assert Path(host.sys, "class/scsi_host/host2/scan").read_text() == "- - -"
    disk, cd = state.volumes
    assert (disk.name, disk.type, disk.key) == ("unit:0:0:0", "block",
                                                "0ATA_QEMU_HARDDISK_QM00005")
    assert disk.target is not None and disk.target.path == f"{by_path}/pci-0000:00:1f.2-ata-3"
    assert (disk.capacity, disk.allocation) == (64 * MiB, 64 * MiB)
    # No answer from scsi_id: the key is the path, as libvirt falls back.
    assert cd.name == "unit:0:1:0"
    assert cd.target is not None and cd.key == cd.target.path
    assert (state.capacity, state.allocation, state.available) == (66 * MiB, 66 * MiB, 0)


def test_plain_dev_target_names_the_nodes(host: HostPaths) -> None:
    runner = RecordedRunner([scsi_id(f"{host.dev}/sdb"), scsi_id(f"{host.dev}/sr0")])
    state = SCSIBackend(runner, host).refresh_pool(
        pool_doc("<adapter type='scsi_host' name='host2'/>", "/dev"))
    assert [v.target.path for v in state.volumes if v.target] == [f"{host.dev}/sdb",
                                                                 f"{host.dev}/sr0"]


def test_adapter_by_pci_address_and_unique_id(host: HostPaths) -> None:
    runner = RecordedRunner([scsi_id(f"{host.dev}/sdb"), scsi_id(f"{host.dev}/sr0")])
    adapter = ("<adapter type='scsi_host'><parentaddr unique_id='3'><address domain='0x0000' "
               "bus='0x00' slot='0x1f' function='0x2'/></parentaddr></adapter>")
    assert len(SCSIBackend(runner, host).refresh_pool(pool_doc(adapter, "/dev")).volumes) == 2
    wrong = adapter.replace("unique_id='3'", "unique_id='4'")
    with pytest.raises(QvirtError) as missing:
        SCSIBackend(RecordedRunner([]), host).start_pool(pool_doc(wrong))
    assert missing.value.message == ("XML error: Failed to find scsi_host using PCI "
                                     "'0000:00:1f.2' and unique_id='4'")


def test_fc_host_adapter_found_by_wwns(host: HostPaths) -> None:
    backend = SCSIBackend(RecordedRunner([]), host)
    found = pool_doc("<adapter type='fc_host' wwnn='20000000c9831b4b' "
                     "wwpn='10000000c9831b4b'/>")
    backend.start_pool(found)
    other = pool_doc("<adapter type='fc_host' wwnn='20000000c9831b4c' "
                     "wwpn='10000000c9831b4c'/>")
    with pytest.raises(QvirtError) as missing:
        backend.start_pool(other)
    assert missing.value.message == ("XML error: Failed to find SCSI host with "
                                     "wwnn='20000000c9831b4c', wwpn='10000000c9831b4c'")
    assert not backend.check_pool(other)


def test_unstable_target_path_is_refused(host: HostPaths) -> None:
    backend = SCSIBackend(RecordedRunner([]), host)
    with pytest.raises(QvirtError) as bad:
        backend.refresh_pool(pool_doc("<adapter type='scsi_host' name='host2'/>", "/srv/x"))
    assert bad.value.code == ErrorNumber.INVALID_ARG
    assert bad.value.message == ("invalid argument: unable to use target path '/srv/x' for "
                                 "dev 'sdb'")


def test_missing_host_cannot_be_scanned(host: HostPaths) -> None:
    backend = SCSIBackend(RecordedRunner([]), host)
    pool = pool_doc("<adapter type='scsi_host' name='host9'/>")
    assert not backend.check_pool(pool)
    with pytest.raises(QvirtError) as gone:
        backend.refresh_pool(pool)
    assert gone.value.message.startswith(f"Failed to open {host.sys}/class/scsi_host/host9/scan")
