"""Objects as the REMOTE program carries them and as the driver interface takes them."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from qvirt.drivers.base import DomainRef


def to_ref(dom: dict[str, Any]) -> DomainRef:
    """remote_nonnull_domain -> DomainRef: the driver finds the domain by its uuid, as
    libvirtd's get_nonnull_domain hands the driver a bare (name, uuid) handle."""
    return DomainRef(dom["name"], str(uuidlib.UUID(bytes=dom["uuid"])), dom["id"])


def to_wire(ref: DomainRef) -> dict[str, Any]:
    """DomainRef -> remote_nonnull_domain. The driver's uuids are canonical text: fromhex is
    ten times UUID()'s speed, which counts in a list of thousands."""
    return {"name": ref.name, "uuid": bytes.fromhex(ref.uuid.replace("-", "")), "id": ref.id}


def to_chars(text: str) -> list[int]:
    """A C string as a ``char x<N>`` field: its signed bytes and the NUL, which libvirtd
    counts in the length (remoteDispatchNodeGetSecurityModel's strlen + 1)."""
    return [b - 256 if b > 127 else b for b in text.encode() + b"\0"]
