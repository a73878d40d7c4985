"""The tiny guest with its data disk from a storage volume (<disk type='volume'>): QEMU
opens the volume's file, the guest formats and mounts it, and the live XML keeps naming the
pool and the volume; libvirt's errors for a missing or stopped pool and a missing volume."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.drivers.qemu.conftest import tiny_xml
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd


def volume_disk_xml(image: Path, work: Path, pool: str, volume: str) -> tuple[str, Path]:
    xml, console = tiny_xml(image, work)
    disk = ("<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
            f"<source pool='{pool}' volume='{volume}'/><target dev='vda' bus='virtio'/>"
            "</disk>")
    xml = re.sub(r"<disk type='file' device='disk'>.*?</disk>", disk, xml, flags=re.S)
    return xml, console.path


def start_error(driver: QemuDriver, xml: str) -> QvirtError:
    with pytest.raises(QvirtError) as info:
        driver.domain_create_xml(xml, 0)
    return info.value


@pytest.mark.integration
def test_guest_boots_with_its_data_disk_from_a_volume(driver: QemuDriver, tiny_image: Path,
                                                      tmp_path: Path) -> None:
    from tests.drivers.qemu.conftest import Console
    storage = driver.storage
    pool = storage.storage_pool_lookup_by_name("default")
    vol = storage.storage_vol_create_xml(
        pool, "<volume><name>data.img</name><capacity unit='MiB'>64</capacity>"
              "<allocation>0</allocation></volume>")
    xml, console_path = volume_disk_xml(tiny_image, tmp_path / "g", "default", "data.img")
    ref = driver.domain_create_xml(xml, 0)
    Console(console_path).wait_for("TINY-GUEST-READY")
    live = driver.domain_get_xml_desc(ref, 0)
    assert re.search(r"<disk type='volume' device='disk'>\s*<driver name='qemu' type='raw'/>"
                     r"\s*<source pool='default' volume='data.img' index='1'/>", live), live
    cmdline = Path(f"/proc/{_qemu_pid(vol.key)}/cmdline").read_bytes()
    assert f'"filename":"{vol.key}"'.encode() in cmdline
    driver.domain_destroy_flags(ref)
    label = subprocess.run(["blkid", "-s", "LABEL", "-o", "value", vol.key],
                           capture_output=True, text=True, check=False).stdout.strip()
    assert label == "tiny-data"        # the guest made its file system on the volume


def _qemu_pid(path: str) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"qemu-system" in cmdline.split(b"\0")[0] and path.encode() in cmdline:
                return int(entry.name)
    raise AssertionError(f"no QEMU has {path} open")


def test_missing_pool_stopped_pool_and_missing_volume(driver: QemuDriver, tiny_image: Path,
                                                      tmp_path: Path) -> None:
    xml, _ = volume_disk_xml(tiny_image, tmp_path / "g1", "nopool", "data.img")
    err = start_error(driver, xml)
    assert (err.code, err.domain) == (ErrorNumber.NO_STORAGE_POOL, ErrorDomain.STORAGE)
    assert err.message == "Storage pool not found: no storage pool with matching name 'nopool'"
    xml, _ = volume_disk_xml(tiny_image, tmp_path / "g2", "default", "nothing.img")
    err = start_error(driver, xml)
    assert (err.code, err.message) == (
        ErrorNumber.NO_STORAGE_VOL,
        "Storage volume not found: no storage vol with matching name 'nothing.img'")
    storage = driver.storage
    storage.storage_pool_destroy(storage.storage_pool_lookup_by_name("default"))
    err = start_error(driver, xml)
    assert (err.code, err.message) == (
        ErrorNumber.CONFIG_UNSUPPORTED, "unsupported configuration: storage pool 'default' "
        "containing volume 'nothing.img' is not active")
    assert driver.connect_list_all_domains() == []


_ORACLE_START = """
import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
try:
    vol = pool.createXML(sys.argv[3], 0)
    try:
        dom = conn.createXML(sys.argv[4], libvirt.VIR_DOMAIN_START_PAUSED)
        print(dom.XMLDesc(0))
        dom.destroy()
    finally:
        vol.delete(0)
finally:
    pool.destroy()
"""


def _disks(xml: str) -> list[str]:
    return re.findall(r"<disk .*?</disk>", xml, flags=re.S)


@pytest.mark.integration
def test_live_disks_as_libvirtd_shows_them(driver: QemuDriver) -> None:
    name = f"qvirt-vd-{uuid.uuid4().hex[:8]}"
    # libvirtd's QEMU runs as its own user: the images in a directory it may enter
    images = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        images.chmod(0o755)
        ours, theirs = _start_both(driver, name, images)
    finally:
        shutil.rmtree(images)
    assert _disks(ours) == _disks(theirs)


def _start_both(driver: QemuDriver, name: str, images: Path) -> tuple[str, str]:
    pool_xml = (f"<pool type='dir'><name>{name}</name><target><path>{images}</path></target>"
                "</pool>")
    vol_xml = ("<volume><name>data.img</name><capacity unit='MiB'>8</capacity>"
               "<allocation>0</allocation></volume>")
    dom_xml = (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
               "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
               "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
               f"<source pool='{name}' volume='data.img'/><target dev='vda' bus='virtio'/>"
               "</disk><disk type='volume' device='disk'>"
               f"<source pool='{name}' volume='data.img'/><target dev='vdb' bus='virtio'/>"
               "<readonly/><shareable/></disk></devices></domain>")
    ensure_libvirtd()
    theirs = subprocess.run([SYSTEM_PYTHON, "-c", _ORACLE_START, URI, pool_xml, vol_xml,
                             dom_xml], capture_output=True, text=True, check=True).stdout
    storage = driver.storage
    pool = storage.storage_pool_create_xml(pool_xml)
    storage.storage_vol_create_xml(pool, vol_xml)
    ref = driver.domain_create_xml(dom_xml, 1)     # VIR_DOMAIN_START_PAUSED
    ours = driver.domain_get_xml_desc(ref, 0)
    driver.domain_destroy_flags(ref)
    storage.storage_pool_destroy(pool)
    return ours, theirs


_ORACLE_NATIVE = """
import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
try:
    vol = pool.createXML(sys.argv[3], 0)
    try:
        print(conn.domainXMLToNative("qemu-argv", sys.argv[4], 0))
    finally:
        vol.delete(0)
finally:
    pool.destroy()
"""


def test_native_command_line_as_libvirtd_makes_it(driver: QemuDriver, tmp_path: Path) -> None:
    name = f"qvirt-vn-{uuid.uuid4().hex[:8]}"
    images = tmp_path / "images"
    images.mkdir()
    pool_xml = (f"<pool type='dir'><name>{name}</name><target><path>{images}</path></target>"
                "</pool>")
    vol_xml = ("<volume><name>data.img</name><capacity unit='MiB'>8</capacity>"
               "<allocation>0</allocation></volume>")
    dom_xml = (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
               "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
               "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
               f"<source pool='{name}' volume='data.img'/><target dev='vda' bus='virtio'/>"
               "</disk></devices></domain>")
    ensure_libvirtd()
    theirs = subprocess.run([SYSTEM_PYTHON, "-c", _ORACLE_NATIVE, URI, pool_xml, vol_xml,
                             dom_xml], capture_output=True, text=True, check=True).stdout
    storage = driver.storage
    pool = storage.storage_pool_create_xml(pool_xml)
    storage.storage_vol_create_xml(pool, vol_xml)
    ours = driver.connect_domain_xml_to_native("qemu-argv", dom_xml)

    def blockdevs(argv: str) -> list[str]:
        return re.findall(r"-blockdev (\S+)", argv)

    assert blockdevs(ours) == blockdevs(theirs)
    assert str(images / "data.img") in blockdevs(ours)[0]
