"""<watchdog> devices."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Choice
from qvirt.errors import ConfigUnsupported


class Watchdog(DeviceDef):
    TAG = "watchdog"
    ORDER = ("model", "action", "alias", "address")
    model = Attr("@model", Strict(Choice("i6300esb", "ib700", "diag288"), lambda v: (
        ConfigUnsupported(f"unknown watchdog model '{v}'"))), required=True)
    action = Attr("@action", Strict(Choice(
        "reset", "shutdown", "poweroff", "pause", "dump", "none", "inject-nmi"), lambda v: (
        ConfigUnsupported(f"unknown watchdog action '{v}'"))))
