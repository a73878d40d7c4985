"""The driver's enums and the public VIR_* constants are two spellings of libvirt's numbers;
this pins them to each other so that neither can drift."""

from __future__ import annotations

from enum import IntEnum

import pytest

from qvirt import constants
from qvirt.drivers.qemu import state

PREFIXES: list[tuple[type[IntEnum], str]] = [
    (state.State, "VIR_DOMAIN_"), (state.Running, "VIR_DOMAIN_RUNNING_"),
    (state.Paused, "VIR_DOMAIN_PAUSED_"), (state.Shutdown, "VIR_DOMAIN_SHUTDOWN_"),
    (state.Shutoff, "VIR_DOMAIN_SHUTOFF_"), (state.Crashed, "VIR_DOMAIN_CRASHED_"),
    (state.Event, "VIR_DOMAIN_EVENT_"), (state.Defined, "VIR_DOMAIN_EVENT_DEFINED_"),
    (state.Undefined, "VIR_DOMAIN_EVENT_UNDEFINED_"),
    (state.Started, "VIR_DOMAIN_EVENT_STARTED_"),
    (state.Suspended, "VIR_DOMAIN_EVENT_SUSPENDED_"),
    (state.Resumed, "VIR_DOMAIN_EVENT_RESUMED_"), (state.Stopped, "VIR_DOMAIN_EVENT_STOPPED_"),
    (state.ShutdownDetail, "VIR_DOMAIN_EVENT_SHUTDOWN_"),
    (state.CrashedDetail, "VIR_DOMAIN_EVENT_CRASHED_"), (state.CreateFlags, "VIR_DOMAIN_"),
    (state.UndefineFlags, "VIR_DOMAIN_UNDEFINE_"), (state.ShutdownFlags, "VIR_DOMAIN_SHUTDOWN_"),
    (state.DestroyFlags, "VIR_DOMAIN_DESTROY_"), (state.XMLFlags, "VIR_DOMAIN_XML_"),
    (state.DefineFlags, "VIR_DOMAIN_DEFINE_"), (state.ListFlags, "VIR_CONNECT_LIST_DOMAINS_"),
]


@pytest.mark.parametrize(("enum", "prefix"), PREFIXES, ids=lambda v: getattr(v, "__name__", v))
def test_driver_enum_matches_public_constants(enum: type[IntEnum], prefix: str) -> None:
    for member in enum:
        name = prefix + member.name
        assert hasattr(constants, name), name
        assert getattr(constants, name) == member.value, name
