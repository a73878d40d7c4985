"""qvirt's capabilities documents against real libvirtd's on this host.

Compared whole, after normalizing only what differs by design:
- the host <uuid>: libvirt makes up a random one on a host without SMBIOS;
- domain capabilities' host-model <mode>: libvirt computes it from the host CPU and QEMU's
  CPU model expansion, which qvirt does not yet.
"""

from __future__ import annotations

import grp
import pwd
import subprocess

import pytest

from qvirt.conf.capabilities import Capabilities
from qvirt.conf.domaincaps import DomainCapabilities
from qvirt.drivers.qemu.capabilities import (
    QemuCapsCache,
    capabilities_xml,
    domain_capabilities_xml,
)
from tests.support.oracle import URI, ensure_libvirtd

pytestmark = [pytest.mark.integration, pytest.mark.compat]


def virsh(*args: str) -> str:
    ensure_libvirtd()
    return subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True,
                          check=True).stdout


def qemu_dac_label() -> str:
    """The label libvirt's DAC driver gives QEMU: Debian's libvirt-qemu user and group."""
    return f"+{pwd.getpwnam('libvirt-qemu').pw_uid}:+{grp.getgrnam('libvirt-qemu').gr_gid}"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> QemuCapsCache:
    return QemuCapsCache(tmp_path_factory.mktemp("caps"))


def normalized_caps(xml: str) -> str:
    doc = Capabilities.from_xml(xml)
    doc.host.uuid = None
    return doc.to_xml()


def normalized_domcaps(xml: str) -> str:
    doc = DomainCapabilities.from_xml(xml)
    doc.cpu.modes = [m for m in doc.cpu.modes if m.name != "host-model"]
    return doc.to_xml()


def test_capabilities_match_libvirtd(cache: QemuCapsCache) -> None:
    ours = capabilities_xml(cache.all_guests(), dac_label=qemu_dac_label())
    assert normalized_caps(ours) == normalized_caps(virsh("capabilities"))


@pytest.mark.parametrize("options", [
    ("--virttype", "qemu"),
    ("--virttype", "qemu", "--machine", "q35"),
    ("--virttype", "qemu", "--machine", "pc-i440fx-5.2"),
    ("--virttype", "qemu", "--machine", "isapc"),
    ("--virttype", "qemu", "--machine", "microvm"),
    ("--virttype", "qemu", "--machine", "pc"),
    ("--virttype", "kvm"),
    ("--virttype", "qemu", "--arch", "i686"),
    ("--virttype", "qemu", "--arch", "i686", "--emulatorbin", "/usr/bin/qemu-system-x86_64"),
], ids=lambda o: "-".join(a.strip("-").replace("/", "") for a in o))
def test_domain_capabilities_match_libvirtd(cache: QemuCapsCache,
                                            options: tuple[str, ...]) -> None:
    opts = dict(zip(options[::2], options[1::2], strict=True))
    caps = (cache.get(opts["--emulatorbin"]) if "--emulatorbin" in opts
            else cache.for_arch(opts.get("--arch")))
    ours = domain_capabilities_xml(caps, opts.get("--machine"), opts["--virttype"],
                                   opts.get("--arch"))
    assert normalized_domcaps(ours) == normalized_domcaps(virsh("domcapabilities", *options))

