"""<shmem>: an inter-VM shared memory region (ivshmem)."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Scaled
from qvirt.conf.xmlobject import Attr, Choice, OnOff, UInt


class Shmem(DeviceDef):
    TAG = "shmem"
    ORDER = ("name", "role", "model", "size", "server_path", "msi_vectors", "msi_ioeventfd",
             "alias", "address")
    name = Attr("@name", required=True)
    role = Attr("@role", Choice("master", "peer"))
    model = Attr("model/@type", Choice("ivshmem", "ivshmem-plain", "ivshmem-doorbell"))
    size = Scaled("size", unit="M", default=1, xpath="./size[1]")
    server_path = Attr("server/@path")
    msi_vectors = Attr("msi/@vectors", UInt)
    msi_ioeventfd = Attr("msi/@ioeventfd", OnOff)
