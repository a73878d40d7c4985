"""The private libvirtd (tests/support/private_libvirtd.py) stays private: its state directories
are its own mounts, its network namespace is not the host's, its socket is where the host's
virsh finds it, and once it is stopped nothing of it is left while the shared oracle still
answers on its own socket."""

from __future__ import annotations

import os
from pathlib import Path

from tests.daemon.conftest import virsh
from tests.drivers.network.netns import ip
from tests.support.oracle import ensure_libvirtd
from tests.support.private_libvirtd import PRIVATE_DIRS, private_libvirtd

ORACLE_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"


def test_private_libvirtd_touches_nothing_of_the_host() -> None:
    ensure_libvirtd()
    with private_libvirtd() as libvirtd:
        done = virsh(libvirtd.uri, "uri")
        assert done.stdout == f"{libvirtd.uri}\n\n", done.stderr
        for path in PRIVATE_DIRS:
            assert os.stat(libvirtd.inside(path)).st_dev != os.stat(path).st_dev, path
        assert not libvirtd.inside("/run/libvirt/libvirt-sock").exists()
        assert os.stat(libvirtd.inside("/etc/libvirt/libvirtd.conf")).st_ino == \
            os.stat(libvirtd.work / "etc" / "libvirtd.conf").st_ino
        assert os.readlink(f"/proc/{libvirtd.proc.pid}/ns/net") != \
            os.readlink("/proc/self/ns/net")
        ns, work = libvirtd.ns, libvirtd.work
    assert ns not in ip("netns", "list")
    assert not Path(work).exists()
    assert virsh(ORACLE_URI, "version").returncode == 0
