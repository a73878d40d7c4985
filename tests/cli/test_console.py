"""qvirt console on a pty, as a user at a terminal runs it, side by side with Debian's virsh
on the same qvirtd (whose console virsh shows as it shows libvirtd's, tests/daemon): the
same framing and errors, the guest's output shown, typed input reaching its shell, the escape
character (^] or virsh -e's) leaving with status 0 and the terminal as it was."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.compat.cases import GUEST
from tests.daemon.conftest import Daemon, guest_xml, virsh
from tests.daemon.test_console import CTRL_RIGHT_BRACKET, Terminal, framing

QVIRT = str(Path(sys.executable).parent / "qvirt")
TOOLS = {"virsh": "virsh", "qvirt": QVIRT}
CTRL_A = b"\x01"
POLKIT = re.compile(r"(?m)^Authorization not available\..*\n")


def stty_around(tool: str, *args: str) -> Terminal:
    """The tool under sh, the terminal's settings printed before and after it."""
    line = " ".join([tool, *(f"'{a}'" for a in args)])
    return Terminal("sh", "-c", f"stty -g; {line}; echo rc=$?; stty -g")


def shell_session(tool: str, uri: str, name: str) -> tuple[list[str], list[str]]:
    """Attach with ^a as the escape, run a command at the guest's shell, leave with ^a; the
    framing, and the lines that say the status and the settings before and after."""
    term = stty_around(tool, "-c", uri, "-e", "^a", "console", name)
    term.wait_for(b"TINY-GUEST-TICK")
    term.prompt()
    mark = len(term.output)
    term.type(b"echo hi-$((6*7))\r")
    term.wait_for(b"hi-42", since=mark)
    term.type(CTRL_A)
    term.wait_for(b"rc=")
    assert term.exit_code() == 0
    text = term.text()
    settings = [line for line in text.splitlines() if ":" in line and " " not in line]
    status = [line for line in text.splitlines() if line.startswith("rc=")]
    assert len(settings) == 2 and settings[0] == settings[1], text
    return framing(text, name), status


def sessions(tool: str, uri: str, name: str) -> list[tuple[int, list[str]]]:
    """A first session; a second refused; a third forced in, which ends the first; the serial
    port by its alias, with --safe; a device that does not exist."""
    first = Terminal(tool, "-c", uri, "console", name)
    first.wait_for(b"TINY-GUEST-TICK")
    second = Terminal(tool, "-c", uri, "console", name)
    out = [(second.exit_code(), framing(second.text(), name))]
    forced = Terminal(tool, "-c", uri, "console", "--force", name)
    forced.wait_for(b"TINY-GUEST-TICK")
    out.append((first.exit_code(), framing(first.text(), name)))
    forced.type(CTRL_RIGHT_BRACKET)
    out.append((forced.exit_code(), framing(forced.text(), name)))
    serial = Terminal(tool, "-c", uri, "console", name, "--devname", "serial0", "--safe")
    serial.wait_for(b"TINY-GUEST-TICK")
    serial.type(CTRL_RIGHT_BRACKET)
    out.append((serial.exit_code(), framing(serial.text(), name)))
    missing = Terminal(tool, "-c", uri, "console", name, "--devname", "nosuch0")
    out.append((missing.exit_code(), framing(missing.text(), name)))
    return out


@pytest.mark.integration
@pytest.mark.compat
def test_console_as_virsh_shows_it(qvirtd: Daemon, tiny_image: Path, guest_dir: Path) -> None:
    name = f"qc6-{os.getpid()}-con"
    xml = guest_xml(tiny_image, guest_dir / "q", name)
    assert virsh(qvirtd.uri, "define", str(xml)).returncode == 0
    stopped = {tool: Terminal(argv, "-c", qvirtd.uri, "console", name)
               for tool, argv in TOOLS.items()}
    refused = {tool: (term.exit_code(), framing(term.text(), name))
               for tool, term in stopped.items()}
    assert refused["qvirt"] == refused["virsh"] == (1, ["error: The domain is not running"])
    assert virsh(qvirtd.uri, "start", name).returncode == 0
    have = shell_session(QVIRT, qvirtd.uri, name)
    assert have == (["Connected to domain 'NAME'", "Escape character is ^a (Ctrl + a)"],
                    ["rc=0"])
    assert have == shell_session("virsh", qvirtd.uri, name)
    assert sessions(QVIRT, qvirtd.uri, name) == sessions("virsh", qvirtd.uri, name)


@pytest.mark.compat
def test_console_errors_as_virsh(tmp_path: Path) -> None:
    """The test driver has no consoles, also after start or create --console; a missing
    domain; no domain named. (virsh on a terminal also says polkit is missing, which qvirt
    has no use for: that line is dropped.)"""
    xml = tmp_path / "guest.xml"
    xml.write_text(GUEST)
    for args in (["console", "test"], ["console", "nosuch"], ["console"],
                 [f"define {xml}; start --console guest1; domstate guest1"],
                 ["create", "--console", "--paused", str(xml)]):
        got = {tool: Terminal(argv, "-c", "test:///default", *args)
               for tool, argv in TOOLS.items()}
        results = {tool: (term.exit_code(), POLKIT.sub("", term.text()))
                   for tool, term in got.items()}
        assert results["qvirt"] == results["virsh"], args
