"""net-event receiving: qvirt's test:///default node is shared by the connections of one
process, so a second connection's network operations reach the command while it waits, and it
prints what virsh prints for them (virsh itself cannot be shown events on test:///default,
where no other client reaches its node)."""

from __future__ import annotations

import contextlib
import itertools
import re

import qvirt
from tests.cli.test_pool_event import watch

NET = "<network><name>{}</name><ip address='10.66.0.1' prefix='24'/></network>"


def restart(conn: qvirt.virConnect) -> None:
    default = conn.networkLookupByName("default")
    default.destroy()
    default.create()


def test_one_event_ends_the_wait() -> None:
    code, text = watch("net-event --event lifecycle --timestamp", restart)
    assert code == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'lifecycle' for "
                        r"network default: (Stopped|Started)\nevents received: 1\n\n", text), text


def test_looping_on_the_named_network_only() -> None:
    def poke(conn: qvirt.virConnect) -> None:
        """Stop and start the default network, and define another beside it."""
        restart(conn)
        with contextlib.suppress(qvirt.libvirtError):
            conn.networkDefineXML(NET.format("ne2"))

    code, text = watch("net-event --network default --event lifecycle --loop --timeout 1",
                       poke)
    events = text.splitlines()[:-3]
    assert code == 0 and len(events) >= 2
    assert text.endswith(f"event loop timed out\nevents received: {len(events)}\n\n")
    states = [line.removeprefix("event 'lifecycle' for network default: ") for line in events]
    assert set(states) == {"Stopped", "Started"}, text
    assert all(a != b for a, b in itertools.pairwise(states)), text
