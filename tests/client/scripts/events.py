"""Lifecycle events, delivered by the default event loop running in a thread."""

import threading
import time
from typing import Any

import libvirt  # type: ignore[import-not-found]

libvirt.virEventRegisterDefaultImpl()
seen: list[tuple[Any, ...]] = []
ready = threading.Condition()


def loop() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def on_event(conn: Any, dom: Any, event: int, detail: int, opaque: Any) -> None:
    with ready:
        seen.append((opaque, dom.name(), event, detail))
        ready.notify_all()


def wait_for(count: int) -> None:
    deadline = time.monotonic() + 10
    with ready:
        while len(seen) < count and time.monotonic() < deadline:
            ready.wait(0.1)


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open("test:///default")
XML = ("<domain type='test'><name>ev</name><uuid>8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e03</uuid>"
       "<memory>1024</memory><os><type>hvm</type></os></domain>")
everything = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         on_event, "all")
dom = conn.defineXML(XML)
wait_for(1)
only = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event, "ev")
steps = [dom.create, dom.suspend, dom.resume, dom.shutdown, dom.create, dom.destroy,
         dom.undefine]
for n, step in enumerate(steps):
    step()
    wait_for(1 + 2 * (n + 1))
test = conn.lookupByName("test")
test.suspend()
wait_for(len(seen) + 1)
test.resume()
wait_for(len(seen) + 1)
conn.domainEventDeregisterAny(only)
conn.domainEventDeregisterAny(everything)
for item in sorted(seen, key=seen.index):
    print(item)
