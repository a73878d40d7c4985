"""<panic>: the guest's crash notifier."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Choice
from qvirt.errors import ConfigUnsupported


class Panic(DeviceDef):
    TAG = "panic"
    KEEP_EMPTY = True
    ORDER = ("model", "alias", "address")
    model = Attr("@model", Strict(Choice("isa", "pseries", "hyperv", "s390"), lambda v: (
        ConfigUnsupported(f"unknown panic model '{v}'"))))
