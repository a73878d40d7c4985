"""One tiny guest with a NIC of each kind whose host side qvirt opens: direct (a macvtap over
a host device), bridge (a tap on a bridge qvirt does not own), ethernet (a tap of its own),
and network on a macvtap pool; models virtio, e1000 and rtl8139. The host devices exist
while the guest runs, the guest sees every NIC, and all of them go when it stops."""

from __future__ import annotations

import re

import pytest

from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.network.conftest import UPLINK, Lab
from tests.drivers.network.netns import ip

NICS = (
    f"<interface type='direct'><source dev='{UPLINK}' mode='bridge'/>"
    "<model type='virtio'/></interface>"
    "<interface type='bridge'><source bridge='qvtext0'/><model type='e1000'/></interface>"
    "<interface type='ethernet'><model type='rtl8139'/></interface>"
    "<interface type='network'><source network='pool'/><model type='virtio'/></interface>"
)


def _links(lab: Lab) -> set[str]:
    return {line.split()[0] for line in ip("-br", "link", ns=lab.ns).splitlines()}


def test_each_host_side(lab: Lab) -> None:
    ip("link", "add", "qvtext0", "type", "bridge", ns=lab.ns)
    ip("link", "set", "qvtext0", "up", ns=lab.ns)
    ip("link", "add", "qvt-pool", "type", "veth", "peer", "name", "qvt-pool-p", ns=lab.ns)
    ip("link", "set", "qvt-pool", "up", ns=lab.ns)
    lab.network("<network><name>pool</name><forward mode='vepa'>"
                "<interface dev='qvt-pool'/></forward></network>")
    guest = lab.guest("kinds", NICS)
    live = lab.driver.domain_get_xml_desc(guest.ref)
    macs = re.findall(r"<mac address='([^']+)'/>", live)
    targets = re.findall(r"<target dev='([^']+)'/>", live)
    assert len(macs) == 4 and len(targets) == 4
    direct, bridged, ethernet, pooled = targets
    assert direct.startswith("macvtap") and pooled.startswith("macvtap")
    assert bridged.startswith("vnet") and ethernet.startswith("vnet")
    for alias in ("net0", "net1", "net2", "net3"):
        assert f"<alias name='{alias}'/>" in live

    links = {name: ip("-d", "link", "show", name, ns=lab.ns) for name in targets}
    assert f"@{UPLINK}" in links[direct] and "macvtap mode bridge" in links[direct]
    assert f"link/ether {macs[0]}" in links[direct]
    assert "@qvt-pool" in links[pooled] and "macvtap mode vepa" in links[pooled]
    assert "master qvtext0" in links[bridged] and f"link/ether fe{macs[1][2:]}" in links[bridged]
    assert "master" not in links[ethernet] and f"link/ether fe{macs[2][2:]}" in links[ethernet]

    # The tiny guest drives virtio NICs only; the others show as PCI functions.
    code, out = lab.run(guest, "cat /sys/class/net/*/address; for d in /sys/bus/pci/devices/*;"
                               " do echo $(cat $d/vendor):$(cat $d/device); done")
    assert code == 0 and {macs[0], macs[3]} <= set(out.split()), out
    assert {"0x8086:0x100e", "0x10ec:0x8139"} <= set(out.split()), out

    lab.driver.domain_destroy_flags(guest.ref)
    left = ip("-br", "link", ns=lab.ns)
    for name in targets:
        assert not re.search(rf"^{name}[@ ]", left, re.M), left
    # The pool's device is free again: a second guest gets it.
    lab.driver.domain_create_with_flags(guest.ref)
    assert "macvtap" in lab.driver.domain_get_xml_desc(guest.ref)


def test_start_on_a_stopped_network_leaves_nothing(lab: Lab) -> None:
    lab.network("<network><name>off</name><bridge name='qvtoff0'/>"
                "<ip address='192.168.180.1' prefix='24'/></network>", start=False)
    xml = ("<interface type='bridge'><source bridge='qvtext1'/></interface>"
           "<interface type='network'><source network='off'/></interface>")
    ip("link", "add", "qvtext1", "type", "bridge", ns=lab.ns)
    before = _links(lab)
    with pytest.raises(QvirtError) as exc:
        lab.guest("refused", xml)
    assert (exc.value.code, exc.value.message) == (
        ErrorNumber.OPERATION_INVALID, "Requested operation is not valid: network 'off' is not "
                                       "active")
    assert _links(lab) == before
    with pytest.raises(QvirtError) as exc:
        lab.guest("lost", "<interface type='network'><source network='nowhere'/></interface>")
    assert exc.value.message == "Network not found: no network with matching name 'nowhere'"
