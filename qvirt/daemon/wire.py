"""Objects as the REMOTE program carries them and as the driver interface takes them."""

from __future__ import annotations

import struct
import uuid as uuidlib
from typing import Any

from qvirt.drivers.base import DomainRef, NetworkRef, StoragePoolRef, StorageVolRef
from qvirt.rpc.errors import XDRError
from qvirt.rpc.remote import REMOTE_STRING_MAX
from qvirt.rpc.xdr import ENCODE_FAILED, EncodedItems

# remote_nonnull_domain's layout for a name of n bytes: the length, the name NUL-padded to a
# multiple of 4 (struct's "s" pads), the 16 uuid bytes, the id. One Struct per name length.
_DOMAIN_LAYOUTS: dict[int, struct.Struct] = {}


def to_ref(dom: dict[str, Any]) -> DomainRef:
    """remote_nonnull_domain -> DomainRef: the driver finds the domain by its uuid, as
    libvirtd's get_nonnull_domain hands the driver a bare (name, uuid) handle."""
    return DomainRef(dom["name"], str(uuidlib.UUID(bytes=dom["uuid"])), dom["id"])


def to_wire(ref: DomainRef) -> dict[str, Any]:
    """DomainRef -> remote_nonnull_domain. The driver's uuids are canonical text: fromhex is
    ten times UUID()'s speed, which counts in a list of thousands."""
    return {"name": ref.name, "uuid": bytes.fromhex(ref.uuid.replace("-", "")), "id": ref.id}


def to_wire_list(refs: list[DomainRef]) -> EncodedItems:
    """DomainRefs -> remote_nonnull_domain<> items, packed here in one Struct call each: the
    generic codec's walk of every field of a thousand domains costs more than libvirtd's
    whole reply."""
    parts = []
    for name, uuid, dom_id in refs:
        data = name.encode("utf-8", "surrogateescape")
        size = len(data)
        layout = _DOMAIN_LAYOUTS.get(size)
        if layout is None:
            if size > REMOTE_STRING_MAX:
                raise XDRError(ENCODE_FAILED, f"{size} bytes exceed the maximum "
                               f"{REMOTE_STRING_MAX}")
            layout = _DOMAIN_LAYOUTS[size] = struct.Struct(f">I{(size + 3) & ~3}s16si")
        try:
            parts.append(layout.pack(size, data, bytes.fromhex(uuid.replace("-", "")), dom_id))
        except struct.error as err:
            raise XDRError(ENCODE_FAILED, f"{dom_id!r} is not a valid int") from err
    return EncodedItems(len(parts), b"".join(parts))


def to_chars(text: str) -> list[int]:
    """A C string as a ``char x<N>`` field: its signed bytes and the NUL, which libvirtd
    counts in the length (remoteDispatchNodeGetSecurityModel's strlen + 1)."""
    return [b - 256 if b > 127 else b for b in text.encode() + b"\0"]


def pool_ref(wire: dict[str, Any]) -> StoragePoolRef:
    """remote_nonnull_storage_pool -> StoragePoolRef."""
    return StoragePoolRef(wire["name"], str(uuidlib.UUID(bytes=wire["uuid"])))


def pool_wire(ref: StoragePoolRef) -> dict[str, Any]:
    return {"name": ref.name, "uuid": bytes.fromhex(ref.uuid.replace("-", ""))}


def vol_ref(wire: dict[str, Any]) -> StorageVolRef:
    return StorageVolRef(wire["pool"], wire["name"], wire["key"])


def vol_wire(ref: StorageVolRef) -> dict[str, Any]:
    return {"pool": ref.pool, "name": ref.name, "key": ref.key}


def net_ref(wire: dict[str, Any]) -> NetworkRef:
    """remote_nonnull_network -> NetworkRef."""
    return NetworkRef(wire["name"], str(uuidlib.UUID(bytes=wire["uuid"])))


def net_wire(ref: NetworkRef) -> dict[str, Any]:
    return {"name": ref.name, "uuid": bytes.fromhex(ref.uuid.replace("-", ""))}
