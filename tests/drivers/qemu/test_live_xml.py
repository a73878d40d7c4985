"""The live XML of a started domain, as libvirtd 9.0 shows the same domain (its output for
these disks was read from libvirtd once and is written out here): storage ids counted from
the last disk, the backing chains read from the images, the console's tty, the cgroup
partition, the DAC label and the CPU as QEMU runs it; none of it in the inactive XML, all of
it kept by a new driver."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.state import CreateFlags, XMLFlags
from qvirt.errors import OperationFailed
from tests.drivers.qemu.conftest import Drivers, tiny_xml

pytestmark = pytest.mark.integration

STORAGE_ID = re.compile(r"<(source|backingStore) [^>]*index=")
# The default CPU under TCG as defined, and as QEMU runs it: QEMU's qemu64 also has the
# hypervisor bit and lahf_lm, which libvirt's qemu64 leaves out.
INACTIVE_CPU = ("  <cpu mode='custom' match='exact' check='none'>\n"
                "    <model fallback='forbid'>qemu64</model>\n  </cpu>\n")
LIVE_CPU = ("  <cpu mode='custom' match='exact' check='full'>\n"
            "    <model fallback='forbid'>qemu64</model>\n"
            "    <feature policy='require' name='hypervisor'/>\n"
            "    <feature policy='require' name='lahf_lm'/>\n  </cpu>\n")


def with_disks(xml: str, work: Path) -> str:
    """After the tiny guest's overlay (vda): an empty cdrom, a raw disk, a qcow2 whose chain
    the XML ends, and a virtio console on a pty."""
    raw = work / "raw.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "1M"], check=True)
    top = work / "top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw),
                    str(top)], check=True)
    disks = (f"<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
             f"<disk type='file'><driver name='qemu' type='raw'/><source file='{raw}'/>"
             "<target dev='vdc' bus='virtio'/></disk>"
             f"<disk type='file'><driver name='qemu' type='qcow2'/><source file='{top}'/>"
             "<backingStore/><target dev='vdd' bus='virtio'/></disk>"
             "<console type='pty'><target type='virtio'/></console>")
    return xml.replace("</disk>", "</disk>" + disks, 1)


def disk_lines(live: str) -> list[str]:
    return [line.strip() for line in live.splitlines()
            if re.search(r"<(/?backingStore|source file|driver|format)", line)]


def test_live_xml_as_libvirtd_shows_it(drivers: Drivers, driver: QemuDriver, tiny_image: Path,
                                       tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    work = tmp_path / "g"
    ref = driver.domain_define_xml_flags(with_disks(xml, work))
    ref = driver.domain_create_with_flags(ref, CreateFlags.START_PAUSED)
    live = driver.domain_get_xml_desc(ref)
    assert disk_lines(live) == [
        "<driver name='qemu' type='qcow2'/>",
        f"<source file='{work}/disk.qcow2' index='4'/>",
        "<backingStore type='file' index='5'>",
        "<format type='qcow2'/>",
        f"<source file='{tiny_image}/disk.qcow2'/>",
        "<backingStore/>",
        "</backingStore>",
        "<driver name='qemu' type='raw'/>",
        f"<source file='{work}/raw.img' index='3'/>",
        "<backingStore/>",
        "<driver name='qemu' type='qcow2'/>",
        f"<source file='{work}/top.qcow2' index='2'/>",
        "<backingStore/>",
        "<driver name='qemu'/>",   # the empty cdrom took id 1
    ]
    assert "<resource>\n    <partition>/machine</partition>\n  </resource>" in live
    assert LIVE_CPU in live
    console = re.search(r"<console type='pty' tty='(/dev/pts/\d+)'>\n      <source path='"
                        r"(/dev/pts/\d+)'/>", live)
    assert console is not None and console.group(1) == console.group(2), live
    label = f"+{os.getuid()}:+{os.getgid()}"
    seclabel = (f"  <seclabel type='dynamic' model='dac' relabel='yes'>\n"
                f"    <label>{label}</label>\n    <imagelabel>{label}</imagelabel>\n"
                "  </seclabel>\n")
    assert live.endswith(seclabel + "</domain>\n")

    inactive = driver.domain_get_xml_desc(ref, XMLFlags.INACTIVE)
    assert not STORAGE_ID.search(inactive)
    assert INACTIVE_CPU in inactive
    for runtime in (" tty=", "<resource>", "<seclabel", "<backingStore type"):
        assert runtime not in inactive
    assert inactive.count("<backingStore/>") == 1  # the one the XML gave
    assert "<driver name='qemu' type='raw'/>\n      <target dev='hdc'" in inactive

    # A new driver takes the domain back from its status file with the same document.
    driver.connect_close()
    again = drivers.open()
    assert again.domain_get_xml_desc(again.domain_lookup_by_name("tiny")) == live


def test_a_defined_index_is_forgotten(driver: QemuDriver, tiny_image: Path,
                                      tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    xml = re.sub(r"(<source file='[^']*disk.qcow2')", r"\1 index='7'", xml)
    assert "index='7'" in xml
    ref = driver.domain_define_xml_flags(xml)
    assert not STORAGE_ID.search(driver.domain_get_xml_desc(ref))


def test_a_cpu_checked_in_full_that_qemu_changed_does_not_start(driver: QemuDriver,
                                                                 tiny_image: Path,
                                                                 tmp_path: Path) -> None:
    """libvirtd refuses this very definition with this text (read from it once)."""
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    xml = xml.replace("</vcpu>", "</vcpu><cpu mode='custom' match='exact' check='full'>"
                      "<model fallback='forbid'>qemu64</model></cpu>")
    ref = driver.domain_define_xml_flags(xml)
    with pytest.raises(OperationFailed) as err:
        driver.domain_create_with_flags(ref, CreateFlags.START_PAUSED)
    assert str(err.value) == ("operation failed: guest CPU doesn't match specification: "
                              "extra features: hypervisor,lahf_lm")
    assert not driver.domain_is_active(ref)


def test_a_maximum_cpu_is_left_as_defined(driver: QemuDriver, tiny_image: Path,
                                          tmp_path: Path) -> None:
    """libvirtd 9.0 refreshes only custom CPUs naming a model (read from it once)."""
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_define_xml_flags(xml.replace("</vcpu>", "</vcpu><cpu mode='maximum'/>"))
    ref = driver.domain_create_with_flags(ref, CreateFlags.START_PAUSED)
    assert "  <cpu mode='maximum' check='none'/>\n" in driver.domain_get_xml_desc(ref)
