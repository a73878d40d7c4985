"""qvirt's remote storage driver against the real libvirtd 9.0, and the same steps against
qvirtd: a dir pool's life, volumes, pool events, the legacy name lists, and a sparse upload
and download whose holes travel as holes, so the wire layouts and the stream's hole handling
are libvirtd's own."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.client.remote.driver import RemoteDriver
from qvirt.client.remote.stream import RemoteStream
from qvirt.client.stream import AT_HOLE
from qvirt.client.uri import parse_uri
from qvirt.drivers.base import StoragePoolRef
from qvirt.errors import ErrorNumber, QvirtError
from tests.daemon.conftest import start_qvirtd, stop_qvirtd
from tests.support.oracle import ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
MIB = 1 << 20
WAIT = 60.0


@pytest.fixture(params=["libvirtd", "qvirtd"])
def conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RemoteDriver]:
    if request.param == "libvirtd":
        ensure_libvirtd()
        uri = LIBVIRTD_URI
    else:
        daemon = start_qvirtd(tmp_path / "r")
        request.addfinalizer(lambda: stop_qvirtd(daemon))
        uri = daemon.uri
    driver = RemoteDriver(parse_uri(uri), read_only=False)
    yield driver
    driver.connect_close()


def _pool_xml(name: str, path: Path) -> str:
    return (f"<pool type='dir'><name>{name}</name>"
            f"<target><path>{path}</path></target></pool>")


def _drain(stream: RemoteStream) -> list[bytes | int]:
    """Everything the stream carries, holes as their lengths."""
    got: list[bytes | int] = []
    while True:
        chunk = stream.recv_flags(1 << 18, nonblock=False, stop_at_hole=True)
        if chunk == AT_HOLE:
            got.append(stream.recv_hole())
            continue
        assert isinstance(chunk, bytes)
        if not chunk:
            stream.finish()
            return got
        got.append(chunk)


@pytest.mark.compat
def test_dir_pool_volumes_and_sparse_streams(conn: RemoteDriver, tmp_path: Path) -> None:
    storage = conn.storage
    name = f"qd7-{os.getpid()}-pool"
    target = tmp_path / "pool"
    events: list[tuple[str, int, int, int]] = []
    seen = threading.Condition()

    def on_event(pool: StoragePoolRef, event_id: int, event: int, detail: int) -> None:
        with seen:
            events.append((pool.name, event_id, event, detail))
            seen.notify_all()

    lifecycle = storage.connect_storage_pool_event_register_any(
        None, C.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, on_event)
    pool = storage.storage_pool_define_xml(_pool_xml(name, target))
    try:
        storage.storage_pool_build(pool)
        storage.storage_pool_create(pool)
        assert storage.storage_pool_is_active(pool)
        assert storage.storage_pool_is_persistent(pool)
        assert storage.storage_pool_lookup_by_name(name) == pool
        assert storage.storage_pool_lookup_by_uuid(pool.uuid) == pool
        assert storage.storage_pool_lookup_by_target_path(str(target)) == pool
        assert pool in storage.connect_list_all_storage_pools(
            C.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        assert name in conn._call("CONNECT_LIST_STORAGE_POOLS", {"maxnames": 4096})["names"]
        assert conn._call("CONNECT_NUM_OF_STORAGE_POOLS")["num"] >= 1
        assert storage.storage_pool_get_info(pool).state == C.VIR_STORAGE_POOL_RUNNING
        assert f"<name>{name}</name>" in storage.storage_pool_get_xml_desc(pool)
        assert "<storagepoolCapabilities>" in \
            storage.connect_get_storage_pool_capabilities()

        vol = storage.storage_vol_create_xml(pool, (
            "<volume><name>v.raw</name><capacity unit='MiB'>8</capacity>"
            "<allocation>0</allocation><target><format type='raw'/></target></volume>"))
        path = str(target / "v.raw")
        assert storage.storage_vol_get_path(vol) == path
        assert storage.storage_vol_lookup_by_path(path) == vol
        assert storage.storage_vol_lookup_by_key(vol.key) == vol
        assert storage.storage_pool_lookup_by_volume(vol) == pool
        assert storage.storage_pool_list_all_volumes(pool) == [vol]
        assert storage._pool("STORAGE_POOL_LIST_VOLUMES", pool, maxnames=10) == \
            {"names": ["v.raw"]}
        assert storage._pool("STORAGE_POOL_NUM_OF_VOLUMES", pool) == {"num": 1}
        info = storage.storage_vol_get_info_flags(vol)
        assert (info.type, info.capacity) == (C.VIR_STORAGE_VOL_FILE, 8 * MIB)

        # Upload 1 MiB of data, a 3 MiB hole, 1 MiB of data, sparse.
        head, tail = os.urandom(MIB), os.urandom(MIB)
        up = storage.storage_vol_upload(vol, 0, 5 * MIB,
                                        C.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
        up.send(head, nonblock=False)
        up.send_hole(3 * MIB)
        up.send(tail, nonblock=False)
        up.finish()
        assert Path(path).read_bytes()[:5 * MIB] == head + bytes(3 * MIB) + tail

        down = storage.storage_vol_download(vol, 0, 5 * MIB,
                                            C.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
        got = _drain(down)
        assert 3 * MIB in [g for g in got if isinstance(g, int)]
        assert b"".join(bytes(g) if isinstance(g, int) else g for g in got) == \
            head + bytes(3 * MIB) + tail

        # Without the flag, the same bytes come as data only; a hole is refused.
        plain = storage.storage_vol_download(vol, MIB - 4, 8, 0)
        assert _drain(plain) == [head[-4:] + bytes(4)]
        up = storage.storage_vol_upload(vol, 0, 0, 0)
        with pytest.raises(QvirtError, match="Skipping is not supported"):
            up.send_hole(1)
        up.abort()

        storage.storage_vol_delete(vol)
        with pytest.raises(QvirtError) as caught:
            storage.storage_vol_lookup_by_path(path)
        assert caught.value.code == ErrorNumber.NO_STORAGE_VOL
    finally:
        if storage.storage_pool_is_active(pool):
            storage.storage_pool_destroy(pool)
        storage.storage_pool_undefine(pool)
    deadline = time.monotonic() + WAIT
    with seen:
        while (name, 0, C.VIR_STORAGE_POOL_EVENT_UNDEFINED, 0) not in events:
            assert seen.wait(deadline - time.monotonic()), events
    # pool-build reports CREATED.
    assert [e[2] for e in events if e[0] == name] == [
        C.VIR_STORAGE_POOL_EVENT_DEFINED, C.VIR_STORAGE_POOL_EVENT_CREATED,
        C.VIR_STORAGE_POOL_EVENT_STARTED,
        C.VIR_STORAGE_POOL_EVENT_STOPPED, C.VIR_STORAGE_POOL_EVENT_UNDEFINED]
    storage.connect_storage_pool_event_deregister_any(lifecycle)
