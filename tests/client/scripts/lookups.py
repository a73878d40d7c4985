"""Look-ups that miss, bad UUIDs, and URIs no driver takes."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        result = call(*args)
        print(label, "->", result.name() if hasattr(result, "name") else result)
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message(),
              e.get_str1(), e.get_str2(), e.get_int1())


conn = libvirt.open("test:///default")
attempt("name", conn.lookupByName, "test")
attempt("id", conn.lookupByID, 1)
attempt("uuid", conn.lookupByUUIDString, "6695eb01-f6a4-8304-79aa-97f2502e193f")
attempt("uuid nodash", conn.lookupByUUIDString, "6695eb01f6a4830479aa97f2502e193f")
attempt("uuid bytes", conn.lookupByUUID, bytes.fromhex("6695eb01f6a4830479aa97f2502e193f"))
attempt("no name", conn.lookupByName, "nope")
attempt("no id", conn.lookupByID, 99)
attempt("no uuid", conn.lookupByUUIDString, "6695eb01-f6a4-8304-79aa-97f2502e1930")
attempt("bad uuid", conn.lookupByUUIDString, "not-a-uuid")
for uri in ("foo:///bar", "test://", "test:", "test:///nonexistent-node-file",
            "::::", "qemu+tcp://h:abc/system", "qemu+foo://h/system",
            "qemu+ext:///system", "qemu+unix://host/system", "qemu+ssh://h/system?mode=bogus",
            "qemu:///bogus", "qemu:///embed", "qemu:///embed?root=relative"):
    attempt(uri, libvirt.open, uri)
