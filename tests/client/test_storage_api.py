"""The storage API's shapes against python3-libvirt: the same libvirt-python script (pools,
volumes, their look-ups, errors, events and read-only refusals on test:///default) run under
the system Python with libvirt and under qvirt must print the same."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import qvirt
from qvirt.client import entry
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.client.test_scripts import ROOT, SHIM, SYSTEM_PYTHON, run

SCRIPTS = Path(__file__).parent / "test_storage_scripts"


@pytest.mark.compat
@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_storage_script_output_matches_libvirt(script: Path) -> None:
    expected = run(SYSTEM_PYTHON, script, [])
    actual = run(sys.executable, script, [SHIM, ROOT])
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "libvirt", "qvirt", lineterm=""))
    assert not diff, diff
    assert "event all default-pool 3 0" in expected


VOL = "<volume><name>v</name><capacity>1</capacity></volume>"
POOL = "<pool type='dir'><name>p</name><target><path>/p</path></target></pool>"

# Every storage entry point that writes, called on a read-only connection.
WRITES: dict[str, Callable[[qvirt.virConnect, qvirt.virStoragePool, qvirt.virStorageVol],
                           Any]] = {
    "virConnectFindStoragePoolSources": lambda c, p, v: c.findStoragePoolSources(
        "logical", None, 0),
    "virStoragePoolCreateXML": lambda c, p, v: c.storagePoolCreateXML(POOL, 0),
    "virStoragePoolDefineXML": lambda c, p, v: c.storagePoolDefineXML(POOL, 0),
    "virStoragePoolBuild": lambda c, p, v: p.build(0),
    "virStoragePoolUndefine": lambda c, p, v: p.undefine(),
    "virStoragePoolCreate": lambda c, p, v: p.create(0),
    "virStoragePoolDestroy": lambda c, p, v: p.destroy(),
    "virStoragePoolDelete": lambda c, p, v: p.delete(0),
    "virStoragePoolRefresh": lambda c, p, v: p.refresh(0),
    "virStoragePoolSetAutostart": lambda c, p, v: p.setAutostart(1),
    "virStorageVolCreateXML": lambda c, p, v: p.createXML(VOL, 0),
    "virStorageVolCreateXMLFrom": lambda c, p, v: p.createXMLFrom(VOL, v, 0),
    "virStorageVolDelete": lambda c, p, v: v.delete(0),
    "virStorageVolWipe": lambda c, p, v: v.wipe(0),
    "virStorageVolWipePattern": lambda c, p, v: v.wipePattern(0, 0),
    "virStorageVolResize": lambda c, p, v: v.resize(1, 0),
    "virStorageVolUpload": lambda c, p, v: v.upload(c.newStream(0), 0, 0, 0),
    "virStorageVolDownload": lambda c, p, v: v.download(c.newStream(0), 0, 0, 0),
}


def test_every_writing_storage_entry_point_is_checked() -> None:
    assert set(WRITES) == {e.api for e in entry.ENTRIES.values()
                           if e.writes and e.part == "storage"}


@pytest.mark.parametrize("api", sorted(WRITES))
def test_read_only_refuses(api: str) -> None:
    """Refused before the driver sees it: the pool and its volume are as they were."""
    rw = qvirt.open("test:///default")
    ro = qvirt.openReadOnly("test:///default")
    try:
        rw.storagePoolLookupByName("default-pool").createXML(VOL, 0)
        pool = ro.storagePoolLookupByName("default-pool")
        vol = pool.storageVolLookupByName("v")
        with pytest.raises(QvirtError) as caught:
            WRITES[api](ro, pool, vol)
        assert (caught.value.code, caught.value.domain, caught.value.message) == (
            ErrorNumber.OPERATION_DENIED, ErrorDomain.STORAGE,
            f"operation forbidden: read only access prevents {api}")
        assert pool.isActive() == 1
        assert [v.name() for v in pool.listAllVolumes()] == ["v"]
        assert ro.listStoragePools() == ["default-pool"]
        assert ro.listDefinedStoragePools() == []
    finally:
        ro.close()
        rw.close()


def test_handles_hold_their_connection() -> None:
    """close() answers the references pool and volume handles still hold, as libvirt's."""
    conn = qvirt.open("test:///default")
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML(VOL, 0)
    assert vol.connect() is conn and pool.connect() is conn
    assert conn.close() == 2
