"""SCSI pools through the storage driver over a sysfs tree laid out as a real host's
(sysfs_tree.py: a SATA host2 with a disk and a CD-ROM), scsi_id's answers recorded: the
driver rescans at start, lists the LUNs, keeps the pool running across a restart while its
host is there and stops it when the host is gone, and has no volume creation to offer."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.storage.backend_scsi import HostPaths
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.storage import sysfs_tree
from tests.support.recorded import RecordedRunner, Step

MiB = 1024 * 1024
POOL = ("<pool type='scsi'><name>s</name><source><adapter type='scsi_host' name='host2'/>"
        "</source><target><path>/dev/disk/by-path</path></target></pool>")


def scsi_ids(by_path: str) -> list[Step]:
    return [Step(("/lib/udev/scsi_id", "--replace-whitespace", "--whitelisted", "--device",
                  f"{by_path}/pci-0000:00:1f.2-ata-3"), "0ATA_QEMU_HARDDISK_QM00005\n"),
            Step(("/lib/udev/scsi_id", "--replace-whitespace", "--whitelisted", "--device",
                  f"{by_path}/pci-0000:00:1f.2-ata-3.0-cd"), status=1)]


def test_scsi_pool_through_the_driver(tmp_path: Path) -> None:
    sys, dev = sysfs_tree.build(tmp_path, "iqn.2026-11.org.qvirt:t", 3260)
    host = HostPaths(str(sys), str(dev))
    by_path = f"{dev}/disk/by-path"
    paths = StoragePaths.under(tmp_path / "root")
    runner = RecordedRunner(scsi_ids(by_path))
    storage = LocalStorageDriver(paths, runner=runner, host=host)
    pool = storage.storage_pool_define_xml(POOL)
    storage.storage_pool_create(pool)
    runner.assert_done()
    assert (sys / "class/scsi_host/host2/scan").read_text() == "- - -"
    info = storage.storage_pool_get_info(pool)
    assert (info.capacity, info.allocation, info.available) == (66 * MiB, 66 * MiB, 0)
    disk, cd = storage.storage_pool_list_all_volumes(pool)
    assert (disk.name, disk.key, cd.name) == ("unit:0:0:0", "0ATA_QEMU_HARDDISK_QM00005",
                                              "unit:0:1:0")
    cd_path = f"{by_path}/pci-0000:00:1f.2-ata-3.0-cd"
    assert cd.key == storage.storage_vol_get_path(cd) == cd_path
    got = storage.storage_vol_get_info_flags(disk)
    assert (got.type, got.capacity) == (C.VIR_STORAGE_VOL_BLOCK, 64 * MiB)
    found = storage.storage_vol_lookup_by_path(f"{by_path}/pci-0000:00:1f.2-ata-3")
    assert found.name == "unit:0:0:0"
    with pytest.raises(QvirtError) as nocreate:
        storage.storage_vol_create_xml(pool, "<volume><name>x</name><capacity>1</capacity>"
                                             "</volume>")
    assert nocreate.value.code == ErrorNumber.NO_SUPPORT
    storage.close()

    runner = RecordedRunner(scsi_ids(by_path))
    storage = LocalStorageDriver(paths, runner=runner, host=host)
    assert storage.storage_pool_is_active(pool)
    runner.assert_done()
    runner.steps += scsi_ids(by_path)
    storage.storage_pool_refresh(pool)
    runner.assert_done()
    storage.close()

    (sys / "class/scsi_host/host2").unlink()           # the host went away
    storage = LocalStorageDriver(paths, runner=RecordedRunner([]), host=host)
    try:
        assert not storage.storage_pool_is_active(pool)
    finally:
        storage.close()
