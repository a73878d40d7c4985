"""<disk>: libvirt's canonical output round-trips byte for byte, the defaults libvirt 9.0 fills
at define time (as its dumpxml showed them), and its error texts."""

from __future__ import annotations

import pytest

from qvirt.conf.defaults.addresses import assign
from qvirt.conf.devices import Devices
from qvirt.conf.devices.disk import Disk, disk_name_index
from qvirt.errors import QvirtError

# Printed by libvirtd 9.0 (virsh dumpxml --inactive) for corpus documents.
CANONICAL = [
    """<disk type='file' device='disk' snapshot='external'>
  <driver name='qemu' type='raw' cache='none' error_policy='stop' rerror_policy='report' \
io='native' ioeventfd='on' event_idx='off' copy_on_read='on' discard='unmap' \
detect_zeroes='unmap' queues='2'/>
  <source file='/tmp/a.qcow2' startupPolicy='optional'>
    <seclabel model='dac' relabel='no'/>
  </source>
  <geometry cyls='16383' heads='16' secs='63'/>
  <blockio logical_block_size='512' physical_block_size='4096'/>
  <target dev='vda' bus='virtio'/>
  <iotune>
    <total_bytes_sec>10000000</total_bytes_sec>
    <read_iops_sec>400</read_iops_sec>
    <write_iops_sec>100</write_iops_sec>
  </iotune>
  <shareable/>
  <serial>WD-WMAP9A966149</serial>
  <boot order='2'/>
  <alias name='ua-disk0'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</disk>
""",
    """<disk type='network' device='disk'>
  <driver name='qemu' type='raw' io='threads'/>
  <auth username='myuser'>
    <secret type='ceph' usage='mypassid'/>
  </auth>
  <source protocol='rbd' name='pool/image_name2'>
    <host name='hostname' port='7000'/>
    <host name='h2'/>
  </source>
  <target dev='vdb' bus='virtio'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
</disk>
""",
    """<disk type='network' device='disk'>
  <driver name='qemu' type='raw'/>
  <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-pool/1'>
    <host name='localhost' port='3260'/>
    <auth username='u'>
      <secret type='iscsi' usage='s'/>
    </auth>
  </source>
  <target dev='sda' bus='scsi'/>
  <wwn>0x5000c50015ea71ac</wwn>
  <vendor>VEND</vendor>
  <product>PROD</product>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/>
</disk>
""",
    """<disk type='volume' device='disk'>
  <driver name='qemu'/>
  <source pool='blk-pool0' volume='blk-pool0-vol0' mode='host'/>
  <target dev='hdb' bus='ide'/>
  <address type='drive' controller='0' bus='0' target='0' unit='1'/>
</disk>
""",
    """<disk type='block' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source dev='/dev/sr0'/>
  <target dev='hdc' bus='ide' tray='open'/>
  <readonly/>
  <address type='drive' controller='0' bus='1' target='0' unit='0'/>
</disk>
""",
    """<disk type='file' device='disk'>
  <driver name='qemu' type='raw'/>
  <source file='/tmp/enc.qcow2'>
    <encryption format='luks' engine='qemu'>
      <secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>
    </encryption>
  </source>
  <backingStore type='file'>
    <format type='raw'/>
    <source file='/tmp/base.img'/>
    <backingStore/>
  </backingStore>
  <target dev='vdc' bus='virtio'/>
  <transient/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
</disk>
""",
]


@pytest.mark.parametrize("xml", CANONICAL)
def test_libvirt_output_round_trips_byte_for_byte(xml: str) -> None:
    assert Disk.from_xml(xml).to_xml() == xml


def devices(body: str, machine: str = "pc-i440fx-7.2") -> Devices:
    devs = Devices.from_xml(f"<devices>{body}</devices>")
    assign(devs, machine)
    return devs


def test_defaults_from_the_target_name() -> None:
    devs = devices("<disk type='file' device='cdrom'><source file='/tmp/x.iso'/>"
                   "<target dev='hdc'/></disk>"
                   "<disk type='file'><source file='/tmp/y.img'/><target dev='sdb'/></disk>"
                   "<disk type='volume'><source pool='p' volume='v'/><target dev='fdb'/></disk>")
    scsi, floppy, cdrom = devs.disks
    assert cdrom.to_xml() == """<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source file='/tmp/x.iso'/>
  <target dev='hdc' bus='ide'/>
  <readonly/>
  <address type='drive' controller='0' bus='1' target='0' unit='0'/>
</disk>
"""
    assert scsi.bus == "scsi" and scsi.driver.type == "raw"
    assert (scsi.address.controller, scsi.address.unit) == (0, 1)
    assert floppy.bus == "fdc" and floppy.driver.type is None
    assert floppy.address.unit == 1
    assert [(c.type, c.index, c.model) for c in devs.controllers] == [
        ("usb", 0, "piix3-uhci"), ("pci", 0, "pci-root"), ("scsi", 0, "lsilogic"),
        ("fdc", 0, None), ("ide", 0, None)]


@pytest.mark.parametrize(("dev", "bus", "expected"), [
    ("sdh", "scsi", (1, 0, 0)), ("sdq", "scsi", (2, 0, 2)),
    ("hdd", "ide", (0, 1, 1)), ("sdg", "sata", (1, 0, 0)), ("sdf", "sata", (0, 0, 5)),
])
def test_drive_addresses_as_libvirt_computes_them(dev: str, bus: str,
                                                  expected: tuple[int, int, int]) -> None:
    devs = devices(f"<disk type='file'><source file='/tmp/a'/><target dev='{dev}' bus='{bus}'/>"
                   "</disk>", "pc-q35-7.2" if bus == "sata" else "pc-i440fx-7.2")
    addr = devs.disks[0].address
    assert (addr.controller, addr.bus, addr.unit) == expected
    assert addr.target == 0


def test_disks_are_ordered_as_libvirt_inserts_them() -> None:
    """By index within the bus given in the XML (absent counts as its own bus)."""
    body = "".join(f"<disk type='file'><source file='/tmp/{d}'/><target dev='{d}'{b}/></disk>"
                   for d, b in [("vda", " bus='virtio'"), ("vdb", " bus='virtio'"),
                                ("sda", " bus='scsi'"), ("hdc", " bus='ide'"),
                                ("hdb", " bus='ide'"), ("fda", ""), ("vdc", "")])
    assert [d.dev for d in devices(body).disks] == ["vda", "vdb", "sda", "hdb", "hdc", "fda",
                                                    "vdc"]
    body = "".join(f"<disk type='file'><source file='/tmp/{d}'/><target dev='{d}'/></disk>"
                   for d in ("sdb", "hdc", "vdb", "hda", "vda"))
    assert [d.dev for d in devices(body).disks] == ["hda", "vda", "sdb", "vdb", "hdc"]


def test_disk_name_index() -> None:
    assert [disk_name_index(n) for n in ("vda", "hdc", "sdz", "sdaa", "xvdb", "sda1")] == [
        0, 2, 25, 26, 1, 0]


def test_default_enum_values_and_zero_limits_are_not_written() -> None:
    disk = Disk.from_xml("<disk type='file'><driver name='qemu' cache='default' io='default'/>"
                         "<source file='/a'/><target dev='vda'/><iotune>"
                         "<total_bytes_sec>0</total_bytes_sec></iotune></disk>")
    assert disk.to_xml() == """<disk type='file' device='disk'>
  <driver name='qemu'/>
  <source file='/a'/>
  <target dev='vda'/>
</disk>
"""


def test_vhostuser_disks_take_no_snapshots() -> None:
    disk = Disk.from_xml("<disk type='vhostuser'><source type='unix' path='/s.sock'/>"
                         "<target dev='vda'/></disk>")
    assert disk.snapshot == "no"
    assert disk.source.to_xml() == "<source type='unix' path='/s.sock'/>\n"


@pytest.mark.parametrize(("body", "message"), [
    ("<disk type='file'><source file='/a'/><target dev='foo'/></disk>",
     "XML error: Unknown disk name 'foo' and no address specified"),
    ("<disk type='file'><driver name='foo'/><source file='/a'/><target dev='vda'/></disk>",
     "unsupported configuration: unsupported driver name 'foo' for disk 'vda'"),
    ("<disk type='file'><source file='/e'><encryption format='luks'><secret type='passphrase'"
     " usage='e'/><cipher name='aes' size='256'/></encryption></source><target dev='vda'/>"
     "</disk>",
     "unsupported configuration: supplying <cipher> for domain disk definition is "
     "unnecessary"),
    ("<disk type='file'><source file='/tmp/a.img'/></disk>",
     "missing target information for device /tmp/a.img"),
    ("<disk type='file'><source file='/a'/><target dev='vda'/></disk>"
     "<disk type='file'><source file='/b'/><target dev='vda'/></disk>",
     "XML error: target 'vda' duplicated for disk sources '/a' and '/b'"),
    ("<disk type='file' device='bogus'><source file='/a'/><target dev='vda'/></disk>",
     "XML error: Invalid value for attribute 'device' in element 'disk': 'bogus'."),
    ("<disk type='file'><source file='/a'/><target dev='vda'/><iotune><total_iops_sec>1"
     "</total_iops_sec><write_iops_sec>1</write_iops_sec></iotune></disk>",
     "XML error: total and read/write iops_sec cannot be set at the same time"),
    ("<disk type='file'><source file='/a'/><target dev='sda'/><wwn>0x5000c50015ea71a</wwn>"
     "</disk>", "internal error: Malformed wwn: 0x5000c50015ea71a"),
    ("<disk type='file'><source file='/a'/><target dev='sda'/><vendor>123456789</vendor>"
     "</disk>", "unsupported configuration: disk vendor is more than 8 characters"),
    ("<disk type='file' device='lun'><source file='/a'/><target dev='sda'/></disk>",
     "unsupported configuration: disk device='lun' is only valid for block type disk source"),
    ("<disk type='file'><source file='/a'/><geometry cyls='1' heads='1' secs='1' trans='lba'/>"
     "<target dev='vda'/></disk>",
     "unsupported configuration: CHS translation mode can only be set for 'ide' bus not "
     "'virtio'"),
    ("<disk type='dir' device='floppy'><source dir='/tmp'/><target dev='fda'/></disk>",
     "unsupported configuration: storage type 'dir' requires use of storage format 'fat'"),
    ("<disk type='network'><source protocol='rbd' name='img'/><target dev='vda'/></disk>",
     "XML error: can't split path 'img' into pool name and image name"),
    ("<disk type='file'><driver name='qemu' event_idx='off'/><source file='/a'/>"
     "<target dev='hda'/></disk>",
     "unsupported configuration: disk event_idx mode supported only for virtio bus"),
    ("<disk type='block' device='lun'><source dev='/dev/sda'/><target dev='sda'/>"
     "<address type='drive' controller='0' bus='0' target='3' unit='0'/></disk>",
     "unsupported configuration: target must be 0 for controller model 'lsilogic'"),
    ("<disk type='file'><source file='/a'/><target dev='vda'/>"
     "<address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>",
     "unsupported configuration: virtio disk cannot have an address of type 'drive'"),
])
def test_errors_carry_libvirts_text(body: str, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        devices(body)
    assert caught.value.message == message
