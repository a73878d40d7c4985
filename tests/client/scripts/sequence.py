"""A long seeded sequence of calls over a few domains: every outcome and the states after it."""

import random
from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]

NAMES = ["s0", "s1", "s2", "s3"]
XML = ("<domain type='test'><name>{name}</name><uuid>8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5f0{n}"
       "</uuid><memory>1024</memory><vcpu>{vcpus}</vcpu><os><type>hvm</type></os>"
       "{actions}<devices><input type='mouse'/></devices></domain>")
ACTIONS = ["", "<on_poweroff>restart</on_poweroff>", "<on_reboot>destroy</on_reboot>"]

rng = random.Random(20261126)
conn = libvirt.open("test:///default")


def doc(name: str) -> str:
    return XML.format(name=name, n=NAMES.index(name), vcpus=rng.randint(1, 4),
                      actions=rng.choice(ACTIONS))


def handle(name: str) -> Any:
    return conn.lookupByName(name)


OPS: list[tuple[str, Callable[[str], Any]]] = [
    ("define", lambda n: conn.defineXML(doc(n)).name()),
    ("createXML", lambda n: conn.createXML(doc(n), 0).ID()),
    ("create", lambda n: handle(n).create()),
    ("suspend", lambda n: handle(n).suspend()),
    ("resume", lambda n: handle(n).resume()),
    ("shutdown", lambda n: handle(n).shutdown()),
    ("reboot", lambda n: handle(n).reboot(0)),
    ("reset", lambda n: handle(n).reset(0)),
    ("destroy", lambda n: handle(n).destroy()),
    ("undefine", lambda n: handle(n).undefine()),
    ("autostart", lambda n: handle(n).setAutostart(rng.randint(0, 1))),
]

for step in range(400):
    label, op = rng.choice(OPS)
    name = rng.choice(NAMES)
    try:
        outcome = repr(op(name))
    except libvirt.libvirtError as e:
        outcome = f"error {e.get_error_code()} {e.get_error_domain()} {e.get_error_message()}"
    states = []
    for d in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
        states.append((d.name(), d.ID(), d.state(), d.isPersistent(), d.autostart(),
                       d.vcpusFlags(0), d.info()[3]))
    print(step, label, name, outcome, states)
    if step % 50 == 49:
        for d in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
            print(d.XMLDesc(0), end="")
            if d.isPersistent():
                print(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), end="")
print("ids", sorted(conn.listDomainsID()), "defined", sorted(conn.listDefinedDomains()))
