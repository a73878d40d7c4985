"""<graphics>, <video> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Graphics(DeviceDef):
    TAG = "graphics"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Video(DeviceDef):
    TAG = "video"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
