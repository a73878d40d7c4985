"""The test driver's device defaults: buses, addresses, controllers, consoles, inputs, displays."""

import libvirt  # type: ignore[import-not-found]

XML = """<domain type='test'>
  <name>devs</name>
  <uuid>8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e04</uuid>
  <memory>1048576</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/a.img'/>
      <target dev='hda'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/guest/b.iso'/>
      <target dev='hdd'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/guest/c.img'/>
      <target dev='sdb'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/guest/d.img'/>
      <target dev='vda'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:00:00:02'/>
      <source network='default'/>
      <target dev='testnet0'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:00:00:03'/>
      <source network='default'/>
    </interface>
    <serial type='pty'/>
    <input type='mouse'/>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc'/>
    <video/>
  </devices>
</domain>
"""

conn = libvirt.open("test:///default")
dom = conn.defineXML(XML)
print(dom.XMLDesc(0), end="")
dom.create()
print(dom.XMLDesc(0), end="")
