"""Handles outliving what they name: closed connections, undefined domains, unknown callbacks."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        print(label, "->", call(*args))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


errors = []
libvirt.registerErrorHandler(lambda ctx, err: errors.append((ctx, err[0], err[1], err[2])),
                             "ctx")
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open("test:///default")
second = libvirt.open("test:///default")
XML = ("<domain type='test'><name>h1</name><uuid>8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e05</uuid>"
       "<memory>1024</memory><os><type>hvm</type></os></domain>")
dom = conn.defineXML(XML)
print("seen by the other connection", second.lookupByName("h1").UUIDString())
attempt("unknown callback", conn.domainEventDeregisterAny, 77)
attempt("undefine", dom.undefine)
attempt("state after undefine", dom.state)
attempt("create after undefine", dom.create)
print("errors seen by the handler", errors)
attempt("close", second.close)
print("still shared", [d.name() for d in conn.listAllDomains(0)])
attempt("close", conn.close)
attempt("type after close", conn.getType)
attempt("alive after close", conn.isAlive)
fresh = libvirt.open("test:///default")
print("fresh node after the last close", [(d.name(), d.state()) for d in fresh.listAllDomains(0)])
