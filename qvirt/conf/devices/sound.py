"""<sound>, <audio> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Sound(DeviceDef):
    TAG = "sound"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")


class Audio(DeviceDef):
    TAG = "audio"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
