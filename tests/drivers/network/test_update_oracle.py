"""net-update, every section and command, against libvirtd 9.0: the same inactive network
defined in both (never started), the same updates applied with AFFECT_CONFIG in turn, and
after each the same XML or the same error."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from qvirt import constants as C
from qvirt.errors import QvirtError
from tests.drivers.network.conftest import NetLab
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd

HELPER = Path(__file__).with_name("oracle_update.py")
CONFIG = C.VIR_NETWORK_UPDATE_AFFECT_CONFIG
ADD, FIRST = C.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, C.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST
MOD, DEL = C.VIR_NETWORK_UPDATE_COMMAND_MODIFY, C.VIR_NETWORK_UPDATE_COMMAND_DELETE
HOST, RANGE = C.VIR_NETWORK_SECTION_IP_DHCP_HOST, C.VIR_NETWORK_SECTION_IP_DHCP_RANGE
DNS_HOST, TXT, SRV = (C.VIR_NETWORK_SECTION_DNS_HOST, C.VIR_NETWORK_SECTION_DNS_TXT,
                      C.VIR_NETWORK_SECTION_DNS_SRV)
FWD_IF, PG = C.VIR_NETWORK_SECTION_FORWARD_INTERFACE, C.VIR_NETWORK_SECTION_PORTGROUP

UPDATES: list[tuple[int, int, int, str, int]] = [
    (ADD, HOST, -1, "<host mac='52:54:00:00:00:01' name='a' ip='10.91.0.11'/>", CONFIG),
    (FIRST, HOST, -1, "<host mac='52:54:00:00:00:02' name='b' ip='10.91.0.12'/>", CONFIG),
    (ADD, HOST, -1, "<host mac='52:54:00:00:00:01' name='c' ip='10.91.0.13'/>", CONFIG),
    (MOD, HOST, -1, "<host mac='52:54:00:00:00:01' name='a' ip='10.91.0.21'/>", CONFIG),
    (MOD, HOST, -1, "<host mac='52:54:00:00:00:09' ip='10.91.0.29'/>", CONFIG),
    (DEL, HOST, -1, "<host mac='52:54:00:00:00:02' name='b' ip='10.91.0.12'/>", CONFIG),
    (DEL, HOST, -1, "<host mac='52:54:00:00:00:02' name='b' ip='10.91.0.12'/>", CONFIG),
    (ADD, HOST, 0, "<host mac='52:54:00:00:00:03' ip='10.91.0.14'/>", CONFIG),
    (ADD, HOST, 5, "<host mac='52:54:00:00:00:04' ip='10.91.0.15'/>", CONFIG),
    (ADD, HOST, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (ADD, RANGE, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (ADD, RANGE, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (ADD, RANGE, -1, "<range start='10.91.1.100' end='10.91.1.110'/>", CONFIG),
    (MOD, RANGE, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (DEL, RANGE, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (DEL, RANGE, -1, "<range start='10.91.0.100' end='10.91.0.110'/>", CONFIG),
    (ADD, DNS_HOST, -1, "<host ip='10.91.0.50'><hostname>web</hostname></host>", CONFIG),
    (FIRST, DNS_HOST, -1, "<host ip='10.91.0.51'><hostname>db</hostname></host>", CONFIG),
    (ADD, DNS_HOST, -1, "<host ip='10.91.0.52'><hostname>web</hostname></host>", CONFIG),
    (MOD, DNS_HOST, -1, "<host ip='10.91.0.50'><hostname>web</hostname></host>", CONFIG),
    (DEL, DNS_HOST, -1, "<host ip='10.91.0.50'><hostname>web</hostname></host>", CONFIG),
    (DEL, DNS_HOST, -1, "<host ip='10.91.0.59'><hostname>none</hostname></host>", CONFIG),
    (ADD, TXT, -1, "<txt name='example' value='some text'/>", CONFIG),
    (ADD, TXT, -1, "<txt name='example' value='other'/>", CONFIG),
    (MOD, TXT, -1, "<txt name='example' value='other'/>", CONFIG),
    (DEL, TXT, -1, "<txt name='example' value='some text'/>", CONFIG),
    (DEL, TXT, -1, "<txt name='example' value='some text'/>", CONFIG),
    (ADD, SRV, -1, "<srv service='ldap' protocol='tcp' domain='ex.org' target='t.ex.org' "
                   "port='389' priority='1' weight='10'/>", CONFIG),
    (ADD, SRV, -1, "<srv service='ldap' protocol='tcp' domain='ex.org' target='t.ex.org' "
                   "port='389' priority='1' weight='10'/>", CONFIG),
    (MOD, SRV, -1, "<srv service='ldap' protocol='tcp'/>", CONFIG),
    (DEL, SRV, -1, "<srv service='ldap' protocol='tcp'/>", CONFIG),
    (DEL, SRV, -1, "<srv service='ldap' protocol='tcp'/>", CONFIG),
    (ADD, FWD_IF, -1, "<interface dev='eth7'/>", CONFIG),
    (ADD, FWD_IF, -1, "<interface dev='eth7'/>", CONFIG),
    (MOD, FWD_IF, -1, "<interface dev='eth7'/>", CONFIG),
    (DEL, FWD_IF, -1, "<interface dev='eth7'/>", CONFIG),
    (DEL, FWD_IF, -1, "<interface dev='eth7'/>", CONFIG),
    (ADD, PG, -1, "<portgroup name='one' default='yes'/>", CONFIG),
    (ADD, PG, -1, "<portgroup name='one'/>", CONFIG),
    (ADD, PG, -1, "<portgroup name='two' default='yes'/>", CONFIG),
    (MOD, PG, -1, "<portgroup name='one'><bandwidth><inbound average='1000'/></bandwidth>"
                  "</portgroup>", CONFIG),
    (MOD, PG, -1, "<portgroup name='nine'/>", CONFIG),
    (DEL, PG, -1, "<portgroup name='one'/>", CONFIG),
    (ADD, C.VIR_NETWORK_SECTION_BRIDGE, -1, "<bridge name='x'/>", CONFIG),
    (ADD, C.VIR_NETWORK_SECTION_DOMAIN, -1, "<domain name='x'/>", CONFIG),
    (ADD, C.VIR_NETWORK_SECTION_IP, -1, "<ip address='10.92.0.1'/>", CONFIG),
    (ADD, C.VIR_NETWORK_SECTION_FORWARD, -1, "<forward/>", CONFIG),
    (ADD, C.VIR_NETWORK_SECTION_FORWARD_PF, -1, "<pf dev='eth0'/>", CONFIG),
    (9, HOST, -1, "<host mac='52:54:00:00:00:05' ip='10.91.0.16'/>", CONFIG),
    (ADD, HOST, -1, "<host mac='52:54:00:00:00:05' ip='10.91.0.16'/>",
     C.VIR_NETWORK_UPDATE_AFFECT_LIVE),
]


def _network(name: str) -> str:
    return (f"<network><name>{name}</name><uuid>{uuid.uuid4()}</uuid>"
            "<forward mode='route'/><bridge name='qvtupd0' stp='on' delay='0'/>"
            "<mac address='52:54:00:12:34:56'/>"
            "<ip address='10.91.0.1' netmask='255.255.255.0'><dhcp>"
            "<range start='10.91.0.2' end='10.91.0.9'/></dhcp></ip></network>")


def _oracle(xml: str) -> list[dict[str, object]]:
    ensure_libvirtd()
    proc = subprocess.run([SYSTEM_PYTHON, str(HELPER)], input=json.dumps(
        {"uri": URI, "xml": xml, "updates": UPDATES}), capture_output=True, text=True,
        check=True)
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


def test_updates_match_libvirtd(netlab: NetLab) -> None:
    xml = _network(f"qvt-upd-{uuid.uuid4().hex[:6]}")
    expected = _oracle(xml)
    drv = netlab.driver
    ref = drv.network_define_xml_flags(xml)
    got: list[dict[str, object]] = []
    for command, section, index, doc, flags in UPDATES:
        try:
            drv.network_update(ref, command, section, index, doc, flags)
            got.append({"xml": drv.network_get_xml_desc(ref, C.VIR_NETWORK_XML_INACTIVE)})
        except QvirtError as err:
            got.append({"error": [err.code, err.domain, err.message]})
    for step, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert have == want, f"update {step}: {UPDATES[step]}"
