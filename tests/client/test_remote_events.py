"""Lifecycle events from qvirtd to qvirt's client, through qvirt's default event loop run as a
libvirt-python application runs libvirt's: the tiny guest defined, started, suspended,
resumed, destroyed and undefined, seen by callbacks for every domain, for the guest, and for
another domain. The same script run by python3-libvirt against the same qvirtd is the oracle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, guest_xml
from tests.daemon.test_events import SCRIPT, lifecycle

# The oracle's script, importing qvirt in libvirt's place.
QVIRT_SCRIPT = SCRIPT.replace("import re, sys, threading, libvirt",
                              "import re, sys, threading, qvirt as libvirt")


@pytest.mark.integration
@pytest.mark.compat
def test_qvirt_receives_what_python_libvirt_receives(qvirtd: Daemon, tiny_image: Path,
                                                     guest_dir: Path) -> None:
    assert QVIRT_SCRIPT != SCRIPT
    name, other = f"qd5-{os.getpid()}-qev", f"qd5-{os.getpid()}-qev-other"
    have = lifecycle(qvirtd.uri, guest_xml(tiny_image, guest_dir / "q", name),
                     guest_xml(tiny_image, guest_dir / "q2", other), sys.executable,
                     QVIRT_SCRIPT)
    want = lifecycle(qvirtd.uri, guest_xml(tiny_image, guest_dir / "l", name),
                     guest_xml(tiny_image, guest_dir / "l2", other))
    assert have == want
    # start (RESUMED by the cont, then STARTED), suspend, resume, destroy (SHUTDOWN host,
    # then STOPPED), undefine
    assert [event for _, event, _ in have["dom"]] == [4, 2, 3, 4, 6, 5, 1]
