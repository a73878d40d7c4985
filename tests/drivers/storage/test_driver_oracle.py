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
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd

MiB = 1024 * 1024

_DUMP = """
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
pool = conn.storagePoolCreateXML(sys.argv[2], 0)
try:
    out = {"pool": pool.XMLDesc(0), "caps": conn.getStoragePoolCapabilities(0),
           "vols": {v.name(): v.XMLDesc(0) for v in pool.listAllVolumes()}}
finally:
    pool.destroy()
print(json.dumps(out))
"""


def libvirt_view(directory: Path) -> dict[str, object]:
    ensure_libvirtd()
    name = f"qvirt-test-{uuidlib.uuid4().hex[:8]}"
    xml = f"<pool type='dir'><name>{name}</name><target><path>{directory}</path></target></pool>"
    done = subprocess.run([SYSTEM_PYTHON, "-c", _DUMP, URI, xml], capture_output=True,
                          text=True, check=True)
    view: dict[str, object] = json.loads(done.stdout)
    return view


def without_atime(xml: str) -> str:
    return re.sub(r"\s*<atime>[^<]*</atime>", "", xml)


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
    theirs = libvirt_view(images)
    ours = {ref.name: storage.storage_vol_get_xml_desc(ref)
            for ref in storage.storage_pool_list_all_volumes(pool)}
    their_vols = theirs["vols"]
    assert isinstance(their_vols, dict)
    assert sorted(ours) == sorted(their_vols)
    for name, xml in ours.items():
        assert without_atime(xml) == without_atime(their_vols[name]), name
    mask = r"<(allocation|available) unit='bytes'>\d+<"
    their_pool = str(theirs["pool"])
    our_pool = storage.storage_pool_get_xml_desc(pool)
    their_pool = re.sub(r"<name>[^<]*</name>\s*<uuid>[^<]*</uuid>", "", their_pool)
    our_pool = re.sub(r"<name>[^<]*</name>\s*<uuid>[^<]*</uuid>", "", our_pool)
    assert re.sub(mask, "<\\1>", our_pool) == re.sub(mask, "<\\1>", their_pool)
    served = r"supported='(yes|no)'"
    assert re.sub(served, "", storage.connect_get_storage_pool_capabilities()) == \
        re.sub(served, "", str(theirs["caps"]))
