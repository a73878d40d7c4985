"""virConnectDomainXMLToNative on the QEMU driver, against `virsh domxml-to-native` of the
real libvirtd: the same environment prefix and the same command line, once libvirt's paths
and what cannot be equal are normalized as test_command_compat normalizes them.

A few documents only: each costs libvirtd a domxml-to-native, and the full corpus is compared
option by option in test_command_compat already.
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from qvirt.client import entry
from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.native import PRETEND_ID
from qvirt.errors import QvirtError
from tests.drivers.qemu.test_command_compat import (
    _MAC,
    _RTC,
    _UUID,
    CORPUS,
    libvirt_dir,
    native,
)
from tests.support import oracle

# Plain devices, and NICs, which libvirt turns into bare taps placed after every other device.
DOCS = ("chr-channel-tcp.xml", "dev-disk-file-virtio.xml", "dev-ctrl-q35-root-ports.xml",
        "dev-disk-cdrom-empty.xml", "dev-net-network.xml", "dev-net-fig-20-49.xml",
        "dev-net-models-q35.xml")
_ENV = re.compile(r"([A-Z_]+)=(.*)")


def split(line: str) -> tuple[dict[str, str], list[str]]:
    """A virCommandToString line as its environment and its argv."""
    words = shlex.split(line)
    start = next(i for i, w in enumerate(words) if not _ENV.fullmatch(w))
    env = dict(w.split("=", 1) for w in words[:start])
    return env, words[start:]


def normalized(argv: list[str]) -> list[tuple[str, str]]:
    """(option, value) pairs, normalized as test_command_compat normalizes them but with each
    NIC's -device kept whole; only -netdev differs (libvirt's names a descriptor it opened
    just to print the line)."""
    pairs: list[tuple[str, str]] = []
    for word in argv[1:]:
        if word.startswith("-") and not word.startswith("-1"):
            pairs.append((word, ""))
        else:
            pairs[-1] = (pairs[-1][0], word)
    return [(opt, "{}" if opt == "-netdev" else _RTC.sub("TIME", _MAC.sub("MAC", _UUID.sub(
        "UUID", value)))) for opt, value in pairs
        if not (opt == "-object" and '"id":"masterKey0"' in value)]


def to_native(driver: QemuDriver, fmt: str, xml: str) -> str:
    return str(entry.call(driver, False, "virConnectDomainXMLToNative", fmt, xml, 0))


@pytest.fixture(scope="module")
def libvirtd() -> None:
    oracle.ensure_libvirtd()


@pytest.mark.compat
@pytest.mark.usefixtures("libvirtd")
@pytest.mark.parametrize("name", DOCS)
def test_same_line_as_libvirtd(driver: QemuDriver, name: str) -> None:
    path = CORPUS / name
    proc = native(path)
    assert proc.returncode == 0, proc.stderr
    their_env, their_argv = split(proc.stdout)
    line = to_native(driver, "qemu-argv", path.read_text())
    assert "\n" not in line
    our_env, our_argv = split(line)
    assert list(our_env) == list(their_env)
    assert our_env["LC_ALL"] == "C"
    dom_name = re.search(r"<name>(.*?)</name>", path.read_text())
    assert dom_name is not None
    home = driver.paths.runtime_dir(PRETEND_ID, dom_name.group(1))
    assert our_env["HOME"] == str(home)
    assert our_env["XDG_CONFIG_HOME"] == f"{home}/.config"
    # Our directory where libvirt has its own: then the two lines must agree.
    theirs_home = str(libvirt_dir(dom_name.group(1)))
    mapped = [w.replace(str(home), theirs_home) for w in our_argv]
    assert normalized(mapped) == normalized(their_argv)


@pytest.mark.usefixtures("libvirtd")
def test_other_formats_refused_as_libvirtd_refuses(driver: QemuDriver) -> None:
    path = CORPUS / DOCS[0]
    theirs = subprocess.run(["virsh", "-c", oracle.URI, "domxml-to-native", "xen-xm",
                             str(path)], capture_output=True, text=True, check=False)
    assert theirs.returncode != 0
    with pytest.raises(QvirtError) as err:
        to_native(driver, "xen-xm", path.read_text())
    assert f"error: {err.value}" == theirs.stderr.strip()
