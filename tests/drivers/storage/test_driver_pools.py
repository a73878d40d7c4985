"""Pools through the storage driver: define, start, stop, undefine, persistence across driver
restarts, autostart, events and libvirt's errors (texts checked against libvirtd 9.0)."""

from __future__ import annotations

import queue
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import qvirt
from qvirt import constants as C
from qvirt.drivers.base import StoragePoolRef
from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError


@pytest.fixture
def paths(tmp_path: Path) -> StoragePaths:
    return StoragePaths.under(tmp_path / "root")


@pytest.fixture
def storage(paths: StoragePaths) -> Iterator[LocalStorageDriver]:
    driver = LocalStorageDriver(paths)
    yield driver
    driver.close()


def pool_xml(name: str, path: Path, uuid: str | None = None) -> str:
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<pool type='dir'><name>{name}</name>{uuid_el}<target><path>{path}</path>"
            "</target></pool>")


def error(call: object, *args: object) -> QvirtError:
    assert callable(call)
    with pytest.raises(QvirtError) as info:
        call(*args)
    return info.value


def test_fresh_driver_defines_and_starts_default_pool(storage: LocalStorageDriver,
                                                      paths: StoragePaths) -> None:
    ref = storage.storage_pool_lookup_by_name("default")
    assert storage.storage_pool_is_active(ref)
    assert storage.storage_pool_is_persistent(ref)
    assert storage.storage_pool_get_autostart(ref)
    assert paths.images_dir.is_dir()
    assert paths.autostart_link("default").resolve() == paths.config("default")
    assert storage.storage_pool_lookup_by_target_path(f"{paths.images_dir}//") == ref


def test_default_pool_not_redefined_once_undefined(paths: StoragePaths) -> None:
    driver = LocalStorageDriver(paths)
    ref = driver.storage_pool_lookup_by_name("default")
    driver.storage_pool_destroy(ref)
    driver.storage_pool_undefine(ref)
    driver.close()
    again = LocalStorageDriver(paths)
    assert again.connect_list_all_storage_pools() == []
    again.close()


def test_define_start_refresh_destroy_undefine(storage: LocalStorageDriver, paths: StoragePaths,
                                               tmp_path: Path) -> None:
    target = tmp_path / "p1"
    ref = storage.storage_pool_define_xml(pool_xml("p1", target))
    assert paths.config("p1").exists()
    info = storage.storage_pool_get_info(ref)
    assert (info.state, info.capacity) == (C.VIR_STORAGE_POOL_INACTIVE, 0)
    err = error(storage.storage_pool_create, ref)
    assert err.message == f"cannot open directory '{target}': No such file or directory"
    assert not paths.state("p1").exists()
    storage.storage_pool_build(ref)
    assert target.is_dir() and oct(target.stat().st_mode & 0o777) == "0o711"
    storage.storage_pool_create(ref)
    assert paths.state("p1").exists()
    info = storage.storage_pool_get_info(ref)
    assert info.state == C.VIR_STORAGE_POOL_RUNNING and info.capacity > info.available > 0
    xml = storage.storage_pool_get_xml_desc(ref)
    assert f"<capacity unit='bytes'>{info.capacity}</capacity>" in xml
    assert "<mode>0711</mode>" in xml
    (target / "outside.img").write_bytes(b"x" * 4096)
    storage.storage_pool_refresh(ref)
    assert [v.name for v in storage.storage_pool_list_all_volumes(ref)] == ["outside.img"]
    storage.storage_pool_destroy(ref)
    assert not paths.state("p1").exists()
    storage.storage_pool_undefine(ref)
    assert not paths.config("p1").exists()
    assert error(storage.storage_pool_get_info, ref).message == (
        f"Storage pool not found: no storage pool with matching uuid '{ref.uuid}' (p1)")


def test_libvirt_errors(storage: LocalStorageDriver, tmp_path: Path) -> None:
    target = tmp_path / "p1"
    target.mkdir()
    uuid = str(uuidlib.uuid4())
    ref = storage.storage_pool_define_xml(pool_xml("p1", target, uuid))
    err = error(storage.storage_pool_lookup_by_name, "nope")
    assert (err.code, err.domain) == (ErrorNumber.NO_STORAGE_POOL, ErrorDomain.STORAGE)
    assert err.message == "Storage pool not found: no storage pool with matching name 'nope'"
    missing = str(uuidlib.uuid4())
    assert error(storage.storage_pool_lookup_by_uuid, missing).message == (
        f"Storage pool not found: no storage pool with matching uuid '{missing}'")
    other = str(uuidlib.uuid4())
    err = error(storage.storage_pool_define_xml, pool_xml("p1", target, other))
    assert err.code == ErrorNumber.OPERATION_FAILED
    assert err.message == f"operation failed: pool 'p1' already exists with uuid {uuid}"
    assert error(storage.storage_pool_define_xml,
                 pool_xml("p2", tmp_path / "p2", uuid)).message == (
        f"operation failed: pool 'p1' is already defined with uuid {uuid}")
    assert error(storage.storage_pool_define_xml, pool_xml("p3", target)).message == (
        "operation failed: Storage source conflict with pool: 'p1'")
    err = error(storage.storage_pool_define_xml, pool_xml("a&#10;b", tmp_path / "nl"))
    assert (err.code, err.domain, err.message) == (
        ErrorNumber.XML_DETAIL, ErrorDomain.XML, "invalid char in name: \n")
    not_active = "Requested operation is not valid: storage pool 'p1' is not active"
    for call in (storage.storage_pool_refresh, storage.storage_pool_destroy,
                 storage.storage_pool_list_all_volumes):
        err = error(call, ref)
        assert (err.message, err.code) == (not_active, ErrorNumber.OPERATION_INVALID)
    assert error(storage.storage_vol_create_xml, ref,
                 "<volume><name>a</name><capacity>1</capacity></volume>").message == not_active
    storage.storage_pool_create(ref)
    prefix = "Requested operation is not valid: "
    assert error(storage.storage_pool_create, ref).message == (
        prefix + "storage pool 'p1' is already active")
    assert error(storage.storage_pool_build, ref).message == (
        prefix + "storage pool 'p1' is already active")
    assert error(storage.storage_pool_undefine, ref).message == (
        prefix + "storage pool 'p1' is still active")
    assert error(storage.storage_pool_delete, ref).message == (
        prefix + "storage pool 'p1' is still active")
    assert error(storage.storage_pool_create_xml, pool_xml("p1", target, uuid)).message == (
        prefix + "pool is already active as 'p1'")
    assert error(storage.storage_pool_lookup_by_target_path, "/nonexist").message == (
        "Storage pool not found: no storage pool with matching target path '/nonexist'")


def test_transient_pool_goes_with_destroy(storage: LocalStorageDriver, tmp_path: Path) -> None:
    target = tmp_path / "t"
    ref = storage.storage_pool_create_xml(pool_xml("t", target),
                                          C.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    assert storage.storage_pool_is_active(ref) and not storage.storage_pool_is_persistent(ref)
    err = error(storage.storage_pool_set_autostart, ref, True)
    assert (err.code, err.message) == (ErrorNumber.INTERNAL_ERROR,
                                       "internal error: pool has no config file")
    storage.storage_pool_destroy(ref)
    assert error(storage.storage_pool_lookup_by_name, "t").code == ErrorNumber.NO_STORAGE_POOL


def test_redefining_a_running_pool_waits_for_its_stop(storage: LocalStorageDriver,
                                                      tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    ref = storage.storage_pool_define_xml(pool_xml("p", tmp_path / "a"))
    storage.storage_pool_create(ref)
    storage.storage_pool_define_xml(pool_xml("p", tmp_path / "b", ref.uuid))
    assert str(tmp_path / "a") in storage.storage_pool_get_xml_desc(ref)
    assert str(tmp_path / "b") in storage.storage_pool_get_xml_desc(
        ref, C.VIR_STORAGE_XML_INACTIVE)
    storage.storage_pool_destroy(ref)
    assert str(tmp_path / "b") in storage.storage_pool_get_xml_desc(ref)


def test_restart_finds_running_pools_and_autostarts(paths: StoragePaths,
                                                    tmp_path: Path) -> None:
    for name in ("run", "auto", "off", "gone"):
        (tmp_path / name).mkdir()
    first = LocalStorageDriver(paths)
    running = first.storage_pool_define_xml(pool_xml("run", tmp_path / "run"))
    first.storage_pool_create(running)
    auto = first.storage_pool_define_xml(pool_xml("auto", tmp_path / "auto"))
    first.storage_pool_set_autostart(auto, True)
    first.storage_pool_define_xml(pool_xml("off", tmp_path / "off"))
    transient = first.storage_pool_create_xml(pool_xml("tr", tmp_path / "gone"))
    first.close()
    second = LocalStorageDriver(paths)
    assert second.storage_pool_is_active(running)
    assert second.storage_pool_is_active(auto)
    assert not second.storage_pool_is_active(second.storage_pool_lookup_by_name("off"))
    assert second.storage_pool_is_active(transient)
    assert not second.storage_pool_is_persistent(transient)
    second.storage_pool_destroy(transient)
    (tmp_path / "run").rmdir()          # the directory went away while nobody watched
    second.close()
    third = LocalStorageDriver(paths)
    assert not third.storage_pool_is_active(running)
    assert not paths.state("run").exists()
    assert error(third.storage_pool_lookup_by_name, "tr").code == ErrorNumber.NO_STORAGE_POOL
    third.close()


def test_list_all_filters(storage: LocalStorageDriver, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    inactive = storage.storage_pool_define_xml(pool_xml("inactive", tmp_path / "a"))
    transient = storage.storage_pool_create_xml(pool_xml("transient", tmp_path / "b"),
                                                C.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    default = storage.storage_pool_lookup_by_name("default")

    def names(flags: int) -> list[str]:
        return [p.name for p in storage.connect_list_all_storage_pools(flags)]

    assert names(0) == ["default", "inactive", "transient"]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE) == ["default", "transient"]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == [inactive.name]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT) == [transient.name]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT) == ["default", "inactive"]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART) == [default.name]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART) == ["inactive", "transient"]
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE
                 | C.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == names(0)
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_DIR) == names(0)
    assert names(C.VIR_CONNECT_LIST_STORAGE_POOLS_FS | C.VIR_CONNECT_LIST_STORAGE_POOLS_DISK) \
        == []


def test_events_lifecycle_and_refresh_per_pool(storage: LocalStorageDriver,
                                               tmp_path: Path) -> None:
    seen: queue.Queue[tuple[str, int, int]] = queue.Queue()

    def record(pool: StoragePoolRef, event_id: int, event: int, detail: int) -> None:
        seen.put((pool.name, event_id, event))

    everything = storage.connect_storage_pool_event_register_any(
        None, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, record)
    ref = storage.storage_pool_define_xml(pool_xml("ev", tmp_path / "ev"))
    storage.connect_storage_pool_event_register_any(
        ref, C.VIR_STORAGE_POOL_EVENT_ID_REFRESH, record)
    storage.storage_pool_build(ref)
    storage.storage_pool_create(ref)
    storage.storage_pool_refresh(ref)
    storage.storage_pool_refresh(storage.storage_pool_lookup_by_name("default"))
    storage.storage_pool_destroy(ref)
    storage.storage_pool_delete(ref)
    storage.storage_pool_undefine(ref)
    got = [seen.get(timeout=10) for _ in range(7)]
    storage.connect_storage_pool_event_deregister_any(everything)
    storage.storage_pool_define_xml(pool_xml("late", tmp_path / "late"))
    storage.storage_pool_refresh(storage.storage_pool_lookup_by_name("default"))
    L, R = C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, C.VIR_STORAGE_POOL_EVENT_ID_REFRESH
    assert got == [("ev", L, C.VIR_STORAGE_POOL_EVENT_DEFINED),
                   ("ev", L, C.VIR_STORAGE_POOL_EVENT_CREATED),
                   ("ev", L, C.VIR_STORAGE_POOL_EVENT_STARTED),
                   ("ev", R, 0),
                   ("ev", L, C.VIR_STORAGE_POOL_EVENT_STOPPED),
                   ("ev", L, C.VIR_STORAGE_POOL_EVENT_DELETED),
                   ("ev", L, C.VIR_STORAGE_POOL_EVENT_UNDEFINED)]
    assert not (tmp_path / "ev").exists()
    assert seen.empty()
    err = error(storage.connect_storage_pool_event_deregister_any, everything)
    assert err.message == (
        f"invalid argument: could not find event callback {everything} for deletion")


def test_pool_capabilities_match_libvirt_for_served_types(storage: LocalStorageDriver) -> None:
    caps = storage.connect_get_storage_pool_capabilities()
    assert caps.startswith("<storagepoolCapabilities>\n  <pool type='dir' supported='yes'>\n"
                           "    <volOptions>\n      <defaultFormat type='raw'/>\n"
                           "      <enum name='targetFormatType'>\n        <value>none</value>")
    assert "<pool type='iscsi' supported='yes'>\n  </pool>" in caps
    assert "<pool type='rbd' supported='no'>\n    <volOptions>\n      <defaultFormat " \
           "type='raw'/>\n      <enum name='targetFormatType'>\n      </enum>" in caps


def test_embedded_connection_offers_the_storage_driver(tmp_path: Path) -> None:
    conn = qvirt.open(f"qemu:///embed?root={tmp_path}")
    try:
        assert isinstance(conn._driver, QemuDriver)
        storage = conn._driver.storage
        ref = storage.storage_pool_lookup_by_name("default")
        assert storage.storage_pool_is_active(ref)
        assert (tmp_path / "etc" / "storage" / "default.xml").exists()
        assert (tmp_path / "run" / "storage" / "default.xml").exists()
    finally:
        conn.close()


def test_paths_by_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    under = StoragePaths.under(tmp_path)
    assert (under.config_dir, under.state_dir, under.images_dir) == (
        tmp_path / "etc/storage", tmp_path / "run/storage", tmp_path / "lib/images")
    assert under.autostart_link("p") == tmp_path / "etc/storage/autostart/p.xml"
    system = StoragePaths.system()
    assert (system.config_dir, system.state_dir, system.images_dir) == (
        Path("/etc/qvirt/storage"), Path("/run/qvirt/storage"), Path("/var/lib/qvirt/images"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    session = StoragePaths.session()
    assert (session.config_dir, session.state_dir, session.images_dir) == (
        tmp_path / "config/qvirt/storage", tmp_path / "runtime/qvirt/storage/run",
        tmp_path / "data/qvirt/images")


def test_unsupported_flags(storage: LocalStorageDriver, tmp_path: Path) -> None:
    pool = storage.storage_pool_lookup_by_name("default")
    inactive = storage.storage_pool_define_xml(pool_xml("idle", tmp_path / "idle"))
    for call, args, function in (
            (storage.storage_pool_refresh, (pool, 2), "storagePoolRefresh"),
            (storage.storage_pool_get_xml_desc, (pool, 6), "storagePoolGetXMLDesc"),
            (storage.storage_pool_list_all_volumes, (pool, 2), "storagePoolListAllVolumes"),
            (storage.storage_pool_build, (inactive, 1), "virStorageBackendFileSystemBuild")):
        err = error(call, *args)      # virReportInvalidArg: the text alone, as libvirtd 9.0
        assert (err.code, err.domain, err.message) == (
            ErrorNumber.INVALID_ARG, ErrorDomain.STORAGE,
            f"unsupported flags (0x{args[1]:x}) in function {function}")
