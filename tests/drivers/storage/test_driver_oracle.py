"""The storage driver's documents beside libvirtd 9.0's for the same files: a directory of
images is listed by a qvirt pool and by a libvirt pool, and every volume's XML, the pool's and
the pool capabilities must match (times of last access aside: each side reads the headers)."""

from __future__ import annotations

import json
import re
import subprocess
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import QvirtError
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd

MiB = 1024 * 1024

_DUMP = """
import json, re, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
try:
    out = {"pool": pool.XMLDesc(0), "caps": conn.getStoragePoolCapabilities(0),
           "vols": {v.name(): v.XMLDesc(0) for v in pool.listAllVolumes()}, "clones": {}}
    for name in sys.argv[3:]:      # as virsh vol-clone: the source's XML, renamed
        source = pool.storageVolLookupByName(name)
        xml = re.sub("<name>[^<]*</name>", f"<name>clone-{name}</name>", source.XMLDesc(0))
        clone = pool.createXMLFrom(xml, source, 0)
        out["clones"][name] = clone.XMLDesc(0)
        clone.delete(0)
    out["created"] = {}
    for xml in json.loads(sys.stdin.read()):
        vol = pool.createXML(xml, 0)
        out["created"][vol.name()] = vol.XMLDesc(0)
        vol.delete(0)
finally:
    pool.destroy()
print(json.dumps(out))
"""


# Volumes made on each side, read back at once (no pool refresh in between).
NEW_VOLUMES = [
    "<volume><name>new.img</name><capacity unit='MiB'>8</capacity>"
    "<allocation>0</allocation></volume>",
    "<volume><name>new-full.img</name><capacity unit='MiB'>2</capacity></volume>",
    "<volume><name>new.qcow2</name><capacity unit='MiB'>8</capacity><target>"
    "<format type='qcow2'/><features><lazy_refcounts/></features></target></volume>",
    "<volume><name>new-dir</name><capacity>0</capacity><target><format type='dir'/>"
    "</target></volume>",
]


def libvirt_view(directory: Path, *clones: str) -> dict[str, object]:
    ensure_libvirtd()
    name = f"qvirt-test-{uuidlib.uuid4().hex[:8]}"
    xml = f"<pool type='dir'><name>{name}</name><target><path>{directory}</path></target></pool>"
    done = subprocess.run([SYSTEM_PYTHON, "-c", _DUMP, URI, xml, *clones],
                          input=json.dumps(NEW_VOLUMES), capture_output=True, text=True,
                          check=True)
    view: dict[str, object] = json.loads(done.stdout)
    return view


def without_atime(xml: str) -> str:
    return re.sub(r"\s*<atime>[^<]*</atime>", "", xml)


def without_times(xml: str) -> str:
    """A clone made on each side: its times are its own."""
    return re.sub(r"\s*<timestamps>.*?</timestamps>", "", xml, flags=re.S)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[LocalStorageDriver]:
    driver = LocalStorageDriver(StoragePaths.under(tmp_path / "root"))
    yield driver
    driver.close()


def test_volume_and_pool_xml_match_libvirt(storage: LocalStorageDriver,
                                           tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir(mode=0o755)
    pool = storage.storage_pool_create_xml(
        f"<pool type='dir'><name>o</name><target><path>{images}</path></target></pool>")

    def create(xml: str) -> None:
        storage.storage_vol_create_xml(pool, xml)
    create("<volume><name>sparse.img</name><capacity unit='MiB'>64</capacity>"
           "<allocation>0</allocation></volume>")
    create("<volume><name>full.img</name><capacity unit='MiB'>4</capacity></volume>")
    create("<volume><name>old.qcow2</name><capacity unit='MiB'>16</capacity><target>"
           "<format type='qcow2'/><compat>0.10</compat></target></volume>")
    create(f"<volume><name>top.qcow2</name><capacity unit='MiB'>32</capacity><target>"
           "<format type='qcow2'/><features><lazy_refcounts/></features></target>"
           f"<backingStore><path>{images}/full.img</path><format type='raw'/></backingStore>"
           "</volume>")
    create("<volume><name>sub</name><capacity>0</capacity><target><format type='dir'/>"
           "</target></volume>")
    storage.storage_pool_refresh(pool)      # libvirt's pool lists what it starts with
    theirs = libvirt_view(images, "sparse.img", "top.qcow2")
    ours = {ref.name: storage.storage_vol_get_xml_desc(ref)
            for ref in storage.storage_pool_list_all_volumes(pool)}
    their_vols = theirs["vols"]
    assert isinstance(their_vols, dict)
    assert sorted(ours) == sorted(their_vols)
    for name, xml in ours.items():
        assert without_atime(xml) == without_atime(their_vols[name]), name
    their_clones = theirs["clones"]
    assert isinstance(their_clones, dict)
    for name in ("sparse.img", "top.qcow2"):
        source = storage.storage_vol_lookup_by_name(pool, name)
        xml = re.sub("<name>[^<]*</name>", f"<name>clone-{name}</name>",
                     storage.storage_vol_get_xml_desc(source))
        clone = storage.storage_vol_create_xml_from(pool, xml, source)
        ours_clone = storage.storage_vol_get_xml_desc(clone)
        storage.storage_vol_delete(clone)
        assert without_times(ours_clone) == without_times(their_clones[name]), name
    their_created = theirs["created"]
    assert isinstance(their_created, dict)
    for xml in NEW_VOLUMES:
        vol = storage.storage_vol_create_xml(pool, xml)
        assert without_times(storage.storage_vol_get_xml_desc(vol)) == \
            without_times(their_created[vol.name]), vol.name
        storage.storage_vol_delete(vol)
    mask = r"<(allocation|available) unit='bytes'>\d+<"
    their_pool = str(theirs["pool"])
    our_pool = storage.storage_pool_get_xml_desc(pool)
    their_pool = re.sub(r"<name>[^<]*</name>\s*<uuid>[^<]*</uuid>", "", their_pool)
    our_pool = re.sub(r"<name>[^<]*</name>\s*<uuid>[^<]*</uuid>", "", our_pool)
    assert re.sub(mask, "<\\1>", our_pool) == re.sub(mask, "<\\1>", their_pool)
    served = r"supported='(yes|no)'"
    assert re.sub(served, "", storage.connect_get_storage_pool_capabilities()) == \
        re.sub(served, "", str(theirs["caps"]))


# (volume, capacity, flags) in order: grow by a delta, shrink, allocate, shrink below the
# allocation, grow and shrink a qcow2 image, allocate by a delta
_RESIZES = [("r.img", 5 * MiB, 2), ("r.img", 12 * MiB, 4), ("r.img", 16 * MiB, 1),
            ("r.img", 2 * MiB, 6), ("q.qcow2", 20 * MiB, 0), ("q.qcow2", 4 * MiB, 6),
            ("r.img", 64 * MiB, 3)]
_RESIZE_VOLUMES = [
    "<volume><name>r.img</name><capacity unit='MiB'>10</capacity><allocation>0</allocation>"
    "</volume>",
    "<volume><name>q.qcow2</name><capacity unit='MiB'>10</capacity><target>"
    "<format type='qcow2'/></target></volume>",
]
_RESIZE = """
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
volumes, steps = json.loads(sys.stdin.read())
out = []
try:
    for xml in volumes:
        pool.createXML(xml, 0)
    for name, capacity, flags in steps:
        vol = pool.storageVolLookupByName(name)
        try:
            vol.resize(capacity, flags)
            out.append(vol.info())
        except libvirt.libvirtError as err:
            out.append(err.get_error_message())
finally:
    for vol in pool.listAllVolumes():
        vol.delete(0)
    pool.destroy()
print(json.dumps(out))
"""


def test_resizes_as_libvirt_makes_them(storage: LocalStorageDriver, tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    ensure_libvirtd()
    name = f"qvirt-test-{uuidlib.uuid4().hex[:8]}"
    pool_xml = (f"<pool type='dir'><name>{name}</name><target><path>{images}</path>"
                "</target></pool>")
    theirs = json.loads(subprocess.run(
        [SYSTEM_PYTHON, "-c", _RESIZE, URI, pool_xml],
        input=json.dumps([_RESIZE_VOLUMES, _RESIZES]), capture_output=True, text=True,
        check=True).stdout)
    pool = storage.storage_pool_create_xml(pool_xml)
    for xml in _RESIZE_VOLUMES:
        storage.storage_vol_create_xml(pool, xml)
    ours: list[object] = []
    for vol_name, capacity, flags in _RESIZES:
        vol = storage.storage_vol_lookup_by_name(pool, vol_name)
        try:
            storage.storage_vol_resize(vol, capacity, flags)
            info = storage.storage_vol_get_info_flags(vol)
            ours.append([info.type, info.capacity, info.allocation])
        except QvirtError as err:
            ours.append(err.message)
    assert ours == theirs
