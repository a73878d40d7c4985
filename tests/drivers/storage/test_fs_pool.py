"""fs pools on a real loop device (mkfs on build, mount on start, umount on stop, found
mounted again by a new driver), and netfs pools with a runner that records the commands the
kernel here cannot serve (no NFS client), answered with showmount's real output format."""

from __future__ import annotations

import json
import re
import subprocess
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.storage.backend_fs import is_mounted
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.drivers.storage.runner import Result
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd

MiB = 1024 * 1024


def _mount_points(device: str) -> list[str]:
    return [fields[1] for line in Path("/proc/mounts").read_text().splitlines()
            if (fields := line.split())[0] == device]


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(64 * MiB)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True,
                            text=True, check=True).stdout.strip()
    try:
        yield device
    finally:
        for point in _mount_points(device):
            subprocess.run(["umount", "-l", point], check=False)
        subprocess.run(["losetup", "-d", device], check=False)


@pytest.fixture
def paths(tmp_path: Path) -> StoragePaths:
    return StoragePaths.under(tmp_path / "root")


@pytest.fixture
def storage(paths: StoragePaths) -> Iterator[LocalStorageDriver]:
    driver = LocalStorageDriver(paths)
    yield driver
    driver.close()


def fs_xml(device: str, target: Path, fmt: str = "ext4", uuid: str = "") -> str:
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<pool type='fs'><name>fsp</name>{uuid_el}<source><device path='{device}'/>"
            f"<format type='{fmt}'/></source><target><path>{target}</path></target></pool>")


def error(call: object, *args: object) -> QvirtError:
    assert callable(call)
    with pytest.raises(QvirtError) as info:
        call(*args)
    return info.value


def blkid_type(device: str) -> str:
    return subprocess.run(["blkid", "-p", "-s", "TYPE", "-o", "value", device],
                          capture_output=True, text=True, check=False).stdout.strip()


def test_build_makes_the_file_system_only_when_asked(storage: LocalStorageDriver,
                                                     loop_device: str,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "mnt"
    ref = storage.storage_pool_define_xml(fs_xml(loop_device, target))
    storage.storage_pool_build(ref)
    assert target.is_dir() and blkid_type(loop_device) == ""
    err = error(storage.storage_pool_create, ref)
    assert (err.code, err.domain) == (ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE)
    assert err.message.startswith(
        f"internal error: Child process (mount -o nodev,nosuid,noexec -t ext4 {loop_device} "
        f"{target}) unexpected exit status 32: ")
    err = error(storage.storage_pool_build, ref, C.VIR_STORAGE_POOL_BUILD_OVERWRITE
                | C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
    assert (err.code, err.message) == (
        ErrorNumber.INVALID_ARG, "Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and "
        "'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' are mutually exclusive")
    storage.storage_pool_build(ref, C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
    assert blkid_type(loop_device) == "ext4"
    err = error(storage.storage_pool_build, ref, C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
    assert (err.code, err.message) == (
        ErrorNumber.STORAGE_POOL_BUILT,
        f"Storage pool already built: Device '{loop_device}' already formatted using 'ext4'")
    ext3 = storage.storage_pool_define_xml(fs_xml(loop_device, target, "ext3", ref.uuid))
    err = error(storage.storage_pool_build, ext3, C.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
    assert (err.code, err.message) == (
        ErrorNumber.STORAGE_POOL_BUILT,
        f"Storage pool already built: Format of device '{loop_device}' does not match the "
        "expected format 'ext3', forced overwrite is necessary")
    storage.storage_pool_build(ext3, C.VIR_STORAGE_POOL_BUILD_OVERWRITE)
    assert blkid_type(loop_device) == "ext3"


def test_start_mounts_and_a_new_driver_finds_the_mount(paths: StoragePaths, loop_device: str,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "mnt"
    first = LocalStorageDriver(paths)
    ref = first.storage_pool_create_xml(fs_xml(loop_device, target),
                                        C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE)
    assert _mount_points(loop_device) == [str(target)]
    info = first.storage_pool_get_info(ref)
    assert 40 * MiB < info.capacity < 64 * MiB
    vol = first.storage_vol_create_xml(
        ref, "<volume><name>v.img</name><capacity unit='MiB'>4</capacity></volume>")
    assert (target / "v.img").stat().st_size == 4 * MiB
    assert first.storage_pool_lookup_by_target_path(str(target)) == ref
    first.close()
    second = LocalStorageDriver(paths)
    assert second.storage_pool_is_active(ref)
    assert sorted(v.name for v in second.storage_pool_list_all_volumes(ref)) == [
        "lost+found", "v.img"]
    assert second.storage_vol_lookup_by_path(vol.key) == vol
    second.storage_pool_destroy(ref)        # transient: gone with its stop
    assert _mount_points(loop_device) == [] and not is_mounted(str(target))
    second.close()


def test_pool_whose_mount_went_away_is_inactive_after_restart(paths: StoragePaths,
                                                               loop_device: str,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "mnt"
    first = LocalStorageDriver(paths)
    ref = first.storage_pool_define_xml(fs_xml(loop_device, target))
    first.storage_pool_create(ref, C.VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE)
    first.close()
    subprocess.run(["umount", str(target)], check=True)
    second = LocalStorageDriver(paths)
    assert not second.storage_pool_is_active(ref)
    assert not paths.state("fsp").exists()
    second.storage_pool_create(ref)
    assert _mount_points(loop_device) == [str(target)]
    second.storage_pool_destroy(ref)
    assert _mount_points(loop_device) == []
    second.close()


class RecordingRunner:
    """Records each argv; answers with the canned result of the first matching prefix."""

    def __init__(self, answers: dict[tuple[str, ...], Result]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result:
        self.calls.append(argv)
        for prefix, result in self.answers.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return result
        return Result(tuple(argv), 0, "", "")


def test_netfs_mount_and_find_sources(tmp_path: Path) -> None:
    # showmount --no-headers --exports as nfs-common prints it: the export, blanks, its
    # clients
    exports = "/srv/nfs/images   192.168.122.0/24\n/srv/nfs/my iso   *\n"
    runner = RecordingRunner({
        ("showmount", "--no-headers", "--exports", "nfs.example"): Result((), 0, exports, ""),
        ("showmount",): Result((), 1, "", "clnt_create: RPC: Unknown host\n"),
    })
    storage = LocalStorageDriver(StoragePaths.under(tmp_path / "root"), runner)
    try:
        found = storage.connect_find_storage_pool_sources(
            "netfs", "<source><host name='nfs.example'/></source>")
        assert found == ("<sources>\n  <source>\n    <host name='nfs.example'/>\n"
                         "    <dir path='/srv/nfs/images'/>\n    <format type='nfs'/>\n"
                         "  </source>\n  <source>\n    <host name='nfs.example'/>\n"
                         "    <dir path='/srv/nfs/my iso'/>\n    <format type='nfs'/>\n"
                         "  </source>\n</sources>\n")
        err = error(storage.connect_find_storage_pool_sources, "netfs", None)
        assert err.message == "invalid argument: hostname must be specified for netfs sources"
        err = error(storage.connect_find_storage_pool_sources, "netfs",
                    "<source><host name='gone'/></source>")
        assert err.message == "operation failed: no storage pools were found on host 'gone'"
        err = error(storage.connect_find_storage_pool_sources, "fs", None)
        assert err.message == ("this function is not supported by the connection driver: "
                               "pool type 'fs' does not support source discovery")
        target = tmp_path / "nfs"
        ref = storage.storage_pool_define_xml(
            "<pool type='netfs'><name>n</name><source><host name='nfs.example'/>"
            "<dir path='/srv/nfs/images'/><format type='nfs'/><protocol ver='4'/></source>"
            f"<target><path>{target}</path></target></pool>")
        storage.storage_pool_create(ref, C.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        assert storage.storage_pool_is_active(ref)
        storage.storage_pool_destroy(ref)
        # the command lines libvirtd 9.0 runs for these pools (from its mount errors)
        assert runner.calls[-1] == [
            "mount", "-o", "nodev,nosuid,noexec,nfsvers=4", "-t", "nfs",
            "nfs.example:/srv/nfs/images", str(target)]
        sync = ("<fs:mount_opts xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>"
                "<fs:option name='sync'/></fs:mount_opts>")
        for fmt, in_source, after, argv in (
                ("auto", "<protocol ver='3'/>", "", ["-o", "nodev,nosuid,noexec,nfsvers=3",
                                                     "nfs.example:/srv/x"]),
                ("nfs", "", sync, ["-o", "nodev,nosuid,noexec,sync", "-t", "nfs",
                                   "nfs.example:/srv/x"]),
                ("glusterfs", "", "", ["-o", "nodev,nosuid,noexec,direct-io-mode=1", "-t",
                                       "glusterfs", "nfs.example:/srv/x"]),
                ("cifs", "", "", ["-o", "nodev,nosuid,noexec,guest", "-t", "cifs",
                                  "//nfs.example//srv/x"])):
            xml = ("<pool type='netfs'><name>m</name><source><host name='nfs.example'/>"
                   f"<dir path='/srv/x'/><format type='{fmt}'/>{in_source}</source>"
                   f"<target><path>{target}</path></target>{after}</pool>")
            storage.storage_pool_destroy(storage.storage_pool_create_xml(xml))
            assert runner.calls[-1] == ["mount", *argv, str(target)], fmt
    finally:
        storage.close()


_ORACLE_FS = """
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
try:
    vol = pool.createXML("<volume><name>v.img</name><capacity>4096</capacity></volume>", 0)
    pool.refresh(0)
    print(json.dumps({"pool": pool.XMLDesc(0),
                      "vols": {v.name(): v.XMLDesc(0) for v in pool.listAllVolumes()}}))
    vol.delete(0)
finally:
    pool.destroy()
"""


def test_fs_pool_and_volumes_as_libvirtd_shows_them(storage: LocalStorageDriver,
                                                     loop_device: str,
                                                     tmp_path: Path) -> None:
    subprocess.run(["mkfs.ext4", "-q", loop_device], check=True)
    target = tmp_path / "mnt"
    target.mkdir()
    xml = fs_xml(loop_device, target).replace("<name>fsp</name>",
                                              f"<name>qvirt-fs-{uuidlib.uuid4().hex[:8]}</name>")
    ensure_libvirtd()
    theirs = json.loads(subprocess.run([SYSTEM_PYTHON, "-c", _ORACLE_FS, URI, xml],
                                       capture_output=True, text=True, check=True).stdout)
    assert _mount_points(loop_device) == []
    ref = storage.storage_pool_create_xml(xml)
    vol = storage.storage_vol_create_xml(
        ref, "<volume><name>v.img</name><capacity>4096</capacity></volume>")
    storage.storage_pool_refresh(ref)

    def strip(text: str) -> str:
        text = re.sub(r"<uuid>.*?</uuid>", "", text)
        return re.sub(r"\s*<timestamps>.*?</timestamps>", "", text, flags=re.S)

    ours = {v.name: strip(storage.storage_vol_get_xml_desc(v))
            for v in storage.storage_pool_list_all_volumes(ref)}
    assert ours == {name: strip(text) for name, text in theirs["vols"].items()}
    assert strip(storage.storage_pool_get_xml_desc(ref)) == strip(theirs["pool"])
    storage.storage_vol_delete(vol)
    storage.storage_pool_destroy(ref)
