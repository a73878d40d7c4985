"""The network distributions ship (libvirt's src/network/default.xml.in): NAT on virbr0,
192.168.122.0/24, DHCP for .2-.254. Defined, with autostart on, the first time a system
driver starts on a fresh config directory."""

DEFAULT_XML = """\
<network>
  <name>default</name>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
"""
