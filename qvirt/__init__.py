"""qvirt: a libvirt-compatible manager for QEMU/KVM virtual machines.

The package is also libvirt-python's namespace: ``import qvirt as libvirt`` gives ``open``,
``openReadOnly``, ``libvirtError``, the ``virConnect``/``virDomain``/``virNetwork``/
``virStoragePool``/``virStorageVol`` classes and every VIR_* constant, so scripts written for
libvirt-python run unchanged.
"""

from __future__ import annotations

from typing import Any

from qvirt.client import entry as _entry
from qvirt.client import events as _events
from qvirt.client.api import LIB_VERSION as _LIB_VERSION
from qvirt.client.api import open, openReadOnly, virConnect, virDomain
from qvirt.client.network import virNetwork, virNetworkPort
from qvirt.client.storage import virStoragePool, virStorageVol
from qvirt.client.stream import virStream
from qvirt.constants import *  # noqa: F403 - libvirt-python's flat namespace
from qvirt.errors import QvirtError as libvirtError

__version__ = "0.1.0"

__all__ = ["getVersion", "libvirtError", "open", "openReadOnly", "registerErrorHandler",
           "virConnect", "virDomain", "virEventRegisterDefaultImpl",
           "virEventRunDefaultImpl", "virNetwork", "virNetworkPort", "virStoragePool",
           "virStorageVol", "virStream"]


def getVersion() -> int:
    return _LIB_VERSION


def registerErrorHandler(f: Any, ctx: Any) -> int:
    _entry.set_error_handler(f, ctx)
    return 0


def virEventRegisterDefaultImpl() -> int:
    _events.register_default_impl()
    return 0


def virEventRunDefaultImpl() -> int:
    _events.run_default_impl()
    return 0
