"""<input>, <hub> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Input(DeviceDef):
    TAG = "input"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Hub(DeviceDef):
    TAG = "hub"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
