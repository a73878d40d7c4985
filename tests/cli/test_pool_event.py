"""pool-event receiving: qvirt's test:///default node is shared by the connections of one
process, so a second connection's pool operations reach the command while it waits, and it
prints what virsh prints for them (virsh itself cannot be shown events on test:///default,
where no other client reaches its node)."""

from __future__ import annotations

import contextlib
import io
import re
import threading

import qvirt
from qvirt.cli.virsh.main import main


def watch(line: str, poke: object) -> tuple[int, str]:
    """Run the command line; poke the node from here until it has finished."""
    out, err = io.StringIO(), io.StringIO()
    status: list[int] = []
    runner = threading.Thread(target=lambda: status.append(
        main(["-c", "test:///default", line], stdout=out, stderr=err)))
    conn = qvirt.open("test:///default")
    try:
        runner.start()
        while runner.is_alive():
            assert callable(poke)
            poke(conn)
            runner.join(0.01)
    finally:
        conn.close()
    assert err.getvalue() == ""
    return status[0], out.getvalue()


def test_one_refresh_event_ends_the_wait() -> None:
    code, text = watch("pool-event --event refresh",
                       lambda c: c.storagePoolLookupByName("default-pool").refresh(0))
    assert (code, text) == (0, "event 'refresh' for storage pool default-pool\n"
                               "events received: 1\n\n")


def test_lifecycle_events_of_the_named_pool_only() -> None:
    def poke(conn: qvirt.virConnect) -> None:
        """Refresh the default pool, redefine pe1 once the command has defined it."""
        conn.storagePoolLookupByName("default-pool").refresh(0)
        with contextlib.suppress(qvirt.libvirtError):
            conn.storagePoolDefineXML(conn.storagePoolLookupByName("pe1").XMLDesc(0), 0)

    code, text = watch("pool-define-as pe1 dir --target /pe1; "
                       "pool-event --pool pe1 --event lifecycle --timestamp", poke)
    assert code == 0
    assert re.fullmatch(r"Pool pe1 defined\n\n"
                        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'lifecycle' for "
                        r"storage pool pe1: Defined\nevents received: 1\n\n", text), text
