"""<vsock> devices. (Skeleton: type only, to be completed.)"""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr


class Vsock(DeviceDef):
    TAG = "vsock"
    ORDER = ("type", "alias", "address")
    type = Attr("@type")
