"""The node's figures, metadata and XML-to-native through qvirtd, asked by python3-libvirt as
libvirtd is asked: the same shapes (keys, lengths, order) and plausible values from the same
host (memory moves between the two asks; CPU times only grow; totals and the CPU map do not
move), the same refusals, and a metadata round trip. And qvirt's own virsh through qvirtd."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.daemon.conftest import Daemon, virsh
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
ROOT = Path(__file__).resolve().parents[2]
QVIRT = ROOT / ".venv" / "bin" / "qvirt"

NODE_SCRIPT = r"""
import json, sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
c = libvirt.open(sys.argv[1])
def ask(f, *a):
    try:
        return f(*a)
    except libvirt.libvirtError as e:
        return {"error": [e.get_error_code(), e.get_error_domain(), str(e)]}
out = {
    "free": c.getFreeMemory(), "cells": c.getCellsFreeMemory(0, 8), "cpumap": c.getCPUMap(),
    "cpu_all": list(c.getCPUStats(-1).items()), "cpu0": list(c.getCPUStats(0).items()),
    "mem_all": list(c.getMemoryStats(-1).items()), "mem0": list(c.getMemoryStats(0).items()),
    "bad_cpu": ask(c.getCPUStats, 4096), "bad_cell": ask(c.getCellsFreeMemory, 64, 1),
    "bad_format": ask(c.domainXMLToNative, "xen-xm", sys.argv[2], 0),
    "bad_mem_cell": ask(c.getMemoryStats, 64), "bad_map_flags": ask(c.getCPUMap, 1),
    "bad_stats_flags": ask(c.getCPUStats, 0, 1), "bad_mem_flags": ask(c.getMemoryStats, 0, 1),
}
print(json.dumps(out))
"""

META_SCRIPT = r"""
import json, sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
c = libvirt.open(sys.argv[1])
d = c.defineXML(sys.argv[2])
T, D, E = (libvirt.VIR_DOMAIN_METADATA_TITLE, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION,
           libvirt.VIR_DOMAIN_METADATA_ELEMENT)
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
out = {}
try:
    d.metadata(T, None, 0)
except libvirt.libvirtError as e:
    out["absent"] = [e.get_error_code(), str(e)]
d.setMetadata(T, "a title", None, None, CONFIG)
d.setMetadata(D, "some\nwords", None, None, 0)
d.setMetadata(E, "<app x='1'><b>t</b></app>", "my", "http://example.org/my", CONFIG)
out["title"] = d.metadata(T, None, 0)
out["desc"] = d.metadata(D, None, CONFIG)
out["elem"] = d.metadata(E, "http://example.org/my", 0)
out["xml"] = d.XMLDesc(0)
d.setMetadata(T, "", None, None, 0)
d.setMetadata(E, None, None, "http://example.org/my", 0)
try:
    d.metadata(E, "http://example.org/my", 0)
except libvirt.libvirtError as e:
    out["removed"] = [e.get_error_code(), str(e)]
out["native"] = c.domainXMLToNative("qemu-argv", sys.argv[2], 0)
d.undefine()
print(json.dumps(out))
"""

DOMAIN = ("<domain type='qemu'><name>nodetest</name><memory>65536</memory>"
          "<os><type arch='x86_64'>hvm</type></os></domain>")


def run(script: str, *args: str) -> dict[str, object]:
    proc = subprocess.run([SYSTEM_PYTHON, "-c", script, *args], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def pairs(value: object) -> list[tuple[str, int]]:
    """A stats dict's items as JSON brought them back (lists of two)."""
    assert isinstance(value, list)
    return [(str(k), int(v)) for k, v in value]


def keys(value: object) -> list[str]:
    return [k for k, _ in pairs(value)]


def test_node_calls_as_libvirtd(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    theirs = run(NODE_SCRIPT, LIBVIRTD_URI, DOMAIN)
    ours = run(NODE_SCRIPT, qvirtd.uri, DOMAIN)
    assert isinstance(ours["free"], int) and isinstance(theirs["free"], int)
    assert abs(ours["free"] - theirs["free"]) < theirs["free"] // 4
    assert isinstance(ours["cells"], list) and isinstance(theirs["cells"], list)
    assert len(ours["cells"]) == len(theirs["cells"])
    assert ours["cpumap"] == theirs["cpumap"]
    for name in ("cpu_all", "cpu0", "mem_all", "mem0"):
        assert keys(ours[name]) == keys(theirs[name]), name
    for (field, mine), (_, libvirts) in zip(pairs(ours["cpu_all"]), pairs(theirs["cpu_all"]),
                                            strict=True):
        assert mine >= libvirts, field     # asked later, of the same clock
    assert dict(pairs(ours["mem_all"]))["total"] == dict(pairs(theirs["mem_all"]))["total"]
    for name in ("bad_cpu", "bad_cell", "bad_format", "bad_mem_cell", "bad_map_flags",
                 "bad_stats_flags", "bad_mem_flags"):
        assert ours[name] == theirs[name], name


def test_metadata_round_trip_as_libvirtd(qvirtd: Daemon) -> None:
    ensure_libvirtd()
    theirs = run(META_SCRIPT, LIBVIRTD_URI, DOMAIN.replace("nodetest", "qvirt-h4-nodetest"))
    ours = run(META_SCRIPT, qvirtd.uri, DOMAIN)
    for name in ("absent", "title", "desc", "elem", "removed"):
        assert ours[name] == theirs[name], name
    assert ours["elem"] == '<app x="1">\n  <b>t</b>\n</app>'
    section = re.compile(r"<title>.*</metadata>", re.S)
    assert section.findall(str(ours["xml"])) == section.findall(str(theirs["xml"]))
    native = str(ours["native"])
    assert native.startswith("LC_ALL=C ") and " -name guest=nodetest," in native


def qvirt(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QVIRT), "-c", uri, *args], capture_output=True, text=True,
                          timeout=120, check=False)


def labels(text: str) -> list[str]:
    return [line.split(":")[0] for line in text.splitlines() if line]


def test_qvirt_cli_through_qvirtd(qvirtd: Daemon, tmp_path: Path) -> None:
    xml = tmp_path / "dom.xml"
    xml.write_text(DOMAIN)
    assert qvirt(qvirtd.uri, "define", str(xml)).returncode == 0
    done = qvirt(qvirtd.uri, "desc", "nodetest", "--config", "--new-desc", "hello")
    assert done.returncode == 0, done.stderr
    shown = qvirt(qvirtd.uri, "desc", "nodetest")
    assert shown.stdout.strip() == "hello", shown.stderr
    cells = qvirt(qvirtd.uri, "freecell", "--all")
    assert cells.returncode == 0 and "Total:" in cells.stdout, cells.stderr
    stats = qvirt(qvirtd.uri, "nodememstats")
    assert stats.returncode == 0 and stats.stdout.split()[0] == "total", stats.stderr
    ensure_libvirtd()
    cpumap = qvirt(qvirtd.uri, "nodecpumap")
    assert cpumap.stdout == virsh(LIBVIRTD_URI, "nodecpumap").stdout, cpumap.stderr
    cpustats = qvirt(qvirtd.uri, "nodecpustats")
    assert labels(cpustats.stdout) == labels(virsh(LIBVIRTD_URI, "nodecpustats").stdout)
    native = qvirt(qvirtd.uri, "domxml-to-native", "qemu-argv", "--xml", str(xml))
    assert native.returncode == 0 and "-name guest=nodetest," in native.stdout, native.stderr
