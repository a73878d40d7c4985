"""What a disk's <source> and <backingStore> hold (virStorageSource): where the data is, how to
reach and unlock it. Shared by <disk> and by the backing chain that hangs under it."""

from __future__ import annotations

from qvirt.conf.xmlobject import (
    UUID,
    Attr,
    Child,
    Choice,
    Hex2,
    Hex4,
    HexShort,
    UInt,
    XMLObject,
    YesNo,
)
from qvirt.errors import XMLError

STORAGE_TYPES = Choice("file", "block", "dir", "network", "volume", "nvme", "vhostuser")
PROTOCOLS = Choice("nbd", "rbd", "sheepdog", "gluster", "iscsi", "http", "https", "ftp", "ftps",
                   "tftp", "ssh", "vxhs", "nfs")


class Host(XMLObject):
    """One server of a network source; ``transport`` is written only when it is not tcp."""

    TAG = "host"
    ORDER = ("name", "port", "transport", "socket")
    transport = Attr("@transport", Choice("tcp", "unix", "rdma"))
    name = Attr("@name")
    port = Attr("@port", UInt)
    socket = Attr("@socket")

    def post_parse(self) -> None:
        if self.transport == "tcp":
            self.transport = None


class Secret(XMLObject):
    """A reference to a libvirt secret, by UUID or by usage."""

    TAG = "secret"
    ORDER = ("type", "uuid", "usage")
    type = Attr("@type")
    uuid = Attr("@uuid", UUID)
    usage = Attr("@usage")


class Auth(XMLObject):
    TAG = "auth"
    ORDER = ("username", "secret")
    username = Attr("@username")
    secret = Child(Secret)

    def post_parse(self) -> None:
        if self.username is None:
            raise XMLError("missing username for auth")


class Encryption(XMLObject):
    """<encryption>: libvirt makes QEMU's own engine explicit at define time."""

    TAG = "encryption"
    ORDER = ("format", "engine", "secrets", "cipher_name", "cipher_size", "cipher_mode",
             "cipher_hash", "ivgen_name", "ivgen_hash")
    format = Attr("@format", Choice("default", "qcow", "luks", "luks2", "luks-any"))
    engine = Attr("@engine", Choice("default", "qemu", "librbd"))
    secrets = Child(Secret, single=False)
    cipher_name = Attr("cipher/@name")
    cipher_size = Attr("cipher/@size", UInt)
    cipher_mode = Attr("cipher/@mode")
    cipher_hash = Attr("cipher/@hash")
    ivgen_name = Attr("ivgen/@name")
    ivgen_hash = Attr("ivgen/@hash")

    def post_parse(self) -> None:
        if self.engine in (None, "default"):
            self.engine = "qemu"


class Seclabel(XMLObject):
    """A per-source override of the domain's security labelling."""

    TAG = "seclabel"
    ORDER = ("model", "relabel", "label")
    model = Attr("@model")
    relabel = Attr("@relabel", YesNo)
    label = Attr("label")


class Reservations(XMLObject):
    """<reservations>: SCSI persistent reservations through qemu-pr-helper."""

    TAG = "reservations"
    ORDER = ("managed", "source_type", "source_path", "source_mode")
    managed = Attr("@managed", YesNo)
    source_type = Attr("source/@type")
    source_path = Attr("source/@path")
    source_mode = Attr("source/@mode")


class PCISourceAddress(XMLObject):
    """A host PCI address inside <source> (nvme disks, PCI hostdevs): no type attribute."""

    TAG = "address"
    ORDER = ("domain", "bus", "slot", "function")
    domain = Attr("@domain", Hex4)
    bus = Attr("@bus", Hex2)
    slot = Attr("@slot", Hex2)
    function = Attr("@function", HexShort)


class Reconnect(XMLObject):
    TAG = "reconnect"
    ORDER = ("enabled", "timeout")
    enabled = Attr("@enabled", YesNo)
    timeout = Attr("@timeout", UInt)


class DiskSource(XMLObject):
    """<source>: which attributes apply depends on the owner's storage type; the owner checks."""

    TAG = "source"
    KEEP_EMPTY = True
    ORDER = ("type", "protocol", "name", "query", "tls", "file", "dev", "dir", "pool",
             "volume", "mode", "path", "managed", "namespace", "startup_policy", "index",
             "hosts", "snapshot", "config", "initiator_iqn", "ssl_verify", "readahead",
             "timeout", "reconnect", "address", "seclabels", "auth", "encryption", "reservations")
    type = Attr("@type", Choice("pci", "unix"))
    protocol = Attr("@protocol", PROTOCOLS)
    name = Attr("@name")
    query = Attr("@query")
    tls = Attr("@tls", YesNo)
    file = Attr("@file")
    dev = Attr("@dev")
    dir = Attr("@dir")
    pool = Attr("@pool")
    volume = Attr("@volume")
    mode = Attr("@mode", Choice("host", "direct"))
    path = Attr("@path")
    managed = Attr("@managed", YesNo)
    namespace = Attr("@namespace", UInt)
    startup_policy = Attr("@startupPolicy", Choice("mandatory", "requisite", "optional"))
    # The storage id a start gave the top image (the N of QEMU's libvirt-N-format node).
    index = Attr("@index", UInt)
    hosts = Child(Host, single=False)
    snapshot = Attr("snapshot/@name")
    config = Attr("config/@file")
    initiator_iqn = Attr("initiator/iqn/@name")
    ssl_verify = Attr("ssl/@verify", YesNo)
    readahead = Attr("readahead/@size", UInt)
    timeout = Attr("timeout/@seconds", UInt)
    reconnect = Child(Reconnect)
    address = Child(PCISourceAddress)
    seclabels = Child(Seclabel, single=False)
    auth = Child(Auth)
    encryption = Child(Encryption)
    reservations = Child(Reservations)


class BackingStore(XMLObject):
    """One layer of the backing chain; an empty <backingStore/> ends the chain."""

    TAG = "backingStore"
    KEEP_EMPTY = True
    ORDER = ("type", "index", "format", "source", "backing_store")
    type = Attr("@type", STORAGE_TYPES)
    index = Attr("@index", UInt)
    format = Attr("format/@type")
    source = Child(DiskSource)
    backing_store = Child(lambda: BackingStore)
