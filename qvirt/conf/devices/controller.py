"""<controller> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Controller(DeviceDef):
    TAG = "controller"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
