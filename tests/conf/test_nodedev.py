"""Node devices: the host's own `virsh nodedev-dumpxml` output and hand-made documents of every
capability type round trip byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt.conf.nodedev import NetCap, NodeDevice, PCICap, SCSIHostCap, StorageCap, SystemCap
from qvirt.errors import QvirtError
from tests.support.schema import schema_errors

DATA = Path(__file__).parent.parent / "data" / "conf" / "nodedev"
DEVICES = sorted(DATA.glob("sto-*.xml"))




def test_corpus_is_large_enough() -> None:
    assert len(DEVICES) >= 10


@pytest.mark.parametrize("path", DEVICES, ids=lambda p: p.stem)
def test_round_trip_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert NodeDevice.from_xml(text).to_xml() == text


def test_capabilities_are_typed() -> None:
    pci = NodeDevice.from_xml((DATA / "sto-pci-sriov.xml").read_text()).capabilities[0]
    assert isinstance(pci, PCICap)
    assert (pci.klass, pci.vendor_id, pci.product_id) == (0x020000, 0x8086, 0x10C9)
    assert pci.virt_functions.max_count == 7 and len(pci.virt_functions.addresses) == 2
    hba = NodeDevice.from_xml((DATA / "sto-guide-hba.xml").read_text()).capabilities[0]
    assert isinstance(hba, SCSIHostCap) and hba.fc_host.wwnn == "20000000c9848140"
    assert hba.vport_ops.max_vports == 127
    cd = NodeDevice.from_xml((DATA / "sto-storage-cdrom.xml").read_text())
    assert [d.type for d in cd.devnodes] == ["dev", "link", "link"]
    cap = cd.capabilities[0]
    assert isinstance(cap, StorageCap) and cap.hotpluggable == "hotpluggable"
    assert cap.removable.media_label == "debian 12"


def test_host_documents() -> None:
    system = NodeDevice.from_xml((DATA / "sto-computer.xml").read_text()).capabilities[0]
    assert isinstance(system, SystemCap) and system.firmware is not None
    net = NodeDevice.from_xml(
        (DATA / "sto-net_eth0_02_fc_00_00_00_01.xml").read_text()).capabilities[0]
    assert isinstance(net, NetCap) and net.subtype == "80203" and "tso" in net.features


def test_unknown_capability_type_is_an_error() -> None:
    with pytest.raises(QvirtError) as info:
        NodeDevice.from_xml("<device><name>x</name><capability type='floppy'/></device>")
    assert info.value.message == "internal error: unknown capability type 'floppy'"


@pytest.mark.compat
@pytest.mark.parametrize("path", DEVICES, ids=lambda p: p.stem)
def test_emitted_devices_validate(path: Path, tmp_path: Path) -> None:
    out = NodeDevice.from_xml(path.read_text()).to_xml()
    assert schema_errors(out, "nodedev", tmp_path) == ""


def test_a_device_needs_a_capability() -> None:
    with pytest.raises(QvirtError) as info:
        NodeDevice.from_xml("<device><name>x</name></device>")
    assert info.value.message == "internal error: no device capabilities for 'x'"


def test_parent_wwns_are_read_for_create_but_not_written() -> None:
    dev = NodeDevice.from_xml(
        "<device><name>v</name><parent wwnn='20000000c9848140' wwpn='10000000c9848140'/>"
        "<capability type='scsi_host'><host>5</host></capability></device>")
    assert (dev.parent, dev.parent_wwnn, dev.parent_wwpn) == (
        None, "20000000c9848140", "10000000c9848140")
    assert dev.to_xml() == ("<device>\n  <name>v</name>\n  <capability type='scsi_host'>\n"
                            "    <host>5</host>\n  </capability>\n</device>\n")
