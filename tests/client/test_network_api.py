"""The network API's shapes against python3-libvirt: the same libvirt-python script
(networks, their look-ups, updates, errors, events and read-only refusals on test:///default)
run under the system Python with libvirt and under qvirt must print the same; every writing
entry point is refused on a read-only connection."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import qvirt
from qvirt import constants as C
from qvirt.client import entry
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.client.test_scripts import ROOT, SHIM, SYSTEM_PYTHON, run

SCRIPTS = Path(__file__).parent / "test_network_scripts"


@pytest.mark.compat
@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_network_script_output_matches_libvirt(script: Path) -> None:
    expected = run(SYSTEM_PYTHON, script, [])
    actual = run(sys.executable, script, [SHIM, ROOT])
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "libvirt", "qvirt", lineterm=""))
    assert not diff, diff
    assert "event all sentinel 0 0" in expected


NET = "<network><name>n</name><ip address='10.9.0.1' prefix='24'/></network>"
HOST = "<host mac='52:54:00:00:00:01' ip='192.168.122.11'/>"

# Every network entry point that writes, called on a read-only connection.
WRITES: dict[str, Callable[[qvirt.virConnect, qvirt.virNetwork], Any]] = {
    "virNetworkCreateXML": lambda c, n: c.networkCreateXML(NET),
    "virNetworkCreateXMLFlags": lambda c, n: c.networkCreateXMLFlags(NET, 0),
    "virNetworkDefineXML": lambda c, n: c.networkDefineXML(NET),
    "virNetworkDefineXMLFlags": lambda c, n: c.networkDefineXMLFlags(NET, 0),
    "virNetworkUndefine": lambda c, n: n.undefine(),
    "virNetworkUpdate": lambda c, n: n.update(C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                              C.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST, 0),
    "virNetworkCreate": lambda c, n: n.create(),
    "virNetworkDestroy": lambda c, n: n.destroy(),
    "virNetworkSetAutostart": lambda c, n: n.setAutostart(1),
    "virNetworkPortCreateXML": lambda c, n: n.portCreateXML("<networkport/>", 0),
    "virNetworkPortDelete": lambda c, n: qvirt.virNetworkPort(n, n.UUIDString()).delete(0),
    "virNetworkPortSetParameters": lambda c, n: qvirt.virNetworkPort(
        n, n.UUIDString()).setParameters({}, 0),
}


def test_every_writing_network_entry_point_is_checked() -> None:
    assert set(WRITES) == {e.api for e in entry.ENTRIES.values()
                           if e.writes and e.part == "network"}


@pytest.mark.parametrize("api", sorted(WRITES))
def test_read_only_refuses(api: str) -> None:
    """Refused before the driver sees it, from the network error domain: the default network
    is as it was."""
    rw = qvirt.open("test:///default")
    ro = qvirt.openReadOnly("test:///default")
    try:
        net = ro.networkLookupByName("default")
        with pytest.raises(QvirtError) as caught:
            WRITES[api](ro, net)
        assert (caught.value.code, caught.value.domain, caught.value.message) == (
            ErrorNumber.OPERATION_DENIED, ErrorDomain.NETWORK,
            f"operation forbidden: read only access prevents {api}")
        assert (net.isActive(), net.autostart()) == (1, 0)
        assert ro.listNetworks() == ["default"] and ro.listDefinedNetworks() == []
        assert "<host" not in net.XMLDesc(0)
    finally:
        ro.close()
        rw.close()


def test_handles_hold_their_connection() -> None:
    """close() answers the references network handles still hold, as libvirt's."""
    conn = qvirt.open("test:///default")
    net = conn.networkLookupByName("default")
    other = conn.listAllNetworks(0)[0]
    assert net.connect() is conn and other.connect() is conn
    assert conn.close() == 2
