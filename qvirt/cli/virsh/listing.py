"""virsh's look-ups and list collectors for pools and networks (virshCommandOptPoolBy,
virshCommandOptNetworkBy, virshStoragePoolListCollect, virshNetworkListCollect): one
algorithm each, the kind's calls, flags and words as data. A list asks the driver
with every flag; a driver that refuses some (INVALID_ARG) is asked for the activity ones only
and the persistence and autostart filters are applied here, as virsh does for old servers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from qvirt.cli.virsh.control import BY_NAME, BY_UUID, Control
from qvirt.errors import ErrorNumber, QvirtError


class Listed(Protocol):
    def name(self) -> str: ...
    def isPersistent(self) -> int: ...
    def autostart(self) -> int: ...


T = TypeVar("T", bound=Listed)


@dataclass(frozen=True)
class ListKind:
    """A kind's VIR_CONNECT_LIST_*_{ACTIVE,INACTIVE,PERSISTENT,TRANSIENT,AUTOSTART,
    NO_AUTOSTART} and the words of virsh's errors ("pools", "pool")."""

    active: int
    inactive: int
    persistent: int
    transient: int
    autostart: int
    no_autostart: int
    plural: str
    singular: str


def collect(ctl: Control, list_all: Callable[[int], list[T]], flags: int,
            kind: ListKind) -> list[T]:
    """The objects ``flags`` select, sorted by name, case-blind."""
    failed = f"Failed to list {kind.plural}"
    try:
        found = list_all(flags)
    except QvirtError as err:
        if err.code != ErrorNumber.INVALID_ARG:
            ctl.last_error = err
            raise ctl.fail(failed) from err
        with ctl.failing(failed):
            found = [o for o in list_all(flags & (kind.active | kind.inactive))
                     if _passes(ctl, o, flags, kind)]
    return sorted(found, key=lambda o: o.name().lower())


def _passes(ctl: Control, obj: Listed, flags: int, kind: ListKind) -> bool:
    persistence = flags & (kind.persistent | kind.transient)
    if persistence:
        with ctl.failing(f"Failed to get {kind.singular} persistence info"):
            persistent = obj.isPersistent()
        if not persistence & (kind.persistent if persistent else kind.transient):
            return False
    autostarts = flags & (kind.autostart | kind.no_autostart)
    if autostarts:
        with ctl.failing(f"Failed to get {kind.singular} autostart state"):
            autostart = obj.autostart()
        if not autostarts & (kind.autostart if autostart else kind.no_autostart):
            return False
    return True


def lookup(ctl: Control, text: str, by: int, noun: str, by_uuid: Callable[[str], T],
           by_name: Callable[[str], T]) -> T:
    """A UUID-long text as a UUID first, then as a name; the last look-up's error stays
    for virsh to print after its own ("failed to get pool 'x'")."""
    found: T | None = None
    if by & BY_UUID and len(text) == 36:
        found = _quiet(ctl, by_uuid, text)
    if found is None and by & BY_NAME:
        found = _quiet(ctl, by_name, text)
    if found is None:
        raise ctl.fail(f"failed to get {noun} '{text}'")
    return found


def _quiet(ctl: Control, call: Callable[[str], T], text: str) -> T | None:
    try:
        return call(text)
    except QvirtError as err:
        ctl.last_error = err
        return None
