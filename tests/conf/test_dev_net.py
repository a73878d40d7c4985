"""<interface>: libvirt's canonical output round-trips, its defaults (MAC, model, generated
port ids) and its error texts."""

from __future__ import annotations

import re

import pytest

from qvirt.conf.defaults.addresses import assign
from qvirt.conf.devices import Devices
from qvirt.conf.devices.interface import Interface
from qvirt.errors import QvirtError

# Printed by libvirtd 9.0 for corpus documents.
CANONICAL = [
    """<interface type='network' trustGuestRxFilters='yes'>
  <mac address='52:54:00:11:22:33'/>
  <source network='default' portgroup='engineering'/>
  <vlan>
    <tag id='42'/>
  </vlan>
  <virtualport>
    <parameters instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f' \
interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa3f' profileid='x'/>
  </virtualport>
  <bandwidth>
    <inbound average='1000' peak='5000' floor='200' burst='1024'/>
    <outbound average='128' peak='256' burst='256'/>
  </bandwidth>
  <port isolated='yes'/>
  <target dev='mytap0'/>
  <model type='virtio'/>
  <driver name='vhost' txmode='iothread' ioeventfd='on' event_idx='off' queues='4' \
rx_queue_size='256' tx_queue_size='256'>
    <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off' mrg_rxbuf='off'/>
    <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>
  </driver>
  <backend tap='/dev/net/tun' vhost='/dev/vhost-net'/>
  <filterref filter='clean-traffic'>
    <parameter name='IP' value='10.0.0.1'/>
  </filterref>
  <tune>
    <sndbuf>1600</sndbuf>
  </tune>
  <link state='down'/>
  <mtu size='1500'/>
  <coalesce>
    <rx>
      <frames max='7'/>
    </rx>
  </coalesce>
  <boot order='1'/>
  <alias name='ua-net0'/>
  <rom bar='off' file='/etc/fake/boot.bin'/>
  <acpi index='3'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
</interface>
""",
    """<interface type='bridge'>
  <mac address='52:54:00:5e:06:ee'/>
  <source bridge='br0'/>
  <vlan trunk='yes'>
    <tag id='42' nativeMode='untagged'/>
    <tag id='48'/>
  </vlan>
  <virtualport type='openvswitch'>
    <parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f' profileid='menial'/>
  </virtualport>
  <model type='e1000'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</interface>
""",
    """<interface type='direct'>
  <mac address='52:54:00:ee:1c:59'/>
  <source dev='eth0' mode='vepa'/>
  <virtualport type='802.1Qbg'>
    <parameters managerid='11' typeid='1193047' typeidversion='2' \
instanceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/>
  </virtualport>
  <model type='rtl8139'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
</interface>
""",
    """<interface type='ethernet'>
  <mac address='52:54:00:a7:9f:51'/>
  <script path='/etc/qemu-ifup-mynet'/>
  <target dev='tap5' managed='no'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>
</interface>
""",
    """<interface type='udp'>
  <mac address='52:54:00:23:e1:d3'/>
  <source address='127.0.0.1' port='11111'>
    <local address='127.0.0.1' port='22222'/>
  </source>
  <model type='rtl8139'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/>
</interface>
""",
    """<interface type='hostdev' managed='yes'>
  <mac address='52:54:00:6d:90:02'/>
  <driver name='vfio'/>
  <source>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>
  </source>
  <virtualport type='802.1Qbh'>
    <parameters profileid='finance'/>
  </virtualport>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0d' function='0x0'/>
</interface>
""",
    """<interface type='vhostuser'>
  <mac address='52:54:00:1a:74:95'/>
  <source type='unix' path='/tmp/vhost1.sock' mode='client'>
    <reconnect enabled='yes' timeout='10'/>
  </source>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0c' function='0x0'/>
</interface>
""",
]


@pytest.mark.parametrize("xml", CANONICAL)
def test_libvirt_output_round_trips_byte_for_byte(xml: str) -> None:
    assert Interface.from_xml(xml).to_xml() == xml


def defaults(body: str, machine: str = "pc-i440fx-7.2") -> list[Interface]:
    devs = Devices.from_xml(f"<devices>{body}</devices>")
    assign(devs, machine)
    return list(devs.interfaces)


def test_mac_and_model_defaults() -> None:
    user, hostdev = defaults(
        "<interface type='user'/><interface type='hostdev'><source><address type='pci' "
        "domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></source></interface>")
    assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", user.mac or "")
    assert user.model == "rtl8139" and hostdev.model is None
    assert user.address.key() == (0, 2, 0) and hostdev.address.key() == (0, 3, 0)


def test_generated_port_ids_and_direct_mode() -> None:
    ovs, qbg = defaults(
        "<interface type='bridge'><source bridge='br0'/><virtualport type='openvswitch'/>"
        "</interface><interface type='direct'><source dev='eth0'/><virtualport "
        "type='802.1Qbg'><parameters managerid='11' typeid='1193047' typeidversion='2'/>"
        "</virtualport></interface>")
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(uuid, ovs.virtualport.interfaceid)
    assert re.fullmatch(uuid, qbg.virtualport.instanceid)
    assert qbg.source.mode == "vepa"


def test_mac_is_written_in_lower_case_and_foreign_source_fields_dropped() -> None:
    net = Interface.from_xml("<interface type='bridge'><mac address='52:54:00:AB:CD:EF'/>"
                             "<source bridge='br0' network='ignored' dev='eth9'/></interface>")
    assert net.to_xml() == """<interface type='bridge'>
  <mac address='52:54:00:ab:cd:ef'/>
  <source bridge='br0'/>
</interface>
"""


def test_generated_target_names_are_forgotten() -> None:
    names = [Interface.from_xml(f"<interface type='ethernet'><target dev='{dev}'{managed}/>"
                                "</interface>").target_dev
             for dev, managed in [("vnet7", ""), ("macvtap0", ""), ("vif3", ""),
                                  ("vnet5", " managed='no'")]]
    assert names == [None, None, "vif3", "vnet5"]


@pytest.mark.parametrize(("xml", "message"), [
    ("<interface type='user'><route family='ipv4' address='192.168.122.0' prefix='24'/>"
     "</interface>", "unsupported configuration: Invalid attempt to set network interface "
     "guest-side IP route, not supported by QEMU"),
    ("<interface type='ethernet'><ip address='192.168.122.5' prefix='24'/></interface>",
     "unsupported configuration: Invalid attempt to set network interface guest-side IP "
     "route and/or address info, not supported by QEMU"),
    ("<interface type='bogus'/>",
     "XML error: Invalid value for attribute 'type' in element 'interface': 'bogus'."),
    ("<interface type='network'/>",
     "XML error: interface type='network' requires a 'source' element"),
    ("<interface type='network'><source/></interface>",
     "XML error: Missing required attribute 'network' in element 'source'"),
    ("<interface type='hostdev'/>", "XML error: missing source address type"),
    ("<interface type='user'><mac address='01:00:00:00:00:01'/></interface>",
     "XML error: expected unicast mac address, found multicast '01:00:00:00:00:01'"),
    ("<interface type='user'><mac address='52-54-00-AB-CD-EF'/></interface>",
     "XML error: unable to parse mac address '52-54-00-AB-CD-EF'"),
    ("<interface type='user'><link state='sideways'/></interface>",
     "unsupported configuration: unknown interface link state 'sideways'"),
    ("<interface type='direct'><source dev='eth0' mode='bogus'/></interface>",
     "XML error: Invalid value for attribute 'mode' in element 'source': 'bogus'."),
    ("<interface type='user'><model type='bogus!'/></interface>",
     "invalid argument: Model name contains invalid characters"),
])
def test_errors_carry_libvirts_text(xml: str, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        Interface.from_xml(xml)
    assert caught.value.message == message
