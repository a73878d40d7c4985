"""<hostdev>, <redirdev>, <redirfilter>, <smartcard>, <filesystem>, <lease>: libvirt's canonical
output round-trips, the defaults libvirt fills, and its error texts."""

from __future__ import annotations

import pytest

from qvirt.conf.defaults.addresses import assign
from qvirt.conf.devices import Devices
from qvirt.conf.devices.filesystem import Filesystem
from qvirt.conf.devices.hostdev import Hostdev, Redirdev, Redirfilter
from qvirt.conf.devices.lease import Lease
from qvirt.conf.devices.smartcard import Smartcard
from qvirt.conf.xmlobject import XMLObject
from qvirt.errors import QvirtError

# Printed by libvirtd 9.0 for corpus documents.
CANONICAL: list[tuple[type[XMLObject], str]] = [
    (Hostdev, """<hostdev mode='subsystem' type='usb' managed='no'>
  <source startupPolicy='optional'>
    <vendor id='0x1234'/>
    <product id='0xbeef'/>
  </source>
  <boot order='2'/>
  <address type='usb' bus='0' port='1'/>
</hostdev>
"""),
    (Hostdev, """<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/>
  </source>
  <boot order='1'/>
  <rom bar='on' file='/etc/fake/boot.bin'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>
</hostdev>
"""),
    (Hostdev, """<hostdev mode='subsystem' type='scsi' managed='no' sgio='filtered' rawio='yes'>
  <source>
    <adapter name='scsi_host0'/>
    <address bus='0' target='0' unit='0'/>
  </source>
  <readonly/>
  <shareable/>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/>
</hostdev>
"""),
    (Hostdev, """<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
  <source>
    <address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/>
  </source>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/>
</hostdev>
"""),
    (Redirdev, """<redirdev bus='usb' type='tcp'>
  <source mode='connect' host='localhost' service='4000'/>
  <protocol type='raw'/>
  <boot order='3'/>
  <address type='usb' bus='1' port='2'/>
</redirdev>
"""),
    (Redirfilter, """<redirfilter>
  <usbdev class='0x08' vendor='0x1234' product='0xBEEF' version='2.00' allow='yes'/>
  <usbdev allow='no'/>
</redirfilter>
"""),
    (Smartcard, """<smartcard mode='host-certificates'>
  <certificate>cert1</certificate>
  <certificate>cert2</certificate>
  <certificate>cert3</certificate>
  <database>/etc/pki/nssdb/</database>
  <address type='ccid' controller='0' slot='0'/>
</smartcard>
"""),
    (Smartcard, """<smartcard mode='passthrough' type='tcp'>
  <source mode='bind' host='127.0.0.1' service='2001'/>
  <protocol type='raw'/>
  <address type='ccid' controller='0' slot='0'/>
</smartcard>
"""),
    (Filesystem, """<filesystem type='mount' accessmode='passthrough'>
  <driver type='path' wrpolicy='immediate'/>
  <source dir='/export/to/guest'/>
  <target dir='/import/from/host'/>
  <readonly/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
</filesystem>
"""),
    (Filesystem, """<filesystem type='mount' accessmode='passthrough'>
  <source dir='/export/a'/>
  <target dir='tag_a'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
  <space_hard_limit unit='bytes'>1048576</space_hard_limit>
  <space_soft_limit unit='bytes'>524288</space_soft_limit>
</filesystem>
"""),
    (Lease, """<lease>
  <lockspace>somearea</lockspace>
  <key>somekey</key>
  <target path='/some/lease/path' offset='1024'/>
</lease>
"""),
]


@pytest.mark.parametrize(("cls", "xml"), CANONICAL)
def test_libvirt_output_round_trips_byte_for_byte(cls: type[XMLObject], xml: str) -> None:
    assert cls.from_xml(xml).to_xml() == xml


def test_defaults_libvirt_fills() -> None:
    hostdev = Hostdev.from_xml("<hostdev mode='subsystem' type='pci'><source>"
                               "<address bus='0x06' slot='0x02'/></source></hostdev>")
    assert hostdev.to_xml() == """<hostdev mode='subsystem' type='pci' managed='no'>
  <source>
    <address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/>
  </source>
</hostdev>
"""
    fs = Filesystem.from_xml("<filesystem><source dir='/e'/><target dir='t'/>"
                             "<space_hard_limit unit='KiB'>2</space_hard_limit></filesystem>")
    assert (fs.type, fs.accessmode, fs.space_hard_limit) == ("mount", "passthrough", 2048)
    fs = Filesystem.from_xml("<filesystem fmode='644' dmode='0755'><source dir='/e'/>"
                             "<target dir='t'/></filesystem>")
    assert (fs.fmode, fs.dmode) == (0o644, 0o755)
    assert "fmode='0644' dmode='0755'" in fs.to_xml()
    socket = Filesystem.from_xml("<filesystem><driver type='virtiofs'/>"
                                 "<source socket='/s.sock'/><target dir='t'/></filesystem>")
    assert socket.accessmode is None
    lease = Lease.from_xml("<lease><lockspace>a</lockspace><key>k</key>"
                           "<target path='/l' offset='0'/></lease>")
    assert lease.target_offset is None


def test_scsi_hostdev_gets_a_drive_address_and_its_controller_first() -> None:
    devs = Devices.from_xml("<devices><hostdev mode='subsystem' type='scsi'><source>"
                            "<adapter name='scsi_host0'/><address bus='0' target='0' unit='0'/>"
                            "</source></hostdev></devices>")
    assign(devs, "pc-i440fx-7.2")
    assert [(c.type, c.model) for c in devs.controllers] == [
        ("scsi", "lsilogic"), ("usb", "piix3-uhci"), ("pci", "pci-root")]
    assert devs.hostdevs[0].address.to_xml() == (
        "<address type='drive' controller='0' bus='0' target='0' unit='0'/>\n")


@pytest.mark.parametrize(("body", "message"), [
    ("<hostdev mode='subsystem' type='usb'><source/></hostdev><hostdev mode='subsystem' "
     "type='usb'><source><address bus='1' device='2'/></source></hostdev>",
     "XML error: Hostdev already exists in the domain configuration"),
    ("<hostdev mode='subsystem' type='pci'><source><address bus='6' slot='2'/></source>"
     "</hostdev><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' "
     "slot='2' function='0'/></source></hostdev>",
     "XML error: Hostdev already exists in the domain configuration"),
])
def test_a_host_device_is_given_once(body: str, message: str) -> None:
    devs = Devices.from_xml(f"<devices>{body}</devices>")
    with pytest.raises(QvirtError) as caught:
        assign(devs, "pc-i440fx-7.2")
    assert caught.value.message == message


def test_distinct_host_devices_are_accepted() -> None:
    devs = Devices.from_xml("<devices><hostdev mode='subsystem' type='usb'><source><address "
                            "bus='1' device='2'/></source></hostdev><hostdev mode='subsystem' "
                            "type='usb'><source><address bus='1' device='3'/></source>"
                            "</hostdev></devices>")
    assign(devs, "pc-i440fx-7.2")
    assert [h.address.port for h in devs.hostdevs] == ["1", "2"]


@pytest.mark.parametrize(("cls", "xml", "message"), [
    (Hostdev, "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source>"
     "</hostdev>", "internal error: missing product"),
    (Hostdev, "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source/></hostdev>",
     "unsupported configuration: Missing <address> element"),
    (Hostdev, "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block>"
     "</source></hostdev>",
     "unsupported configuration: hostdev mode 'capabilities' is not supported in qemu"),
    (Hostdev, "<hostdev mode='subsystem' type='bogus'><source/></hostdev>",
     "unsupported configuration: unknown host device source address type 'bogus'"),
    (Smartcard, "<smartcard mode='bogus'/>",
     "XML error: Invalid value for attribute 'mode' in element 'smartcard': 'bogus'."),
    (Smartcard, "<smartcard mode='host-certificates'><certificate>a</certificate></smartcard>",
     "XML error: host-certificates mode needs exactly three certificates"),
    (Redirdev, "<redirdev bus='pci' type='tcp'><source mode='connect' host='localhost' "
     "service='4000'/></redirdev>", "unsupported configuration: unknown redirdev bus 'pci'"),
    (Filesystem, "<filesystem type='mount'><source dir='/a'/></filesystem>",
     "missing target information for device /a"),
    (Filesystem, "<filesystem type='ram'><source usage='1024'/><target dir='/a'/></filesystem>",
     "unsupported configuration: only supports mount filesystem type"),
    (Lease, "<lease><lockspace>a</lockspace><target path='/a'/></lease>",
     "XML error: Missing 'key' element for lease"),
])
def test_errors_carry_libvirts_text(cls: type[XMLObject], xml: str, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        cls.from_xml(xml)
    assert caught.value.message == message
