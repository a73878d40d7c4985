"""The devices libvirt 9.0's QEMU driver adds or completes at define time (defaults/implicit.py),
checked against what the oracle printed for the same input (addresses are the next stage's),
and the error texts of the chr-* invalid corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvirt.conf.defaults import implicit
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain
from qvirt.conf.xmltree import Node
from tests.support.compare import qvirt_output

CORPUS = Path(__file__).parent.parent / "data" / "conf" / "domain"


def devices_after_defaults(devices: str) -> str:
    dom = Domain.from_xml(f"<domain type='qemu'><name>chr</name><memory>65536</memory>"
                          f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                          f"<devices>{devices}</devices></domain>")
    implicit.apply(dom, GuestFacts())
    assert dom.devices is not None
    node = dom.devices.to_node()
    return "".join(child.to_string() for child in node.children
                   if isinstance(child, Node) and child.tag != "emulator")


BASE = ("<input type='mouse' bus='ps2'/>\n<input type='keyboard' bus='ps2'/>\n"
        "<audio id='1' type='none'/>\n")
BALLOON = "<memballoon model='virtio'/>\n"


def test_empty_guest_gets_ps2_inputs_audio_and_balloon() -> None:
    assert devices_after_defaults("") == BASE + BALLOON


def test_serial_gets_isa_target_and_a_console_copy() -> None:
    assert devices_after_defaults("<serial type='file'><source path='/tmp/x'/></serial>") == (
        "<serial type='file'>\n  <source path='/tmp/x'/>\n"
        "  <target type='isa-serial' port='0'>\n    <model name='isa-serial'/>\n  </target>\n"
        "</serial>\n"
        "<console type='file'>\n  <source path='/tmp/x'/>\n"
        "  <target type='serial' port='0'/>\n</console>\n" + BASE + BALLOON)


def test_console_alone_becomes_a_serial_port() -> None:
    assert devices_after_defaults("<console type='pty'><target port='3'/></console>") == (
        "<serial type='pty'>\n  <target type='isa-serial' port='0'>\n"
        "    <model name='isa-serial'/>\n  </target>\n</serial>\n"
        "<console type='pty'>\n  <target type='serial' port='0'/>\n</console>\n"
        + BASE + BALLOON)


def test_console_of_a_differing_serial_shows_the_serial() -> None:
    out = devices_after_defaults("<serial type='file'><source path='/tmp/f'/></serial>"
                                 "<console type='pty'/>")
    assert "<console type='file'>\n  <source path='/tmp/f'/>\n" in out


def test_virtio_console_ports_count_the_serial_console_only_when_written() -> None:
    written = devices_after_defaults("<console type='pty'/>"
                                     "<console type='pty'><target type='virtio'/></console>")
    assert "<target type='virtio' port='1'/>" in written
    implied = devices_after_defaults("<serial type='pty'/>"
                                     "<console type='pty'><target type='virtio'/></console>")
    assert "<target type='virtio' port='0'/>" in implied
    assert implied.count("<console") == 2


def test_non_isa_first_serial_gets_no_console() -> None:
    out = devices_after_defaults("<serial type='pty'><target type='pci-serial'/></serial>"
                                 "<serial type='pty'/>")
    assert "<console" not in out
    assert "<target type='isa-serial' port='1'>" in out


def test_serial_ports_continue_after_the_highest() -> None:
    out = devices_after_defaults("<serial type='pty'><target port='3'/></serial>"
                                 "<serial type='pty'/>")
    assert "port='3'" in out and "port='4'" in out


def test_channel_state_is_forgotten() -> None:
    out = devices_after_defaults("<channel type='unix'><target type='virtio' "
                                 "name='org.qemu.guest_agent.0' state='connected'/></channel>")
    assert "<target type='virtio' name='org.qemu.guest_agent.0'/>" in out


def test_input_buses_and_the_implicit_ps2_pair() -> None:
    out = devices_after_defaults("<input type='keyboard'/><input type='tablet'/>"
                                 "<input type='passthrough'/>")
    assert out.startswith("<input type='keyboard' bus='ps2'/>\n"
                          "<input type='tablet' bus='usb'/>\n"
                          "<input type='passthrough' bus='virtio'/>\n"
                          "<input type='mouse' bus='ps2'/>\n<audio")


def test_vnc_gets_listen_address_video_and_no_audio() -> None:
    assert devices_after_defaults("<graphics type='vnc'/>") == (
        "<input type='mouse' bus='ps2'/>\n<input type='keyboard' bus='ps2'/>\n"
        "<graphics type='vnc' port='-1' autoport='yes'>\n  <listen type='address'/>\n"
        "</graphics>\n<audio id='1' type='none'/>\n"
        "<video>\n  <model type='cirrus' vram='16384' heads='1' primary='yes'/>\n</video>\n"
        + BALLOON)


@pytest.mark.parametrize(("graphics", "audio"), [
    ("<graphics type='spice'/>", "<audio id='1' type='spice'/>"),
    ("<graphics type='vnc'/><graphics type='spice'/>", "<audio id='1' type='spice'/>"),
    ("<graphics type='spice'/><graphics type='vnc'/>", "<audio id='1' type='none'/>"),
    ("<graphics type='sdl'/>", ""),
    ("<graphics type='egl-headless'/>", ""),
    ("<graphics type='dbus'/>", ""),
])
def test_default_audio_follows_the_last_graphics(graphics: str, audio: str) -> None:
    out = devices_after_defaults(graphics)
    assert re.findall(r"<audio[^>]*>", out) == ([audio] if audio else [])


def test_spice_listen_none_without_ports() -> None:
    assert "<listen type='none'/>" in devices_after_defaults("<graphics type='spice'/>")
    assert "<listen type='address'/>" in devices_after_defaults(
        "<graphics type='spice' port='5903'/>")


def test_videos_get_memory_heads_and_primary_first() -> None:
    out = devices_after_defaults("<video><model type='virtio'/></video>"
                                 "<video><model type='cirrus' primary='yes'/></video>"
                                 "<video><model type='qxl'/></video>")
    assert re.findall(r"<model [^>]*>", out) == [
        "<model type='cirrus' vram='16384' heads='1' primary='yes'/>",
        "<model type='virtio' heads='1'/>",
        "<model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1'/>",
    ]


def test_platform_device_defaults() -> None:
    out = devices_after_defaults(
        "<watchdog model='ib700'/><rng model='virtio'><backend model='random'/></rng>"
        "<panic/><tpm><backend type='passthrough'/></tpm><vsock><cid auto='yes'/></vsock>"
        "<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>")
    assert "<watchdog model='ib700' action='reset'/>" in out
    assert "<backend model='random'>/dev/random</backend>" in out
    assert "<panic model='isa'/>" in out
    assert "<tpm model='tpm-tis'>\n  <backend type='passthrough'>\n" \
           "    <device path='/dev/tpm0'/>" in out
    assert "<vsock model='virtio'>" in out
    assert "<crypto" not in out


def test_explicit_balloon_none_is_kept() -> None:
    assert devices_after_defaults("<memballoon model='none'/>").endswith(
        "<memballoon model='none'/>\n")


INVALID = sorted((CORPUS / "invalid").glob("chr-*.xml"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_corpus_gives_libvirts_message(path: Path) -> None:
    text = path.read_text()
    match = re.match(r"<!-- error: (.*) -->", text)
    assert match is not None
    assert qvirt_output("domain", text) == f"error: {match.group(1)}\n"


def test_corpus_is_large_enough() -> None:
    assert len(list(CORPUS.glob("chr-*.xml"))) >= 90 and len(INVALID) >= 20


def test_console_ports_are_positions() -> None:
    out = devices_after_defaults("<console type='pty'><target type='virtio' port='3'/>"
                                 "</console>")
    assert "<target type='virtio' port='0'/>" in out and "<serial" not in out
