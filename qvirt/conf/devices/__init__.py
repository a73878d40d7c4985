"""The <devices> element: one list per device kind, in the order libvirt writes them
(virDomainDefFormatInternal), each kind in a module of its own. libvirt 9.0 has no <crypto>
(it came in 9.1), so qvirt drops it as an unknown element too."""

from __future__ import annotations

from qvirt.conf.devices.chardev import Channel, Console, Parallel, Serial
from qvirt.conf.devices.controller import Controller
from qvirt.conf.devices.disk import Disk
from qvirt.conf.devices.filesystem import Filesystem
from qvirt.conf.devices.graphics import Graphics, Video
from qvirt.conf.devices.hostdev import Hostdev, Redirdev, Redirfilter
from qvirt.conf.devices.input import Hub, Input
from qvirt.conf.devices.interface import Interface
from qvirt.conf.devices.iommu import IOMMU
from qvirt.conf.devices.lease import Lease
from qvirt.conf.devices.memballoon import Memballoon
from qvirt.conf.devices.memory import MemoryDevice
from qvirt.conf.devices.panic import Panic
from qvirt.conf.devices.rng import RNG
from qvirt.conf.devices.shmem import Shmem
from qvirt.conf.devices.smartcard import Smartcard
from qvirt.conf.devices.sound import Audio, Sound
from qvirt.conf.devices.tpm import TPM
from qvirt.conf.devices.vsock import Vsock
from qvirt.conf.devices.watchdog import Watchdog
from qvirt.conf.xmlobject import Attr, Child, XMLObject


class Devices(XMLObject):
    TAG = "devices"
    KEEP_EMPTY = True
    OPEN_EMPTY = True
    ORDER = (
        "emulator", "disks", "controllers", "leases", "filesystems", "interfaces", "smartcards",
        "serials", "parallels", "consoles", "channels", "inputs", "tpms", "graphics", "sounds",
        "audios", "videos", "hostdevs", "redirdevs", "redirfilter", "hubs", "watchdogs",
        "memballoon", "rngs", "panics", "shmems", "memories", "iommu", "vsock",
    )
    emulator = Attr("emulator")
    disks = Child(Disk, single=False)
    controllers = Child(Controller, single=False)
    leases = Child(Lease, single=False)
    filesystems = Child(Filesystem, single=False)
    interfaces = Child(Interface, single=False)
    smartcards = Child(Smartcard, single=False)
    serials = Child(Serial, single=False)
    parallels = Child(Parallel, single=False)
    consoles = Child(Console, single=False)
    channels = Child(Channel, single=False)
    inputs = Child(Input, single=False)
    tpms = Child(TPM, single=False)
    graphics = Child(Graphics, single=False)
    sounds = Child(Sound, single=False)
    audios = Child(Audio, single=False)
    videos = Child(Video, single=False)
    hostdevs = Child(Hostdev, single=False)
    redirdevs = Child(Redirdev, single=False)
    redirfilter = Child(Redirfilter)
    hubs = Child(Hub, single=False)
    watchdogs = Child(Watchdog, single=False)
    memballoon = Child(Memballoon)
    rngs = Child(RNG, single=False)
    panics = Child(Panic, single=False)
    shmems = Child(Shmem, single=False)
    memories = Child(MemoryDevice, single=False)
    iommu = Child(IOMMU)
    vsock = Child(Vsock)
