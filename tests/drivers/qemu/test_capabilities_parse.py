"""QemuCaps from recorded QMP replies (tests/data/qemu/caps/, made by the probe from this host's
QEMU 7.2): machine types, CPU models, guest facts and both capabilities documents, without
launching QEMU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from qvirt.conf.capabilities import Capabilities
from qvirt.conf.domaincaps import DomainCapabilities
from qvirt.drivers.qemu.capabilities import (
    QemuCaps,
    capabilities_xml,
    domain_capabilities_xml,
    guest_section,
)
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

RECORDED = Path(__file__).parents[2] / "data" / "qemu" / "caps"
SCHEMAS = Path("/usr/share/libvirt/schemas")


def recorded_replies(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return data


def recorded(name: str = "qemu-system-x86_64", binary: str | None = None) -> QemuCaps:
    data = recorded_replies(name)
    return QemuCaps.from_replies(binary or data["binary"], data["replies"])


def without_kvm(replies: dict[str, Any]) -> dict[str, Any]:
    """The replies a host without usable KVM gives: one probe, which ran under TCG."""
    main = dict(replies["tcg"])
    main.update({k: v for k, v in replies["kvm"].items() if k not in main})
    main["query-kvm"] = {"return": {"enabled": False, "present": False}}
    return {"kvm": main}


def validate(xml: str, schema: str) -> None:
    rng = etree.RelaxNG(etree.parse(str(SCHEMAS / schema)))
    doc = etree.fromstring(xml.encode())
    assert rng.validate(doc), rng.error_log


@pytest.fixture(scope="module")
def caps() -> QemuCaps:
    return recorded()


def test_version_arch_and_kvm(caps: QemuCaps) -> None:
    assert caps.version == 7_002_022
    assert caps.package.startswith("Debian")
    assert caps.arch == "x86_64"
    assert caps.virt_types() == ("qemu", "kvm")
    assert recorded("qemu-system-i386").arch == "i686"


def test_default_machine_comes_first_and_aliases_resolve(caps: QemuCaps) -> None:
    machines = caps.machine_types("qemu")
    assert machines[0].name == "pc-i440fx-7.2" and machines[0].alias == "pc"
    assert "none" not in [m.name for m in machines]
    q35 = caps.find_machine("q35")
    assert q35 is not None and q35.name == "pc-q35-7.2" and q35.max_cpus == 288
    assert (q35.default_ram_id, q35.hotpluggable_cpus, q35.numa_mem_supported) == (
        "pc.ram", True, False)
    old = caps.find_machine("pc-i440fx-2.12")
    assert old is not None and old.numa_mem_supported
    assert caps.find_machine("nosuch") is None


def test_capabilities_machines_put_each_alias_after_its_machine(caps: QemuCaps) -> None:
    machines = guest_section(caps).machines
    names = [m.name for m in machines]
    pc = names.index("pc")
    assert names[pc - 1] == "pc-i440fx-7.2" and machines[pc].canonical == "pc-i440fx-7.2"
    assert machines[names.index("q35")].canonical == "pc-q35-7.2"
    deprecated = {m.name for m in machines if m.deprecated}
    assert "pc-i440fx-1.4" in deprecated and "pc-i440fx-7.2" not in deprecated


def test_guest_facts(tmp_path: Path) -> None:
    binary = tmp_path / "qemu-system-x86_64"
    facts = recorded(binary=str(binary)).guest_facts()
    assert facts.emulator == str(binary) and facts.arch == "x86_64"
    assert facts.machines["pc"] == "pc-i440fx-7.2"
    assert facts.machines["q35"] == "pc-q35-7.2"
    assert facts.machines["pc-q35-5.2"] == "pc-q35-5.2"
    assert facts.default_machine == "pc"
    assert facts.default_cpu_model == "qemu64"
    # i686 guests run in qemu-system-i386 when it sits beside the x86_64 binary.
    assert facts.emulators == {"i686": str(binary)}
    (tmp_path / "qemu-system-i386").touch(mode=0o755)
    assert recorded(binary=str(binary)).guest_facts().emulators == {
        "i686": str(tmp_path / "qemu-system-i386")}


def test_cpu_models_are_those_libvirts_map_knows(caps: QemuCaps) -> None:
    models = {m.name: vendor for m, vendor in caps.mapped_cpu_models("qemu")}
    assert models["qemu64"] == "" and models["EPYC"] == "AMD" and models["n270"] == "Intel"
    for absent in ("max", "host", "base", "EPYC-v1", "Denverton", "KnightsMill"):
        assert absent not in models
    names = [m.name for m, _ in caps.mapped_cpu_models("qemu")]
    assert names[:3] == ["qemu64", "qemu32", "phenom"]


def test_cpu_usability_differs_per_binary_and_accelerator() -> None:
    x86 = {m.name: m.usable for m in recorded().cpu_definitions("qemu")}
    i386 = {m.name: m.usable for m in recorded("qemu-system-i386").cpu_definitions("qemu")}
    assert x86["qemu64"] and not i386["qemu64"]
    assert x86["qemu32"] and i386["qemu32"]
    assert not x86["EPYC"]


def test_domcaps_pc_and_q35(caps: QemuCaps) -> None:
    pc = DomainCapabilities.from_xml(domain_capabilities_xml(caps, None, "qemu", None))
    q35 = DomainCapabilities.from_xml(domain_capabilities_xml(caps, "q35", "qemu", None))
    assert (pc.machine, pc.vcpu_max, q35.machine, q35.vcpu_max) == (
        "pc-i440fx-7.2", 255, "pc-q35-7.2", 288)
    assert pc.devices.disk.enum("bus") == ["ide", "fdc", "scsi", "virtio", "usb", "sata"]
    assert q35.devices.disk.enum("bus") == ["fdc", "scsi", "virtio", "usb", "sata"]
    assert pc.devices.graphics.enum("type") == ["sdl", "vnc", "spice", "egl-headless", "dbus"]
    assert pc.features.sev.supported is False and pc.features.genid.supported is True
    modes = {m.name: m for m in pc.cpu.modes}
    assert modes["host-passthrough"].supported is False
    custom = {m.name: (m.usable, m.vendor) for m in modes["custom"].models}
    assert custom["qemu64"] == ("yes", "unknown") and custom["EPYC"] == ("no", "AMD")


def test_domcaps_kvm_offers_host_passthrough(caps: QemuCaps) -> None:
    doc = DomainCapabilities.from_xml(domain_capabilities_xml(caps, None, None, None,
                                                              kvm_max_vcpus=lambda: 1024))
    assert doc.domain == "kvm" and doc.vcpu_max == 255
    mode = next(m for m in doc.cpu.modes if m.name == "host-passthrough")
    assert mode.supported is True
    assert mode.enums[0].name == "hostPassthroughMigratable"


def test_domcaps_kvm_vcpus_are_bounded_by_kvm(caps: QemuCaps) -> None:
    doc = DomainCapabilities.from_xml(domain_capabilities_xml(caps, "q35", "kvm", None,
                                                              kvm_max_vcpus=lambda: 8))
    assert doc.vcpu_max == 8
    tcg = DomainCapabilities.from_xml(domain_capabilities_xml(caps, "q35", "qemu", None,
                                                              kvm_max_vcpus=lambda: 8))
    assert tcg.vcpu_max == 288


def test_domcaps_i686_guest_on_the_x86_64_binary(caps: QemuCaps) -> None:
    doc = DomainCapabilities.from_xml(domain_capabilities_xml(caps, None, "qemu", "i686"))
    assert doc.arch == "i686" and doc.path == caps.binary


@pytest.mark.parametrize(("machine", "virttype", "arch", "code", "message"), [
    ("nosuch", "qemu", None, ErrorNumber.INVALID_ARG,
     "invalid argument: the machine 'nosuch' is not supported by emulator "
     "'/usr/bin/qemu-system-x86_64'"),
    (None, "xen", None, ErrorNumber.INVALID_ARG,
     "invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type "
     "'xen'"),
    (None, "bogus", None, ErrorNumber.INVALID_ARG, "invalid argument: unknown virttype: bogus"),
    (None, "qemu", "aarch64", ErrorNumber.INVALID_ARG,
     "invalid argument: architecture from emulator 'x86_64' doesn't match given "
     "architecture 'aarch64'"),
])
def test_domcaps_errors_are_libvirts(caps: QemuCaps, machine: str | None, virttype: str,
                                     arch: str | None, code: int, message: str) -> None:
    with pytest.raises(QvirtError) as err:
        domain_capabilities_xml(caps, machine, virttype, arch)
    assert err.value.code == code and err.value.domain == ErrorDomain.QEMU
    assert err.value.message == message


def test_kvm_is_refused_when_the_probe_found_none() -> None:
    data = recorded_replies("qemu-system-x86_64")
    caps = QemuCaps.from_replies(data["binary"], without_kvm(data["replies"]))
    assert caps.virt_types() == ("qemu",)
    assert [d.type for d in guest_section(caps).domains] == ["qemu"]
    with pytest.raises(QvirtError) as err:
        domain_capabilities_xml(caps, None, "kvm", None)
    assert err.value.message == ("invalid argument: the accel 'kvm' is not supported by "
                                 "'/usr/bin/qemu-system-x86_64' on this host")
    assert DomainCapabilities.from_xml(
        domain_capabilities_xml(caps, None, None, None)).domain == "qemu"


def test_guest_sections() -> None:
    i686 = guest_section(recorded("qemu-system-i386"))
    x86 = guest_section(recorded())
    assert (i686.arch, i686.wordsize, i686.emulator) == ("i686", 32, "/usr/bin/qemu-system-i386")
    assert (x86.arch, x86.wordsize) == ("x86_64", 64)
    assert [f.name for f in i686.features][:2] == ["pae", "nonpae"]
    assert "pae" not in [f.name for f in x86.features]
    assert [(d.type, d.machines) for d in x86.domains] == [("qemu", []), ("kvm", [])]
    # Without qemu-system-i386, i686 guests run in the x86_64 binary.
    native = guest_section(recorded(), "i686")
    assert (native.arch, native.wordsize, native.emulator) == (
        "i686", 32, "/usr/bin/qemu-system-x86_64")
    assert [f.name for f in native.features][:2] == ["pae", "nonpae"]


@pytest.mark.parametrize(("machine", "virttype"), [(None, "qemu"), ("q35", "qemu"),
                                                   (None, "kvm")])
def test_domain_capabilities_validate_against_libvirts_schema(
        caps: QemuCaps, machine: str | None, virttype: str) -> None:
    validate(domain_capabilities_xml(caps, machine, virttype, None, kvm_max_vcpus=lambda: 1024),
             "domaincaps.rng")


def test_capabilities_validate_and_round_trip() -> None:
    xml = capabilities_xml([("i686", recorded("qemu-system-i386")), ("x86_64", recorded())],
                           dac_label="+64055:+64055")
    # Host CPU features named like sse4.1 fail libvirt's own schema, in libvirtd's document
    # as in this one (docs/compat.md): the rest is validated.
    doc = Capabilities.from_xml(xml)
    doc.host.cpu.features = [f for f in doc.host.cpu.features if "." not in f]
    validate(doc.to_xml(), "capability.rng")
    assert Capabilities.from_xml(xml).to_xml() == xml
