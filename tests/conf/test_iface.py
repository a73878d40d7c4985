"""Host <interface> documents: no libvirtd backend here can define them (netcf is absent), so
the checks are libvirt's own dump of a host NIC (its udev backend), round trips of documents in
libvirt's layout, the RelaxNG schema, and the parser's error texts from interface_conf.c."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from qvirt.conf.iface import Interface
from qvirt.errors import QvirtError

DATA = Path(__file__).parent.parent / "data" / "conf" / "interface"
SCHEMA = Path("/usr/share/libvirt/schemas/interface.rng")

# `virsh iface-dumpxml eth0` from libvirt 9.0's udev backend on the development machine.
UDEV_ETH0 = """<interface type='ethernet' name='eth0'>
  <mtu size='1400'/>
  <link speed='4294967295' state='up'/>
  <mac address='02:fc:00:00:00:01'/>
</interface>
"""


def _validate(xml: str) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.fromstring(xml.encode())), schema.error_log


def test_libvirts_own_dump_round_trips() -> None:
    iface = Interface.from_xml(UDEV_ETH0)
    assert (iface.mtu, iface.link_speed, iface.link_state) == (1400, 4294967295, "up")
    assert iface.to_xml() == UDEV_ETH0


@pytest.mark.parametrize("path", sorted(DATA.glob("net-*.xml")), ids=lambda p: p.stem)
def test_corpus_round_trips_and_validates(path: Path) -> None:
    text = path.read_text()
    out = Interface.from_xml(text).to_xml()
    assert out == text
    _validate(out)


def test_members_lose_what_only_the_top_level_takes() -> None:
    iface = Interface.from_xml(
        "<interface type='bond' name='bond0'><start mode='onboot'/>"
        "<bond mode='active-backup'><miimon freq='100' updelay='0'/>"
        "<arpmon interval='5' target='10.0.0.1'/>"
        "<interface type='ethernet' name='eth1'><start mode='onboot'/><mtu size='9000'/>"
        "<protocol family='ipv4'><dhcp/></protocol><mac address='52:54:00:00:00:01'/>"
        "</interface></bond><mac address='52:54:00:00:00:02'/></interface>")
    assert iface.to_xml() == """<interface type='bond' name='bond0'>
  <start mode='onboot'/>
  <bond mode='active-backup'>
    <miimon freq='100'/>
    <interface type='ethernet' name='eth1'>
      <mac address='52:54:00:00:00:01'/>
    </interface>
  </bond>
</interface>
"""


def test_protocol_keeps_the_first_route_and_drops_zero_prefix() -> None:
    iface = Interface.from_xml(
        "<interface type='ethernet' name='e'><protocol family='ipv4'>"
        "<route gateway='10.0.0.1'/><route gateway='10.0.0.2'/>"
        "<ip address='10.0.0.5' prefix='0'/><autoconf/></protocol></interface>")
    assert iface.to_xml() == """<interface type='ethernet' name='e'>
  <protocol family='ipv4'>
    <ip address='10.0.0.5'/>
    <route gateway='10.0.0.1'/>
  </protocol>
</interface>
"""


@pytest.mark.parametrize("path", sorted((DATA / "invalid").glob("net-*.xml")),
                         ids=lambda p: p.stem)
def test_invalid_corpus_fails_with_libvirts_message(path: Path) -> None:
    text = path.read_text()
    expected = re.match(r"<!-- error: (.*) -->\n", text)
    assert expected is not None
    with pytest.raises(QvirtError) as caught:
        Interface.from_xml(text)
    assert caught.value.message == expected.group(1)
