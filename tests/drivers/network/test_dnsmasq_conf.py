"""dnsmasq's config, hosts files and lease file as the network driver writes and reads them
(pure functions: no namespace, no dnsmasq)."""

from __future__ import annotations

import time
from pathlib import Path

from qvirt.conf.network import Network
from qvirt.drivers.network import dnsmasq, leases
from qvirt.drivers.network.paths import NetworkPaths

RICH = """<network>
  <name>rich</name>
  <forward mode='nat'/>
  <bridge name='virbr7'/>
  <domain name='example.com' localOnly='yes'/>
  <dns forwardPlainNames='no'>
    <forwarder addr='8.8.8.8'/>
    <forwarder domain='corp.example' addr='10.0.0.53'/>
    <txt name='example' value='example value'/>
    <srv service='name' protocol='tcp' domain='test.com' target='t.example.com' port='1111'
         priority='11' weight='111'/>
    <srv service='name2' protocol='udp' target='t2.example.com' port='2222'/>
    <srv service='name3' protocol='tcp' target='t3.example.com' weight='5'/>
    <host ip='192.168.7.50'><hostname>web</hostname><hostname>www</hostname></host>
  </dns>
  <ip address='192.168.7.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.7.2' end='192.168.7.9'>
        <lease expiry='2' unit='hours'/>
      </range>
      <host mac='52:54:00:00:00:01' name='one' ip='192.168.7.20'/>
      <host mac='52:54:00:00:00:02' ip='192.168.7.21'><lease expiry='0'/></host>
    </dhcp>
  </ip>
  <ip family='ipv6' address='2001:db8:7::1' prefix='64'/>
</network>
"""


def test_conf_and_hosts_files(tmp_path: Path) -> None:
    paths = NetworkPaths.under(tmp_path)
    net = Network.from_xml(RICH)
    conf = dnsmasq.conf_contents(net, paths)
    body = conf.split("## dnsmasq conf file created by libvirt\n", 1)[1]
    lib = tmp_path / "lib" / "dnsmasq"
    assert body.replace(f"pid-file={tmp_path}/run/network/rich.pid\n", "").split("\n", 2)[2] \
        == f"""server=8.8.8.8
server=/corp.example/10.0.0.53
no-resolv
domain-needed
local=//
local=/example.com/
domain=example.com
expand-hosts
except-interface=lo
bind-dynamic
interface=virbr7
txt-record=example,example value
srv-host=_name._tcp.test.com,t.example.com,1111,11,111
srv-host=_name2._udp,t2.example.com,2222
srv-host=_name3._tcp,t3.example.com,0,0,5
dhcp-range=192.168.7.2,192.168.7.9,255.255.255.0,7200
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=10
dhcp-hostsfile={lib}/rich.hostsfile
addn-hosts={lib}/rich.addnhosts
dhcp-range=2001:db8:7::1,ra-only
"""
    assert body.startswith("strict-order\n")
    assert dnsmasq.hostsfile_contents(net) == (
        "52:54:00:00:00:01,192.168.7.20,one\n52:54:00:00:00:02,192.168.7.21,infinite\n")
    assert dnsmasq.addnhosts_contents(net) == "192.168.7.50\tweb www\n"


def test_isolated_network_gives_no_router(tmp_path: Path) -> None:
    net = Network.from_xml("<network><name>iso</name><bridge name='virbr8'/>"
                           "<ip address='10.8.0.1' prefix='24'><dhcp>"
                           "<range start='10.8.0.2' end='10.8.0.3'/></dhcp></ip></network>")
    conf = dnsmasq.conf_contents(net, NetworkPaths.under(tmp_path))
    assert "interface=virbr8\ndhcp-option=3\nno-resolv\ndhcp-range=10.8.0.2,10.8.0.3," \
           "255.255.255.0\n" in conf


def test_lease_file(tmp_path: Path) -> None:
    net = Network.from_xml("<network><name>l</name><bridge name='virbr9'/>"
                           "<ip address='10.9.0.1' prefix='24'/>"
                           "<ip family='ipv6' address='2001:db8:9::1' prefix='64'/></network>")
    now = int(time.time())
    path = tmp_path / "l.leases"
    path.write_text(f"{now + 3600} 52:54:00:AA:00:01 10.9.0.5 guest1 01:52:54:00:aa:00:01\n"
                    f"{now - 10} 52:54:00:aa:00:02 10.9.0.6 old *\n"
                    f"0 52:54:00:aa:00:03 10.9.0.7 * *\n"
                    "duid 00:01:00:01:aa:bb:cc:dd:ee:ff:00:11\n"
                    f"{now + 60} 1234 2001:db8:9::50 guest6 00:04:aa:bb\n")
    got = leases.read(path, net, None)
    assert [(lease.mac, lease.ipaddr, lease.prefix, lease.hostname, lease.clientid,
             lease.type, lease.iface) for lease in got] == [
        ("52:54:00:aa:00:01", "10.9.0.5", 24, "guest1", "01:52:54:00:aa:00:01", 0, "virbr9"),
        ("52:54:00:aa:00:03", "10.9.0.7", 24, None, None, 0, "virbr9"),
        ("", "2001:db8:9::50", 64, "guest6", "00:04:aa:bb", 1, "virbr9"),
    ]
    assert got[2].iaid == "1234" and got[1].expirytime == 0
    assert [lease.ipaddr for lease in leases.read(path, net, "52:54:00:aa:00:01")] == [
        "10.9.0.5"]
    assert leases.read(tmp_path / "none", net, None) == []
