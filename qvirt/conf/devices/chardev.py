"""<serial>, <parallel>, <console>, <channel> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Serial(DeviceDef):
    TAG = "serial"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Parallel(DeviceDef):
    TAG = "parallel"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Console(DeviceDef):
    TAG = "console"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Channel(DeviceDef):
    TAG = "channel"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
