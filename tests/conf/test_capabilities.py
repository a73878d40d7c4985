"""Host capabilities and domain capabilities: this host's real `virsh capabilities` and
`virsh domcapabilities` outputs (and the test driver's) round trip byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt.conf.capabilities import Capabilities
from qvirt.conf.domaincaps import DomainCapabilities
from tests.support.schema import schema_errors

DATA = Path(__file__).parent.parent / "data" / "conf"
CAPS = sorted((DATA / "capabilities").glob("sto-*.xml"))
DOMCAPS = sorted((DATA / "domaincaps").glob("sto-*.xml"))




@pytest.mark.parametrize("path", CAPS, ids=lambda p: p.stem)
def test_capabilities_round_trip_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert Capabilities.from_xml(text).to_xml() == text


@pytest.mark.parametrize("path", DOMCAPS, ids=lambda p: p.stem)
def test_domain_capabilities_round_trip_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert DomainCapabilities.from_xml(text).to_xml() == text


def test_host_capabilities_are_typed() -> None:
    caps = Capabilities.from_xml((DATA / "capabilities" / "sto-host.xml").read_text())
    assert caps.host is not None and caps.host.cpu.arch == "x86_64"
    assert caps.host.iommu is False and caps.host.migration_features.live is True
    assert [s.model for s in caps.host.secmodels] == ["none", "dac"]
    x86 = next(g for g in caps.guests if g.arch == "x86_64")
    assert x86.emulator == "/usr/bin/qemu-system-x86_64" and x86.wordsize == 64
    pc = next(m for m in x86.machines if m.name == "pc")
    assert pc.canonical == "pc-i440fx-7.2" and pc.max_cpus == 255
    assert [d.type for d in x86.domains] == ["qemu", "kvm"]
    acpi = next(f for f in x86.features if f.name == "acpi")
    assert (acpi.default, acpi.toggle) == ("on", "yes")


def test_capabilities_keep_libvirts_blank_lines() -> None:
    out = Capabilities.from_xml((DATA / "capabilities" / "sto-rich.xml").read_text()).to_xml()
    assert out.startswith("<capabilities>\n\n  <host>\n")
    assert "  </host>\n\n  <guest>\n" in out and out.endswith("  </guest>\n\n</capabilities>\n")


def test_domain_capabilities_are_typed() -> None:
    caps = DomainCapabilities.from_xml((DATA / "domaincaps" / "sto-qemu-q35.xml").read_text())
    assert (caps.domain, caps.machine, caps.vcpu_max) == ("qemu", "pc-q35-7.2", 288)
    modes = {m.name: m for m in caps.cpu.modes}
    assert modes["host-passthrough"].supported is False
    assert modes["host-model"].models[0].name == "EPYC"
    assert caps.devices.disk.enum("bus") == ["fdc", "scsi", "virtio", "usb", "sata"]
    assert caps.os.loader.enum("type") == ["rom", "pflash"]
    kvm = DomainCapabilities.from_xml((DATA / "domaincaps" / "sto-kvm-pc.xml").read_text())
    assert {m.name: m for m in kvm.cpu.modes}["host-passthrough"].supported is True
    assert "ide" in kvm.devices.disk.enum("bus")


# libvirt's own report of this host fails its schema (feature names such as 'sse4.1'), so
# only the other capabilities documents are held to it.
VALID_CAPS = [p for p in CAPS if p.name != "sto-host.xml"]


@pytest.mark.compat
@pytest.mark.parametrize("path", VALID_CAPS, ids=lambda p: p.stem)
def test_emitted_capabilities_validate(path: Path, tmp_path: Path) -> None:
    out = Capabilities.from_xml(path.read_text()).to_xml()
    assert schema_errors(out, "capability", tmp_path) == ""


@pytest.mark.compat
@pytest.mark.parametrize("path", DOMCAPS, ids=lambda p: p.stem)
def test_emitted_domain_capabilities_validate(path: Path, tmp_path: Path) -> None:
    out = DomainCapabilities.from_xml(path.read_text()).to_xml()
    assert schema_errors(out, "domaincaps", tmp_path) == ""
