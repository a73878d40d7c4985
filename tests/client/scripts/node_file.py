"""A connection to a node description file (test:///PATH): its host, its domains, their states."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import libvirt  # type: ignore[import-not-found]

DATA = Path(__file__).resolve().parent.parent / "data"


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        print(label, "->", call(*args))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


conn = libvirt.open(f"test://{DATA / 'node.xml'}")
print("info", conn.getInfo())
print(conn.getCapabilities(), end="")
for dom in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
    print(dom.name(), dom.ID(), dom.state(), dom.isPersistent(), dom.info()[:4])
print(conn.lookupByName("fromfile").XMLDesc(0), end="")
print(conn.lookupByName("off0").XMLDesc(0), end="")
fv0 = conn.lookupByName("fv0")
attempt("shutdown restart", fv0.shutdown)
print("fv0", fv0.state(), fv0.ID())
paused = conn.lookupByName("paused0")
attempt("resume", paused.resume)
attempt("destroy", paused.destroy)
attempt("gone", conn.lookupByName, "paused0")
other = libvirt.open(f"test://{DATA / 'node.xml'}")
print("own state per connection", sorted(d.name() for d in other.listAllDomains(0)))
attempt("bad root", libvirt.open, f"test://{DATA / 'bad-root.xml'}")
default = libvirt.open("test:///default")
print("default untouched", [d.name() for d in default.listAllDomains(0)])
