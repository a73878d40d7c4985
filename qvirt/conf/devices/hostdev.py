"""<hostdev>, <redirdev>, <redirfilter> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Hostdev(DeviceDef):
    TAG = "hostdev"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Redirdev(DeviceDef):
    TAG = "redirdev"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Redirfilter(DeviceDef):
    TAG = "redirfilter"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
