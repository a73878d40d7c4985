"""Volumes of a dir pool through the storage driver: creation (raw sparse or allocated,
qcow2 through qemu-img with backing store and options), sparse-aware cloning, resize, wipe,
delete, look-ups, the in-use bookkeeping and libvirt's errors (checked against libvirtd 9.0)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.base import StoragePoolRef
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.drivers.storage.runner import HostRunner, Result
from qvirt.drivers.storage.volume_file import data_extents
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

MiB = 1024 * 1024
GiB = 1024 * MiB


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[LocalStorageDriver]:
    driver = LocalStorageDriver(StoragePaths.under(tmp_path / "root"))
    yield driver
    driver.close()


@pytest.fixture
def pool(storage: LocalStorageDriver) -> StoragePoolRef:
    return storage.storage_pool_lookup_by_name("default")


def vol_xml(name: str, capacity: int, allocation: int | None = None, fmt: str = "raw",
            extra: str = "") -> str:
    alloc = f"<allocation>{allocation}</allocation>" if allocation is not None else ""
    return (f"<volume><name>{name}</name><capacity>{capacity}</capacity>{alloc}"
            f"<target><format type='{fmt}'/>{extra}</target></volume>")


def error(call: object, *args: object) -> QvirtError:
    assert callable(call)
    with pytest.raises(QvirtError) as info:
        call(*args)
    return info.value


def qemu_img_info(path: str) -> dict[str, object]:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path],
                         capture_output=True, text=True, check=True).stdout
    info: dict[str, object] = json.loads(out)
    return info


def same_bytes(a: str, b: str) -> bool:
    """Equal sizes and equal data, read where either file holds any (the rest is holes,
    which read as zeros in both)."""
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    size = os.path.getsize(a)
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for extent in data_extents(fa.fileno(), size) + data_extents(fb.fileno(), size):
            start, end = extent
            fa.seek(start)
            fb.seek(start)
            if fa.read(end - start) != fb.read(end - start):
                return False
    return True


def test_permissions_of_a_new_volume(storage: LocalStorageDriver,
                                     pool: StoragePoolRef) -> None:
    vol = storage.storage_vol_create_xml(pool, vol_xml(
        "m.img", 1000, extra="<permissions><mode>0640</mode><owner>1000</owner>"
                             "<group>1001</group></permissions>"))
    st = os.stat(vol.key)
    assert (oct(st.st_mode), st.st_uid, st.st_gid, st.st_size) == ("0o100640", 1000, 1001,
                                                                    1000)


def test_raw_sparse_and_allocated(storage: LocalStorageDriver, pool: StoragePoolRef) -> None:
    before = storage.storage_pool_get_info(pool).allocation
    sparse = storage.storage_vol_create_xml(pool, vol_xml("sparse.img", 64 * MiB, 0))
    full = storage.storage_vol_create_xml(pool, vol_xml("full.img", 8 * MiB))
    path = storage.storage_vol_get_path(sparse)
    assert sparse.key == path and path.endswith("/lib/images/sparse.img")
    assert os.stat(path).st_mode & 0o777 == 0o600
    info = storage.storage_vol_get_info_flags(sparse)
    assert (info.type, info.capacity, info.allocation) == (C.VIR_STORAGE_VOL_FILE, 64 * MiB, 0)
    physical = storage.storage_vol_get_info_flags(sparse, C.VIR_STORAGE_VOL_GET_PHYSICAL)
    assert physical.allocation == 64 * MiB
    assert storage.storage_vol_get_info_flags(full).allocation >= 8 * MiB
    assert storage.storage_pool_get_info(pool).allocation >= before + 8 * MiB
    xml = storage.storage_vol_get_xml_desc(full)
    assert "<format type='raw'/>" in xml and "<mode>0600</mode>" in xml
    assert "<btime>0</btime>" in xml and f"<physical unit='bytes'>{8 * MiB}</physical>" in xml
    assert storage.storage_vol_lookup_by_key(path) == sparse
    assert storage.storage_vol_lookup_by_path(path) == sparse
    assert storage.storage_vol_lookup_by_name(pool, "full.img") == full
    assert storage.storage_pool_lookup_by_volume(full) == pool
    storage.storage_pool_refresh(pool)
    assert sorted(v.name for v in storage.storage_pool_list_all_volumes(pool)) == [
        "full.img", "sparse.img"]


def test_qcow2_with_backing_store_and_options(storage: LocalStorageDriver,
                                              pool: StoragePoolRef) -> None:
    base = storage.storage_vol_create_xml(pool, vol_xml("base.img", 16 * MiB, 0))
    extra = "<compat>1.1</compat><features><lazy_refcounts/></features>"
    top = storage.storage_vol_create_xml(
        pool, vol_xml("top.qcow2", 32 * MiB, fmt="qcow2", extra=extra).replace(
            "</volume>", f"<backingStore><path>{base.key}</path><format type='raw'/>"
                         "</backingStore></volume>"))
    info = qemu_img_info(top.key)
    assert info["format"] == "qcow2" and info["virtual-size"] == 32 * MiB
    assert info["backing-filename"] == base.key and info["backing-filename-format"] == "raw"
    specific = info["format-specific"]
    assert isinstance(specific, dict) and specific["data"]["lazy-refcounts"] is True
    xml = storage.storage_vol_get_xml_desc(top)
    assert "<format type='qcow2'/>" in xml and "<compat>1.1</compat>" in xml
    assert "<lazy_refcounts/>" in xml and f"<path>{base.key}</path>" in xml
    assert "<physical unit='bytes'>" in xml
    assert storage.storage_vol_get_info_flags(top).capacity == 32 * MiB
    # libvirt's PREALLOC_METADATA: metadata below the capacity, the whole image at it
    prealloc = C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
    meta = storage.storage_vol_create_xml(
        pool, vol_xml("meta.qcow2", 64 * MiB, 0, fmt="qcow2"), prealloc)
    full = storage.storage_vol_create_xml(pool, vol_xml("full.qcow2", 64 * MiB, fmt="qcow2"),
                                          prealloc)
    plain = storage.storage_vol_create_xml(pool, vol_xml("plain.qcow2", 64 * MiB, fmt="qcow2"))
    sizes = [storage.storage_vol_get_info_flags(v).allocation for v in (plain, meta, full)]
    assert sizes[0] < sizes[1] < MiB < 64 * MiB < sizes[2]


def test_sparse_clone_copies_only_data(storage: LocalStorageDriver,
                                       pool: StoragePoolRef) -> None:
    source = storage.storage_vol_create_xml(pool, vol_xml("big.img", 10 * GiB, 0))
    chunk = os.urandom(MiB)
    with open(source.key, "r+b") as f:
        for i in range(100):
            f.seek(i * 97 * MiB)
            f.write(chunk)
    clone = storage.storage_vol_create_xml_from(pool, vol_xml("clone.img", 0, 0), source)
    info = storage.storage_vol_get_info_flags(clone)
    assert info.capacity == 10 * GiB
    assert 100 * MiB <= info.allocation <= 110 * MiB
    assert same_bytes(source.key, clone.key)
    converted = storage.storage_vol_create_xml_from(
        pool, vol_xml("clone.qcow2", 0, 0, fmt="qcow2"), source)
    assert qemu_img_info(converted.key)["format"] == "qcow2"
    assert subprocess.run(["qemu-img", "compare", "-q", source.key, converted.key]
                          ).returncode == 0
    small = storage.storage_vol_create_xml(pool, vol_xml("small.img", MiB, 0))
    full = storage.storage_vol_create_xml_from(pool, "<volume><name>full.img</name></volume>",
                                               small)       # no capacity: the source's
    assert storage.storage_vol_get_info_flags(full).capacity == MiB
    assert storage.storage_vol_get_info_flags(full).allocation >= MiB    # fully allocated
    # ext4 here cannot share blocks: libvirtd 9.0 refuses rather than copies, and so do we
    reflink = C.VIR_STORAGE_VOL_CREATE_REFLINK
    err = error(storage.storage_vol_create_xml_from, pool, vol_xml("r.img", 0), small, reflink)
    assert (err.code, err.message) == (
        ErrorNumber.SYSTEM_ERROR, f"failed to clone files from '{small.key}': "
                                  "Operation not supported")
    err = error(storage.storage_vol_create_xml_from, pool, vol_xml("r.qcow2", 0, fmt="qcow2"),
                small, reflink)
    assert err.message == "unsupported flags (0x2) in function storageBackendCreateQemuImg"
    assert not {"r.img", "r.qcow2"} & {v.name for v in
                                       storage.storage_pool_list_all_volumes(pool)}
    err = error(storage.storage_vol_create_xml_from, pool, vol_xml("clone.img", 0), source)
    assert (err.code, err.message) == (ErrorNumber.INTERNAL_ERROR, "internal error: storage "
                                       "volume name 'clone.img' already in use.")


def test_resize(storage: LocalStorageDriver, pool: StoragePoolRef) -> None:
    vol = storage.storage_vol_create_xml(pool, vol_xml("r.img", 10 * MiB, 0))
    err = error(storage.storage_vol_resize, vol, MiB)
    assert (err.code, err.domain) == (ErrorNumber.INVALID_ARG, ErrorDomain.STORAGE)
    assert err.message == ("invalid argument: Can't shrink capacity below current capacity "
                           "unless shrink flag explicitly specified")
    err = error(storage.storage_vol_resize, vol, 2**50, C.VIR_STORAGE_VOL_RESIZE_ALLOCATE)
    assert err.message == "operation failed: Not enough space left in storage pool"
    storage.storage_vol_resize(vol, 5 * MiB, C.VIR_STORAGE_VOL_RESIZE_DELTA)
    assert os.path.getsize(vol.key) == 15 * MiB
    storage.storage_vol_resize(vol, 12 * MiB, C.VIR_STORAGE_VOL_RESIZE_SHRINK)
    assert os.path.getsize(vol.key) == 12 * MiB
    storage.storage_vol_resize(vol, 16 * MiB, C.VIR_STORAGE_VOL_RESIZE_ALLOCATE)
    assert storage.storage_vol_get_info_flags(vol).allocation >= 16 * MiB
    q = storage.storage_vol_create_xml(pool, vol_xml("r.qcow2", 10 * MiB, fmt="qcow2"))
    storage.storage_vol_resize(q, 20 * MiB)
    assert storage.storage_vol_get_info_flags(q).capacity == 20 * MiB


def test_wipe_keeps_sparse_files_sparse(storage: LocalStorageDriver,
                                        pool: StoragePoolRef) -> None:
    vol = storage.storage_vol_create_xml(pool, vol_xml("w.img", 64 * MiB, 0))
    with open(vol.key, "r+b") as f:
        f.write(b"\xff" * MiB)
    storage.storage_vol_wipe(vol)
    with open(vol.key, "rb") as f:
        assert f.read(MiB) == bytes(MiB)
    assert os.stat(vol.key).st_blocks == 0 and os.path.getsize(vol.key) == 64 * MiB
    full = storage.storage_vol_create_xml(pool, vol_xml("f.img", 2 * MiB))
    storage.storage_vol_wipe_pattern(full, C.VIR_STORAGE_VOL_WIPE_ALG_RANDOM)
    with open(full.key, "rb") as f:
        assert f.read().count(0) < MiB
    storage.storage_vol_wipe(full)
    with open(full.key, "rb") as f:
        assert f.read() == bytes(2 * MiB)
    storage.storage_vol_wipe_pattern(full, C.VIR_STORAGE_VOL_WIPE_ALG_DOD)   # by scrub
    with open(full.key, "rb") as f:
        assert len(data := f.read()) == 2 * MiB and data != bytes(2 * MiB)
    err = error(storage.storage_vol_wipe_pattern, full, C.VIR_STORAGE_VOL_WIPE_ALG_TRIM)
    assert (err.code, err.message) == (ErrorNumber.ARGUMENT_UNSUPPORTED,
                                       "argument unsupported: 'trim' algorithm not supported")
    err = error(storage.storage_vol_wipe_pattern, full, 42)
    assert err.message == "invalid argument: wiping algorithm 42 not supported"
    # as libvirtd 9.0: an image's allocated bytes become zeros, and the volume raw
    image = storage.storage_vol_create_xml(pool, vol_xml("w.qcow2", 64 * MiB, fmt="qcow2"))
    allocated = storage.storage_vol_get_info_flags(image).allocation
    storage.storage_vol_wipe(image)
    assert storage.storage_vol_get_info_flags(image).capacity == allocated
    assert "<format type='raw'/>" in storage.storage_vol_get_xml_desc(image)


def test_volume_errors(storage: LocalStorageDriver, pool: StoragePoolRef) -> None:
    err = error(storage.storage_vol_create_xml, pool, vol_xml("v", 1),
                C.VIR_STORAGE_VOL_CREATE_VALIDATE)        # as libvirtd 9.0 answers
    assert err.message == "unsupported flags (0x4) in function virStorageVolDefParseXML"
    err = error(storage.storage_vol_create_xml, pool, vol_xml("a/b", 1))
    assert (err.code, err.domain) == (ErrorNumber.OPERATION_INVALID, ErrorDomain.STORAGE)
    assert err.message == "Requested operation is not valid: volume name 'a/b' cannot contain '/'"
    err = error(storage.storage_vol_create_xml, pool, vol_xml("huge", 2**50))
    assert err.code == ErrorNumber.SYSTEM_ERROR
    assert err.message.startswith("cannot extend file '") and \
        err.message.endswith("/huge': File too large")
    assert not any(v.name == "huge" for v in storage.storage_pool_list_all_volumes(pool))
    storage.storage_vol_create_xml(pool, vol_xml("a.img", MiB))
    err = error(storage.storage_vol_create_xml, pool, vol_xml("a.img", MiB))
    assert (err.code, err.message) == (ErrorNumber.STORAGE_VOL_EXIST,
                                       "storage volume 'a.img' exists already")
    assert error(storage.storage_vol_lookup_by_name, pool, "zz").message == (
        "Storage volume not found: no storage vol with matching name 'zz'")
    assert error(storage.storage_vol_lookup_by_key, "/zz").message == (
        "Storage volume not found: no storage vol with matching key /zz")
    assert error(storage.storage_vol_lookup_by_path, "/zz").message == (
        "Storage volume not found: no storage vol with matching path '/zz'")
    assert error(storage.storage_vol_lookup_by_path, "//x//zz/").message == (
        "Storage volume not found: no storage vol with matching path '//x//zz/' (//x/zz)")
    vol = storage.storage_vol_lookup_by_name(pool, "a.img")
    storage.storage_pool_destroy(pool)
    not_active = "Requested operation is not valid: storage pool 'default' is not active"
    assert error(storage.storage_vol_get_info_flags, vol).message == not_active
    assert error(storage.storage_vol_lookup_by_name, pool, "a.img").message == not_active


def test_volume_in_use_by_a_stream(storage: LocalStorageDriver, pool: StoragePoolRef) -> None:
    vol = storage.storage_vol_create_xml(pool, vol_xml("busy.img", MiB))
    with open(vol.key, "r+b") as f:
        f.write(b"data")
    stream = storage.storage_vol_download(vol, 0, 0)
    in_use = "Requested operation is not valid: volume 'busy.img' is still in use."
    assert error(storage.storage_vol_wipe, vol).message == in_use
    assert error(storage.storage_vol_delete, vol).message == in_use
    assert error(storage.storage_pool_destroy, pool).message == in_use
    with open(vol.key, "rb") as f:
        assert f.read(4) == b"data"
    stream.close()
    storage.storage_vol_delete(vol)
    assert not os.path.exists(vol.key)
    assert error(storage.storage_vol_get_path, vol).code == ErrorNumber.NO_STORAGE_VOL


def test_upload_writes_the_volume_and_releases_it(storage: LocalStorageDriver,
                                                   pool: StoragePoolRef) -> None:
    vol = storage.storage_vol_create_xml(pool, vol_xml("up.img", MiB, 0))
    refreshes: queue.Queue[str] = queue.Queue()
    storage.connect_storage_pool_event_register_any(
        pool, C.VIR_STORAGE_POOL_EVENT_ID_REFRESH, lambda p, *_: refreshes.put(p.name))
    stream = storage.storage_vol_upload(vol, 4096, 0)
    in_use = "Requested operation is not valid: volume 'up.img' is still in use."
    assert error(storage.storage_vol_upload, vol, 0, 0).message == in_use
    storage.storage_pool_refresh(pool)          # the volume stays held through a refresh
    assert refreshes.get(timeout=10) == "default"
    assert error(storage.storage_vol_resize, vol, 2 * MiB).message == in_use
    assert stream.write(b"uploaded") == 8
    stream.close()
    assert refreshes.get(timeout=10) == "default"     # libvirt refreshes after an upload
    with open(vol.key, "rb") as f:
        f.seek(4096)
        assert f.read(8) == b"uploaded"
    storage.storage_vol_wipe(vol)        # free again
    with open(vol.key, "rb") as f:
        assert f.read() == bytes(MiB)


class HeldRunner(HostRunner):
    """The host's tools, except that ``qemu-img convert`` waits until released."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result:
        if argv[:2] == ["qemu-img", "convert"]:
            self.started.set()
            assert self.release.wait(60)
        return super().run(argv, input=input, check=check)


def test_volume_being_built_and_its_source_are_kept(tmp_path: Path) -> None:
    runner = HeldRunner()
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner)
    try:
        pool = storage.storage_pool_lookup_by_name("default")
        source = storage.storage_vol_create_xml(pool, vol_xml("src.img", MiB))
        made: list[object] = []
        clone = threading.Thread(target=lambda: made.append(storage.storage_vol_create_xml_from(
            pool, vol_xml("c.qcow2", 0, fmt="qcow2"), source)))
        clone.start()
        assert runner.started.wait(30)
        new = storage.storage_vol_lookup_by_name(pool, "c.qcow2")
        invalid = "Requested operation is not valid: "
        assert error(storage.storage_vol_delete, new).message == (
            invalid + "volume 'c.qcow2' is still being allocated.")
        assert error(storage.storage_vol_wipe, source).message == (
            invalid + "volume 'src.img' is still in use.")
        for call in (storage.storage_pool_destroy, storage.storage_pool_refresh):
            err = error(call, pool)
            assert (err.code, err.message) == (
                ErrorNumber.INTERNAL_ERROR,
                "internal error: pool 'default' has asynchronous jobs running.")
        runner.release.set()
        clone.join(60)
        assert made == [new]
        assert qemu_img_info(new.key)["format"] == "qcow2"
        storage.storage_vol_delete(source)
        storage.storage_pool_destroy(pool)
    finally:
        runner.release.set()
        storage.close()
