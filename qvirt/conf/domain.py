"""The <domain> document. (Skeleton: to be completed with every element of chapter 20.)"""

from __future__ import annotations

from qvirt.conf.devices import Devices
from qvirt.conf.xmlobject import UUID, Attr, Child, XMLObject


class Domain(XMLObject):
    TAG = "domain"
    ORDER = ("type", "name", "uuid", "devices")
    type = Attr("@type", required=True)
    name = Attr("name")
    uuid = Attr("uuid", UUID)
    devices = Child(Devices)
