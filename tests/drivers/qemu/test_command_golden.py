"""build_command on fixed domains: tests/data/qemu/argv/NAME.xml gives NAME.argv, one argument
per line. A missing .argv is written from the current output (review it before committing);
delete one to regenerate it. The inputs carry their UUIDs, MACs and host paths, so the output
is stable; test_command_compat.py also checks these inputs against libvirt itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.devices.chardev import ChrSource
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command import RunPaths, build_command, command_env
from qvirt.errors import ConfigUnsupported, ErrorNumber, InternalError, QvirtError
from tests.support.facts import qemu_facts

DATA = Path(__file__).resolve().parents[2] / "data" / "qemu" / "argv"
CASES = sorted(DATA.glob("*.xml"))


def build(path: Path) -> tuple[Domain, list[str]]:
    dom = Domain.from_xml(path.read_text())
    apply_domain_defaults(dom, qemu_facts())
    home = Path(f"/run/qvirt/qemu/1-{dom.name}")
    return dom, build_command(dom, RunPaths(home, home / "monitor.sock"), qemu_facts())


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_argv_matches_golden(path: Path) -> None:
    _, argv = build(path)
    golden = path.with_suffix(".argv")
    text = "\n".join(argv) + "\n"
    if not golden.exists():
        golden.write_text(text)
    assert text == golden.read_text()


def test_build_is_stable_and_assigns_aliases() -> None:
    """Building twice gives the same argv; the first build leaves every device its alias."""
    dom, first = build(DATA / "q35-devices.xml")
    home = Path(f"/run/qvirt/qemu/1-{dom.name}")
    again = build_command(dom, RunPaths(home, home / "monitor.sock"), qemu_facts())
    assert again == first
    assert [d.alias for d in dom.devices.disks] == ["virtio-disk0", "virtio-disk1", "sata0-0-0",
                                                     "scsi0-0-0-1"]
    assert [n.alias for n in dom.devices.interfaces] == ["net0", "net1", "net2"]
    assert dom.devices.memballoon.alias == "balloon0"


def test_user_alias_is_kept() -> None:
    dom = Domain.from_xml((DATA / "tiny.xml").read_text().replace(
        "<model type='virtio'/>", "<model type='virtio'/><alias name='ua-nic'/>"))
    apply_domain_defaults(dom, qemu_facts())
    argv = build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())
    assert '"netdev":"hostua-nic","id":"ua-nic"' in "".join(argv)


def test_monitor_socket_is_a_server_socket() -> None:
    dom = Domain.from_xml((DATA / "tiny.xml").read_text())
    apply_domain_defaults(dom, qemu_facts())
    argv = build_command(dom, RunPaths(Path("/d"), Path("/d/qmp.sock")), qemu_facts())
    at = argv.index("-mon")
    assert argv[at - 1] == "socket,id=charmonitor,path=/d/qmp.sock,server=on,wait=off"
    assert argv[at + 1] == "chardev=charmonitor,id=monitor,mode=control"


def test_commandline_environment() -> None:
    dom, _ = build(DATA / "q35-devices.xml")
    assert command_env(dom) == {"QEMU_AUDIO_DRV": "none"}


def test_unresolved_network_is_refused() -> None:
    xml = (DATA / "tiny.xml").read_text().replace(
        "<interface type='user'>", "<interface type='network'><source network='default'/>")
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    with pytest.raises(ConfigUnsupported, match="network 'default' must be resolved"):
        build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())


def test_resolved_network_uses_the_bridge_helper() -> None:
    xml = (DATA / "tiny.xml").read_text().replace(
        "<interface type='user'>", "<interface type='network'><source network='default'/>")
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    dom.devices.interfaces[0].source.bridge = "virbr0"
    argv = build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())
    assert ('{"type":"bridge","br":"virbr0","helper":"/usr/lib/qemu/qemu-bridge-helper",'
            '"id":"hostnet0"}') in argv
    # QEMU runs the helper itself: its sandbox must let it.
    assert argv[argv.index("-sandbox") + 1] == (
        "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny")


def test_user_network_guest_addresses() -> None:
    xml = (DATA / "tiny.xml").read_text().replace(
        "<model type='virtio'/>", "<model type='virtio'/><ip address='10.1.2.15' prefix='24'/>"
        "<ip address='fd00::15' family='ipv6' prefix='64'/>")
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    argv = build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())
    assert ('{"type":"user","net":"10.1.2.15/24","ipv6-prefix":"fd00::15",'
            '"ipv6-prefixlen":64,"id":"hostnet0"}') in argv
    assert argv[argv.index("-sandbox") + 1].endswith("spawn=deny,resourcecontrol=deny")


def test_mtu_on_user_networking_is_refused_as_libvirt_does() -> None:
    xml = (DATA / "tiny.xml").read_text().replace(
        "<model type='virtio'/>", "<model type='virtio'/><mtu size='9000'/>")
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    with pytest.raises(ConfigUnsupported) as caught:
        build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())
    assert caught.value.message == ("unsupported configuration: setting MTU on interface type "
                                    "user is not supported yet")


def test_unix_channel_without_a_path_is_a_caller_error() -> None:
    """The runtime must name an agent channel's socket before it builds the command line."""
    xml = (DATA / "tiny.xml").read_text().replace(
        "<source mode='bind' path='/run/qvirt/qemu/1-tiny/org.qemu.guest_agent.0'/>", "")
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    with pytest.raises(InternalError, match="'charchannel0' has no socket path"):
        build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())


CORPUS = sorted((DATA.parents[1] / "conf" / "domain").glob("*.xml"))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_domain_builds_or_is_refused_with_a_libvirt_error(path: Path) -> None:
    """Whatever the domain, the builder answers with an argv or a libvirt-style error,
    never a crash (sockets the runtime would name are named here)."""
    dom = Domain.from_xml(path.read_text())
    apply_domain_defaults(dom, qemu_facts())
    for channel in dom.devices.channels:
        if channel.type == "unix" and not channel.sources:
            channel.sources = [ChrSource(mode="bind", path=f"/d/{channel.alias or 'ch'}.sock")]
    try:
        argv = build_command(dom, RunPaths(Path("/d"), Path("/d/m.sock")), qemu_facts())
    except QvirtError as err:
        assert err.get_error_code() in (ErrorNumber.CONFIG_UNSUPPORTED,
                                        ErrorNumber.INTERNAL_ERROR)
        return
    assert argv[0] == dom.devices.emulator and argv[-2:] == ["-msg", "timestamp=on"]
