"""iSCSI pools through the storage driver, built with the recording runner (iscsiadm needs the
kernel initiator, absent here) and a sysfs tree laid out as a real host's (sysfs_tree.py): the
driver logs in at start, finds the LUN at the refresh that follows, finds the session again
after a restart, logs out at destroy, and refuses what the backend lacks in libvirt's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qvirt import constants as C
from qvirt.drivers.storage.backend_iscsi import ISCSIADM
from qvirt.drivers.storage.backend_scsi import HostPaths
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.storage import sysfs_tree
from tests.support.recorded import RecordedRunner, Step, load, replay

IQN = "iqn.2026-11.org.qvirt:capture"
PORT = 3265
PORTAL = f"127.0.0.1:{PORT},1"
MiB = 1024 * 1024
POOL = (f"<pool type='iscsi'><name>i</name><source><host name='127.0.0.1' port='{PORT}'/>"
        f"<device path='{IQN}'/></source><target><path>/dev/disk/by-path</path></target>"
        "</pool>")


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    data: dict[str, Any] = load("iscsi")["outputs"]
    return data


def session() -> Step:
    return Step((ISCSIADM, "--mode", "session"),
                f"tcp: [1] {PORTAL} {IQN} (non-flash)\n")


def refresh(by_path: str) -> list[Step]:
    """The rescan and the LUN's serial (tgt's NAA identifier, as scsi_id prints it)."""
    return [session(),
            Step((ISCSIADM, "--mode", "session", "-r", "1", "-R"),
                 f"Rescanning session [sid: 1, target: {IQN}, portal: 127.0.0.1,{PORT}]\n"),
            Step(("/lib/udev/scsi_id", "--replace-whitespace", "--whitelisted", "--device",
                  by_path), "360000000000000000e00000000010001\n")]


def test_iscsi_pool_life_through_the_driver(outputs: dict[str, Any], tmp_path: Path) -> None:
    sys, dev = sysfs_tree.build(tmp_path, IQN, PORT)
    host = HostPaths(str(sys), str(dev))
    by_path = f"{dev}/disk/by-path/ip-127.0.0.1:{PORT}-iscsi-{IQN}-lun-1"
    paths = StoragePaths.under(tmp_path / "root")
    runner = RecordedRunner([
        replay(outputs["session_none"]), replay(outputs["node_new"], PORT=str(PORT)),
        Step((ISCSIADM, "--mode", "node", "--portal", PORTAL, "--targetname", IQN,
              "--login")),
        *refresh(by_path),
    ])
    storage = LocalStorageDriver(paths, runner=runner, host=host)
    pool = storage.storage_pool_define_xml(POOL)
    storage.storage_pool_create(pool)
    runner.assert_done()
    info = storage.storage_pool_get_info(pool)
    assert (info.state, info.capacity, info.allocation, info.available) == (
        C.VIR_STORAGE_POOL_RUNNING, 16 * MiB, 16 * MiB, 0)
    (vol,) = storage.storage_pool_list_all_volumes(pool)
    assert (vol.name, vol.key) == ("unit:0:0:1", "360000000000000000e00000000010001")
    assert storage.storage_vol_get_path(vol) == by_path
    got = storage.storage_vol_get_info_flags(vol)
    assert (got.type, got.capacity, got.allocation) == (C.VIR_STORAGE_VOL_BLOCK, 16 * MiB,
                                                        16 * MiB)
    with pytest.raises(QvirtError) as nocreate:
        storage.storage_vol_create_xml(pool, "<volume><name>x</name><capacity>1</capacity>"
                                             "</volume>")
    assert (nocreate.value.code, nocreate.value.message) == (
        ErrorNumber.NO_SUPPORT, "this function is not supported by the connection driver: "
        "storage pool does not support volume creation")
    with pytest.raises(QvirtError) as nodelete:
        storage.storage_vol_delete(vol)
    assert nodelete.value.message.endswith("storage pool does not support vol deletion")
    storage.close()

    # A new driver: the backend's check finds the session, the pool runs on.
    runner = RecordedRunner([session(), *refresh(by_path)])
    storage = LocalStorageDriver(paths, runner=runner, host=host)
    assert storage.storage_pool_is_active(pool)
    assert [v.name for v in storage.storage_pool_list_all_volumes(pool)] == ["unit:0:0:1"]
    runner.assert_done()

    runner.steps += [session(),
                     Step((ISCSIADM, "--mode", "node", "--portal", PORTAL, "--targetname",
                           IQN, "--logout"))]
    storage.storage_pool_destroy(pool)
    runner.assert_done()
    with pytest.raises(QvirtError) as nodelete_pool:
        storage.storage_pool_delete(pool)
    assert nodelete_pool.value.message.endswith("pool does not support pool deletion")
    storage.storage_pool_build(pool)        # no buildPool: nothing to do, as libvirt's
    storage.close()


def test_failed_login_leaves_the_pool_stopped(outputs: dict[str, Any],
                                              tmp_path: Path) -> None:
    runner = RecordedRunner([replay(outputs["session_none"]),
                             replay(outputs["node_new"], PORT=str(PORT)),
                             replay(outputs["login_nodriver"], PORT=str(PORT))])
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner=runner)
    try:
        pool = storage.storage_pool_define_xml(POOL)
        with pytest.raises(QvirtError) as failed:
            storage.storage_pool_create(pool)
        assert "unexpected exit status 20" in failed.value.message
        assert not storage.storage_pool_is_active(pool)
        runner.assert_done()
    finally:
        storage.close()
