"""<filesystem> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Filesystem(DeviceDef):
    TAG = "filesystem"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
