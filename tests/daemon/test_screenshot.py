"""virsh screenshot through qvirtd, as through libvirtd: the same messages for the same
steps (a guest with a VGA device, one without, a screen that does not exist, a guest that is
not running), and the same picture format; the stream carries the whole file. (The picture's
size depends on how far the guest has booted: 640x480 graphics before the VGA text mode's
720x400, so only its validity is compared.)"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, guest_xml, virsh
from tests.support.oracle import ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
VGA = "<video><model type='vga'/></video></devices>"


def png_size(path: Path) -> str:
    """"PNG" for a whole PNG file: its signature, a sane IHDR and the IEND chunk at the end."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    assert 0 < width <= 4096 and 0 < height <= 4096, (width, height)
    assert data[-8:-4] == b"IEND", data[-12:]
    return "PNG"


def session(uri: str, xml: Path, name: str, out: Path) -> list[tuple[int, str, str, object]]:
    """The steps, each as (status, stdout, stderr, picture size or None)."""
    steps: list[tuple[int, str, str, object]] = []

    def step(*args: str, picture: Path | None = None) -> None:
        result = virsh(uri, *args)
        text = result.stdout.replace(str(out), "OUT").replace(str(xml.parent), "DIR")
        size = png_size(picture) if picture is not None and result.returncode == 0 else None
        steps.append((result.returncode, text, result.stderr, size))

    plain = xml.read_text()
    xml.write_text(plain)
    step("define", str(xml))
    step("start", name)
    step("screenshot", name, str(out / "none.png"))
    step("destroy", name)
    step("undefine", name)
    xml.write_text(plain.replace("</devices>", VGA))
    step("define", str(xml))
    step("start", name)
    step("screenshot", name, str(out / "shot.png"), picture=out / "shot.png")
    step("screenshot", name, "--screen", "1", str(out / "two.png"))
    step("destroy", name)
    step("screenshot", name, str(out / "off.png"))
    step("undefine", name)
    return [(rc, re.sub(r"\n+$", "\n", text), err, size) for rc, text, err, size in steps]


@pytest.mark.integration
@pytest.mark.compat
def test_screenshot_matches_libvirtd(qvirtd: Daemon, tiny_image: Path, guest_dir: Path) -> None:
    ensure_libvirtd()
    name = f"qd5-{os.getpid()}-shot"
    outputs = []
    for label, uri in (("l", LIBVIRTD_URI), ("q", qvirtd.uri)):
        out = guest_dir / f"{label}-out"
        out.mkdir()
        try:
            outputs.append(session(uri, guest_xml(tiny_image, guest_dir / label, name),
                                   name, out))
        finally:
            virsh(uri, "destroy", name)
            virsh(uri, "undefine", name)
    want, have = outputs
    assert have == want
    assert have[7] == (0, "Screenshot saved to OUT/shot.png, with type of image/png\n", "",
                       "PNG")
    assert "no screens to take screenshot from" in have[2][2]
    # The temporary dump is gone once the stream is read.
    assert not list((qvirtd.root).rglob("qemu.screendump.*"))
