"""Domain-level parsing, defaults and formatting against what libvirt 9.0's QEMU driver was
observed to write back (virsh dumpxml --inactive after define)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvirt.conf.defaults import domain as domain_defaults
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain
from qvirt.errors import QvirtError

DATA = Path(__file__).parent.parent / "data" / "conf" / "domain"
FACTS = GuestFacts(machines={"pc": "pc-i440fx-7.2", "pc-i440fx-7.2": "pc-i440fx-7.2",
                             "q35": "pc-q35-7.2", "pc-q35-7.2": "pc-q35-7.2"},
                   emulators={"i686": "/usr/bin/qemu-system-i386"})
UUID_RE = re.compile(r"<uuid>[0-9a-f-]{36}</uuid>")


def defined(text: str) -> str:
    """qvirt's answer to define + dumpxml --inactive, domain level only."""
    dom = Domain.from_xml(text)
    domain_defaults.apply(dom, FACTS)
    return UUID_RE.sub("<uuid>UUID</uuid>", dom.to_xml())


def with_os(extra: str) -> str:
    """A minimal TCG domain with ``extra`` appended to its top level."""
    return ("<domain type='qemu'><name>d</name><memory>1024</memory>"
            f"<os><type>hvm</type></os>{extra}</domain>")


MINIMAL_OUT = """<domain type='qemu'>
  <name>dom-probe1</name>
  <uuid>UUID</uuid>
  <memory unit='KiB'>65536</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
"""


def test_minimal_document_gets_libvirts_defaults() -> None:
    doc = ("<domain type='qemu'><name>dom-probe1</name><memory>65536</memory>"
           "<os><type>hvm</type></os></domain>")
    assert defined(doc) == MINIMAL_OUT


def test_defaults_are_stable_on_libvirts_own_output() -> None:
    canonical = MINIMAL_OUT.replace("UUID", "d2dfcb46-1499-46a6-bb6c-689af54f1e16")
    assert defined(canonical) == MINIMAL_OUT
    assert Domain.from_xml(canonical).to_xml() == canonical


def test_q35_machine_is_canonicalised() -> None:
    doc = ("<domain type='qemu'><name>d</name><memory>1024</memory>"
           "<os><type machine='q35'>hvm</type></os></domain>")
    assert "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>" in defined(doc)


@pytest.mark.parametrize(("unit", "value", "kib"), [
    ("", "524288", "524288"), ("MiB", "512", "524288"), ("M", "512", "524288"),
    ("G", "1", "1048576"), ("GB", "1", "976563"), ("KB", "200000", "195313"),
    ("b", "134217728", "131072"), ("bytes", "100000001", "97657"), ("k", "64", "64"),
])
def test_memory_units_are_stored_in_kib_rounding_up(unit: str, value: str, kib: str) -> None:
    attr = f" unit='{unit}'" if unit else ""
    doc = (f"<domain type='qemu'><name>d</name><memory{attr}>{value}</memory>"
           "<os><type>hvm</type></os></domain>")
    assert f"<memory unit='KiB'>{kib}</memory>" in defined(doc)


def test_kvm_custom_model_is_checked_partially_but_default_model_is_not() -> None:
    base = "<domain type='kvm'><name>d</name><memory>1024</memory><os><type>hvm</type></os>{}"
    assert "<cpu mode='custom' match='exact' check='none'>" in defined(
        base.format("</domain>"))
    out = defined(base.format("<cpu><model>core2duo</model></cpu></domain>"))
    assert "<cpu mode='custom' match='exact' check='partial'>" in out
    assert "<model fallback='allow'>core2duo</model>" in out


@pytest.mark.parametrize(("cpu", "expected"), [
    ("<cpu mode='host-model'><model fallback='forbid'/></cpu>",
     "<cpu mode='host-model' check='partial'/>"),
    ("<cpu mode='host-passthrough'/>",
     "<cpu mode='host-passthrough' check='none' migratable='on'/>"),
    ("<cpu mode='maximum'/>", "<cpu mode='maximum' check='none'/>"),
])
def test_host_cpu_modes(cpu: str, expected: str) -> None:
    assert expected in defined(with_os(cpu))


def test_cpusets_and_schedulers_are_normalised() -> None:
    doc = """<domain type='qemu'><name>d</name><memory>1024</memory>
      <vcpu cpuset='1-4,^3,6' current='2'>4</vcpu>
      <cputune><vcpupin vcpu='1' cpuset='0,1'/><vcpupin vcpu='0' cpuset='1-4,^2'/>
        <vcpusched vcpus='0-1' scheduler='fifo' priority='1'/></cputune>
      <os><type>hvm</type></os></domain>"""
    out = defined(doc)
    assert "<vcpu placement='static' cpuset='1-2,4,6' current='2'>4</vcpu>" in out
    assert ("    <vcpupin vcpu='0' cpuset='1,3-4'/>\n    <vcpupin vcpu='1' cpuset='0-1'/>\n"
            "    <vcpusched vcpus='0' scheduler='fifo' priority='1'/>\n"
            "    <vcpusched vcpus='1' scheduler='fifo' priority='1'/>\n") in out


def test_numa_distances_are_completed_symmetrically() -> None:
    doc = """<domain type='qemu'><name>d</name><vcpu>2</vcpu><os><type>hvm</type></os>
      <cpu><numa><cell cpus='0' memory='64' unit='MiB'/>
        <cell cpus='1' memory='65536'><distances><sibling id='0' value='21'/></distances>
        </cell></numa></cpu></domain>"""
    out = defined(doc)
    assert "<memory unit='KiB'>131072</memory>" in out
    assert """      <cell id='0' cpus='0' memory='65536' unit='KiB'>
        <distances>
          <sibling id='0' value='10'/>
          <sibling id='1' value='21'/>
        </distances>
      </cell>
      <cell id='1' cpus='1' memory='65536' unit='KiB'>
        <distances>
          <sibling id='0' value='21'/>
          <sibling id='1' value='10'/>
        </distances>
      </cell>
""" in out


def test_auto_placement_implies_numatune() -> None:
    doc = ("<domain type='qemu'><name>d</name><memory>1024</memory>"
           "<vcpu placement='auto' cpuset='1'>2</vcpu><os><type>hvm</type></os></domain>")
    out = defined(doc)
    assert ("  <vcpu placement='auto'>2</vcpu>\n  <numatune>\n"
            "    <memory mode='strict' placement='auto'/>\n  </numatune>\n") in out


@pytest.mark.parametrize(("label", "expected"), [
    ("<seclabel type='dynamic'/>", "<seclabel type='none' model='none'/>"),
    ("<seclabel type='none'/>", "<seclabel type='none' model='none'/>"),
    ("<seclabel type='dynamic' model='dac'/>",
     "<seclabel type='dynamic' model='dac' relabel='yes'/>"),
    ("<seclabel type='static' model='dac'><label>+0:+0</label></seclabel>",
     "<seclabel type='static' model='dac' relabel='no'>\n    <label>+0:+0</label>"),
])
def test_seclabel_defaults(label: str, expected: str) -> None:
    assert expected in defined(with_os(label))


@pytest.mark.parametrize(("clock", "expected"), [
    ("<clock offset='localtime' adjustment='120'/>",
     "<clock offset='variable' adjustment='120' basis='localtime'/>"),
    ("<clock offset='variable' adjustment='3600'/>",
     "<clock offset='variable' adjustment='3600' basis='utc'/>"),
    ("<clock offset='utc' adjustment='reset'/>", "<clock offset='utc' adjustment='reset'/>"),
    ("<clock sync='localtime'/>", "<clock offset='utc'/>"),
])
def test_clock_offsets(clock: str, expected: str) -> None:
    assert expected in defined(with_os(clock))


def test_features_spelling_and_order() -> None:
    doc = """<domain type='qemu'><name>d</name><memory>1024</memory><os><type>hvm</type></os>
      <features><pvspinlock/><hap/><privnet/><viridian/><apic/><acpi/>
      <hyperv mode='passthrough'/></features></domain>"""
    assert """  <features>
    <acpi/>
    <apic/>
    <hap state='on'/>
    <viridian/>
    <privnet/>
    <hyperv mode='passthrough'>
    </hyperv>
    <pvspinlock state='on'/>
  </features>
""" in defined(doc)


def test_metadata_and_qemu_namespace() -> None:
    doc = """<domain type='qemu' xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>d</name>
  <metadata>
    <app1:foo xmlns:app1="http://app1.org/app1/"><app1:x   a="1">t</app1:x>
        <app1:y/>
    </app1:foo>
  </metadata>
  <memory>1024</memory><os><type>hvm</type></os>
  <q:commandline><q:arg value='-a'/><q:env name='X' value='1'/></q:commandline>
</domain>"""
    out = defined(doc)
    assert out.startswith(
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n")
    assert """  <metadata>
    <app1:foo xmlns:app1="http://app1.org/app1/">
      <app1:x a="1">t</app1:x>
      <app1:y/>
    </app1:foo>
  </metadata>
""" in out
    assert """  <qemu:commandline>
    <qemu:arg value='-a'/>
    <qemu:env name='X' value='1'/>
  </qemu:commandline>
</domain>
""" in out


def test_sysinfo_keeps_known_entries_in_libvirts_order() -> None:
    doc = """<domain type='qemu'><name>d</name><memory>1024</memory><os><type>hvm</type></os>
      <sysinfo type='smbios'><system><entry name='vendor'>x</entry>
      <entry name='product'>p</entry><entry name='manufacturer'>m</entry></system></sysinfo>
      </domain>"""
    assert """    <system>
      <entry name='manufacturer'>m</entry>
      <entry name='product'>p</entry>
    </system>
""" in defined(doc)


INVALID = sorted((DATA / "invalid").glob("dom-*.xml"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_documents_fail_with_libvirts_message(path: Path) -> None:
    text = path.read_text()
    expected = text.split("\n", 1)[0].removeprefix("<!-- error: ").removesuffix(" -->")
    with pytest.raises(QvirtError) as info:
        defined(text)
    assert info.value.message == expected


VALID = sorted(DATA.glob("dom-*.xml"))


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_corpus_output_is_a_fixed_point(path: Path) -> None:
    """What qvirt writes for a document reads back to itself, with and without defaults."""
    first = Domain.from_xml(path.read_text())
    domain_defaults.apply(first, FACTS)
    out = first.to_xml()
    assert Domain.from_xml(out).to_xml() == out
    again = Domain.from_xml(out)
    domain_defaults.apply(again, FACTS)
    assert again.to_xml() == out
