"""<lease> devices: a lock the lock manager must acquire before the guest may run."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr, UInt
from qvirt.errors import XMLError


class Lease(DeviceDef):
    TAG = "lease"
    ORDER = ("lockspace", "key", "target_path", "target_offset")
    lockspace = Attr("lockspace")
    key = Attr("key")
    target_path = Attr("target/@path")
    target_offset = Attr("target/@offset", UInt)

    def post_parse(self) -> None:
        if self.key is None:
            raise XMLError("Missing 'key' element for lease")
        if self.target_offset == 0:
            self.target_offset = None
        if self.target_path is None:
            raise XMLError("Missing 'target' element for lease")
