"""The net-* and guest-interface commands on a running network and guest (qemu:///embed in a
namespace of the test's own): one virsh session starts a NAT network and a tiny guest on it,
lists and counts its NIC, takes its link down and up, plugs a second NIC in, and stops
everything. No oracle runs networks here, so the output is checked for what libvirt shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests.compat.harness import run_qvirt
from tests.drivers.network.netns import entered, namespaces
from tests.drivers.qemu.conftest import kill_all_under, tiny_xml

NET = ("<network><name>lab</name><forward mode='nat'/><bridge name='qvtbr0'/>"
       "<ip address='10.77.0.1' netmask='255.255.255.0'>"
       "<dhcp><range start='10.77.0.10' end='10.77.0.20'/></dhcp></ip></network>")
NIC = ("<interface type='network'><mac address='52:54:00:77:00:01'/>"
       "<source network='lab'/><model type='virtio'/></interface>")
MAC = "52:54:00:77:00:01"


def test_running_network_and_guest(tmp_path: Path, tiny_image: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g", "nicguest")
    xml = re.sub(r"<interface type='user'>.*?</interface>", NIC, xml, flags=re.S)
    (tmp_path / "guest.xml").write_text(xml)
    (tmp_path / "net.xml").write_text(NET)
    session = "; ".join([
        f"net-create {tmp_path / 'net.xml'}", "net-list", "net-info lab",
        "net-dumpxml lab --xpath //bridge", "net-dhcp-leases lab --mac 52:54:00:77:00:09",
        f"create {tmp_path / 'guest.xml'}", "domiflist nicguest",
        f"domifstat nicguest {MAC}", f"domif-setlink nicguest {MAC} down",
        f"domif-getlink nicguest {MAC}", f"domif-setlink nicguest {MAC} up",
        f"domif-getlink nicguest {MAC}",
        "attach-interface nicguest network lab --mac 52:54:00:77:00:02 --model virtio --live",
        "domiflist nicguest", "destroy nicguest", "net-destroy lab", "net-list --all",
    ])
    try:
        with namespaces("cli") as (ns,), entered(ns):
            got = run_qvirt(["-c", f"qemu:///embed?root={tmp_path / 'root'}", session])
    finally:
        kill_all_under(tmp_path)
    assert got.stderr == "" and got.status == 0, got
    out = got.stdout
    assert " lab    active   no          no\n" in out
    assert "Bridge:         qvtbr0\n" in out
    assert "<bridge name=\"qvtbr0\" stp=\"on\" delay=\"0\"/>\n" in out
    assert (" Expiry Time   MAC address   Protocol   IP address   Hostname   "
            "Client ID or DUID\n" + "-" * 83 + "\n") in out
    tap = re.search(r" (\S+)\s+network\s+lab\s+virtio\s+52:54:00:77:00:01\n", out)
    assert tap is not None and tap.group(1).startswith("vnet"), out
    for counter in ("rx_bytes", "rx_packets", "tx_bytes", "tx_drop"):
        assert re.search(rf"^{MAC} {counter} \d+$", out, re.M), out
    assert out.count("Device updated successfully\n") == 2
    assert f"{MAC} down" in out and f"{MAC} up" in out
    assert "Interface attached successfully\n" in out
    assert re.search(r" vnet\d+\s+network\s+lab\s+virtio\s+52:54:00:77:00:02\n", out), out
    assert "Network lab destroyed\n" in out
    assert out.endswith(" Name   State   Autostart   Persistent\n" + "-" * 40 + "\n\n")
