"""build_command against real libvirt: for every document of the conf corpus, the argv qvirt
builds and the one `virsh domxml-to-native qemu-argv` prints carry the same options, in the
same order, with the same -device, -blockdev, -chardev and -object properties.

What cannot be equal is normalized away, the same way on both sides: generated UUIDs and MAC
addresses, the -rtc base time of a variable clock, libvirt's master-key secret, and the
host side of -netdev and all of a NIC but its model and MAC address (domxml-to-native
rebuilds every interface as a bare tap file descriptor, options, alias and address dropped),
and the sandbox's spawn=deny where qvirt's QEMU must run a bridge helper or tap script.
Paths libvirt makes up (monitor socket, channel sockets) are handed to build_command as
libvirt would make them, and what its runtime allocates (graphics ports, a network's listen
address, an interface's bridge) as libvirt allocated it. Any other difference passes only
while the "QEMU command line" section of docs/compat.md lists the document with its reason.
"""

from __future__ import annotations

import difflib
import fcntl
import functools
import itertools
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.devices.chardev import ChrSource
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command import RunPaths, build_command
from qvirt.errors import QvirtError
from tests.support import oracle
from tests.support.facts import qemu_facts

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests" / "data" / "conf" / "domain"
COMPAT = ROOT / "docs" / "compat.md"
SECTION = "QEMU command line"
GOLDEN = ROOT / "tests" / "data" / "qemu" / "argv"
DOCS = sorted(CORPUS.glob("*.xml")) + sorted(GOLDEN.glob("*.xml"))

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAC = re.compile(r"52:54:00(:[0-9a-f]{2}){3}")
# What domxml-to-native keeps of a NIC: it rebuilds each one as a bare tap interface, without
# its options, alias and address (which it then assigns anew).
NIC_KEPT = ("driver", "mac")
_RTC = re.compile(r"base=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


@functools.cache
def listed() -> dict[str, str]:
    """Documents named in the first column of the section's tables, with the reason."""
    text = COMPAT.read_text()
    start = text.index(f"\n## {SECTION}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end > 0 else len(text)]
    return dict(re.findall(r"^\| `([^`]+\.xml)` \| (.*?) \|$", body, re.MULTILINE))


def libvirt_dir(name: str) -> Path:
    """libvirt's per-domain directory of a transient domain (id -1), its name cut at 20."""
    return Path(f"/var/lib/libvirt/qemu/domain--1-{name[:20]}")


def allocations(argv: list[str]) -> dict[str, dict[str, str]]:
    """The graphics ports (and network listen addresses) libvirt allocated at start, by
    display type: what a runtime allocates before it builds the command line."""
    found: dict[str, dict[str, str]] = {}
    for option, value in itertools.pairwise(argv):
        if option == "-spice":
            found["spice"] = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
        elif option == "-vnc":
            match = re.fullmatch(r"\[?(.*?)\]?:(\d+)", value.split(",")[0])
            if match:
                found["vnc"] = {"port": str(5900 + int(match.group(2))),
                                "addr": match.group(1)}
    return found


def allocate(dom: Domain, found: dict[str, dict[str, str]]) -> None:
    for dev in dom.devices.graphics:
        given = found.get(str(dev.type))
        if given is None:
            continue
        if dev.type == "vnc" and dev.autoport:
            dev.port = int(given["port"])
        if dev.type == "spice" and (dev.autoport or dev.port == -1):
            dev.port = int(given["port"]) if "port" in given else None
        if dev.type == "spice" and (dev.autoport or dev.tls_port == -1):
            dev.tls_port = int(given["tls-port"]) if "tls-port" in given else None
        for listen in dev.listens:
            if listen.type == "network":
                listen.address = given.get("addr")


def qvirt_argv(xml: str, found: dict[str, dict[str, str]] | None = None) -> list[str]:
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, qemu_facts())
    allocate(dom, found or {})
    short = f"domain--1-{str(dom.name)[:20]}"
    for channel in dom.devices.channels:
        if channel.type == "unix" and not channel.sources:
            channel.sources = [ChrSource(mode="bind", path=(
                f"/var/lib/libvirt/qemu/channel/target/{short}/{channel.target_name}"))]
    for net in dom.devices.interfaces:
        if net.type == "network" and net.source is not None:
            # What the network driver resolves a network to: libvirt's default bridge.
            net.source.bridge = "virbr0"
    home = libvirt_dir(str(dom.name))
    return build_command(dom, RunPaths(home, home / "monitor.sock"), qemu_facts())


LOCK = Path("/tmp/qvirt-oracle-native.lock")
_DOWN = ("failed to connect to the hypervisor", "End of file while reading data")


def native(path: Path) -> subprocess.CompletedProcess[str]:
    """One domxml-to-native at a time from these tests: libvirtd 9.0 has been seen to crash
    under parallel ones, and other sessions share it. A libvirtd found down is started again
    and asked once more."""
    argv = ["virsh", "-c", oracle.URI, "domxml-to-native", "qemu-argv", str(path)]
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0 and any(d in proc.stderr for d in _DOWN):
            oracle.ensure_libvirtd()
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc


def libvirt_argv(path: Path) -> list[str]:
    proc = native(path)
    if proc.returncode != 0:
        raise AssertionError(f"libvirt refuses {path.name}: {proc.stderr.strip()}")
    words = shlex.split(proc.stdout)
    start = next(i for i, w in enumerate(words) if not re.match(r"[A-Z_]+=", w))
    return words[start:]


def options(argv: list[str]) -> list[tuple[str, str]]:
    """argv as (option, value) pairs, normalized for what cannot be equal."""
    pairs: list[tuple[str, str]] = []
    for word in argv[1:]:
        if word.startswith("-") and not word.startswith("-1"):
            pairs.append((word, ""))
        else:
            pairs[-1] = (pairs[-1][0], word)
    out: list[tuple[str, str]] = []
    for opt, value in pairs:
        if opt == "-object" and '"id":"masterKey0"' in value:
            continue
        if opt == "-netdev":
            value = "{}"
        if opt == "-device" and '"netdev":' in value:
            props = json.loads(value)
            value = json.dumps({k: v for k, v in props.items() if k in NIC_KEPT})
        value = _RTC.sub("base=TIME", _MAC.sub("MAC", _UUID.sub("UUID", value)))
        out.append((opt, value))
    return out


def differences(path: Path) -> list[str]:
    native = libvirt_argv(path)
    try:
        argv = qvirt_argv(path.read_text(), allocations(native))
    except QvirtError as err:
        return [f"qvirt refuses: {err}"]
    ours, theirs = options(argv), options(native)
    if any(opt == "-netdev" and re.search(r'"(helper|script)":"(?!no")', value)
           for opt, value in itertools.pairwise(argv)):
        # QEMU runs qvirt's bridge helper or tap script itself, so its sandbox allows
        # spawning where libvirt's, which passes descriptors, denies it.
        theirs = [(o, v.replace(",spawn=deny", "") if o == "-sandbox" else v)
                  for o, v in theirs]
    if ours == theirs:
        return []
    return list(difflib.unified_diff([" ".join(p) for p in theirs],
                                     [" ".join(p) for p in ours], "libvirt", "qvirt",
                                     lineterm="", n=1))


# These two crash libvirtd 9.0's domxml-to-native: never sent to the shared oracle.
NEVER_SENT = frozenset({"chr-channel-xen-target.xml", "dev-net-hostdev.xml"})
REFUSED = sorted(p for p in DOCS if listed().get(p.name, "").startswith("libvirt refuses"))
COMPARED = [p for p in DOCS if p not in REFUSED and p.name not in NEVER_SENT]


@pytest.fixture(scope="module")
def libvirtd() -> None:
    oracle.ensure_libvirtd()


@pytest.mark.compat
@pytest.mark.usefixtures("libvirtd")
@pytest.mark.parametrize("path", COMPARED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_command_line_as_libvirt(path: Path) -> None:
    lines = differences(path)
    if path.name in listed():
        assert lines, f"{path.name} now matches libvirt: remove it from docs/compat.md"
    else:
        assert not lines, "\n".join(lines)


@pytest.mark.compat
@pytest.mark.usefixtures("libvirtd")
@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.name)
def test_libvirt_still_refuses(path: Path) -> None:
    """A document listed as refused by libvirt stays listed only while libvirt refuses it."""
    proc = native(path)
    assert proc.returncode != 0
    listed_reason = listed()[path.name].removeprefix("libvirt refuses: ")
    message = proc.stderr.strip().removeprefix("error: ")
    # The listed reason is the message, shortened where it names host paths or numbers.
    words = re.findall(r"[a-z]{4,}", listed_reason)
    assert all(w in message for w in words), message


def test_every_listed_document_exists() -> None:
    names = {p.name for p in DOCS}
    assert set(listed()) <= names, sorted(set(listed()) - names)
