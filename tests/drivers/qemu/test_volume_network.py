"""Volume disks of an iscsi pool (virStorageTranslateDiskSourcePool's two modes): mode='host'
(the default, written into the live XML) opens the LUN's block node the kernel initiator
made, mode='direct' hands QEMU the target and the LUN as a network disk on the pool's host.
The pool runs in a storage driver built with recorded iscsiadm answers and a laid-out sysfs
tree (no kernel initiator here); the translation and its undoing are the QEMU driver's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.disk_volumes import restore_volumes, translate_volumes
from qvirt.drivers.storage.backend_iscsi import ISCSIADM
from qvirt.drivers.storage.backend_scsi import HostPaths
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from tests.drivers.storage import sysfs_tree
from tests.support.recorded import RecordedRunner, Step

IQN = "iqn.2026-11.org.qvirt:capture"
PORT = 3265


def domain(mode: str | None, volume: str = "unit:0:0:1") -> Domain:
    attr = f" mode='{mode}'" if mode else ""
    return Domain.from_xml(
        "<domain type='qemu'><name>n</name><memory>65536</memory><os><type>hvm</type></os>"
        "<devices><disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
        f"<source pool='i' volume='{volume}'{attr}/><target dev='vda' bus='virtio'/></disk>"
        "</devices></domain>")


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorageDriver:
    sys, dev = sysfs_tree.build(tmp_path, IQN, PORT)
    by_path = f"{dev}/disk/by-path/ip-127.0.0.1:{PORT}-iscsi-{IQN}-lun-1"
    session = Step((ISCSIADM, "--mode", "session"),
                   f"tcp: [1] 127.0.0.1:{PORT},1 {IQN} (non-flash)\n")
    runner = RecordedRunner([
        session, session,
        Step((ISCSIADM, "--mode", "session", "-r", "1", "-R")),
        Step(("/lib/udev/scsi_id", "--replace-whitespace", "--whitelisted", "--device",
              by_path), "360000000000000000e00000000010001\n"),
    ])
    driver = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner=runner,
                                host=HostPaths(str(sys), str(dev)))
    driver.storage_pool_create_xml(
        f"<pool type='iscsi'><name>i</name><source><host name='127.0.0.1' port='{PORT}'/>"
        f"<device path='{IQN}'/><initiator><iqn name='iqn.2026-11.org.qvirt:me'/>"
        "</initiator></source><target><path>/dev/disk/by-path</path></target></pool>")
    return driver


def test_host_mode_opens_the_lun_node(storage: LocalStorageDriver) -> None:
    dom = domain(None)
    done = translate_volumes(dom, storage)
    disk = dom.devices.disks[0] if dom.devices is not None else None
    assert disk is not None and disk.source is not None
    assert (disk.type, disk.source.dev) == ("block", storage.storage_vol_get_path(
        storage.storage_vol_lookup_by_name(storage.storage_pool_lookup_by_name("i"),
                                           "unit:0:0:1")))
    restore_volumes(done)
    assert dom.to_xml() == domain("host").to_xml()      # libvirt writes the mode it chose


def test_direct_mode_is_a_network_disk(storage: LocalStorageDriver) -> None:
    dom = domain("direct")
    done = translate_volumes(dom, storage)
    disk = dom.devices.disks[0] if dom.devices is not None else None
    assert disk is not None and disk.source is not None
    src = disk.source
    assert (disk.type, src.protocol, src.name, src.initiator_iqn) == (
        "network", "iscsi", f"{IQN}/1", "iqn.2026-11.org.qvirt:me")
    assert [(h.name, h.port) for h in src.hosts] == [("127.0.0.1", PORT)]
    restore_volumes(done)
    assert dom.to_xml() == domain("direct").to_xml()

