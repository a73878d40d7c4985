"""qvirt's client driving the real libvirtd 9.0 over its unix socket: define, start, read
back, destroy and undefine the tiny guest there, lifecycle events through libvirtd's
per-callback event procedures, and libvirtd's error texts passed through verbatim."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import qvirt
from qvirt.errors import ErrorDomain, ErrorNumber
from tests.daemon.conftest import guest_xml, virsh
from tests.support.oracle import ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
EVENT_WAIT = 120.0


class Events:
    """Lifecycle events as they arrive, and a bounded wait for one."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []
        self._cond = threading.Condition()

    def __call__(self, conn: qvirt.virConnect, dom: qvirt.virDomain, event: int, detail: int,
                 opaque: Any) -> None:
        with self._cond:
            self.seen.append((dom.name(), event, detail))
            self._cond.notify_all()

    def wait_for(self, name: str, event: int, detail: int) -> None:
        deadline = time.monotonic() + EVENT_WAIT
        with self._cond:
            while (name, event, detail) not in self.seen:
                left = deadline - time.monotonic()
                assert left > 0, f"no {(name, event, detail)} in {self.seen}"
                self._cond.wait(left)


@pytest.mark.integration
@pytest.mark.compat
def test_guest_lifecycle_on_libvirtd(tiny_image: Path, guest_dir: Path) -> None:
    ensure_libvirtd()
    name = f"qd5-{os.getpid()}-remote"
    xml = guest_xml(tiny_image, guest_dir / "g", name).read_text()
    conn = qvirt.open(LIBVIRTD_URI)
    events = Events()
    cid = conn.domainEventRegisterAny(None, qvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, events, None)
    try:
        assert conn.getType() == "QEMU"
        dom = conn.defineXML(xml)
        events.wait_for(name, qvirt.VIR_DOMAIN_EVENT_DEFINED,
                        qvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED)
        assert name in [d.name() for d in conn.listAllDomains()]
        assert f"<name>{name}</name>" in dom.XMLDesc(0)
        assert dom.isActive() == 0
        dom.create()
        events.wait_for(name, qvirt.VIR_DOMAIN_EVENT_STARTED,
                        qvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED)
        assert dom.ID() > 0
        assert dom.state() == [qvirt.VIR_DOMAIN_RUNNING, qvirt.VIR_DOMAIN_RUNNING_BOOTED]
        assert conn.lookupByID(dom.ID()).name() == name
        assert "<domain type='qemu' id=" in dom.XMLDesc(0)
        dom.destroy()
        events.wait_for(name, qvirt.VIR_DOMAIN_EVENT_STOPPED,
                        qvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
        assert dom.info()[0] == qvirt.VIR_DOMAIN_SHUTOFF
        dom.undefine()
        events.wait_for(name, qvirt.VIR_DOMAIN_EVENT_UNDEFINED,
                        qvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
        with pytest.raises(qvirt.libvirtError) as caught:
            conn.lookupByName(name)
        error = caught.value
        assert (error.get_error_code(), error.get_error_domain(), error.get_error_message()) \
            == (ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU,
                f"Domain not found: no domain with matching name '{name}'")
    finally:
        conn.domainEventDeregisterAny(cid)
        conn.close()
        virsh(LIBVIRTD_URI, "destroy", name)
        virsh(LIBVIRTD_URI, "undefine", name)


@pytest.mark.compat
def test_read_only_connection_to_libvirtd() -> None:
    """libvirtd's read-only socket, named with socket= (without it, openReadOnly takes qvirt's
    system daemon's): reads work, a write is refused in libvirt's words."""
    ensure_libvirtd()
    conn = qvirt.openReadOnly("qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock-ro")
    assert isinstance(conn.listAllDomains(), list)
    with pytest.raises(qvirt.libvirtError) as caught:
        conn.defineXML("<domain type='qemu'><name>qd5-ro</name></domain>")
    assert caught.value.get_error_message() == \
        "operation forbidden: read only access prevents virDomainDefineXML"
    conn.close()
