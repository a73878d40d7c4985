"""Disks: each <disk> becomes a chain of -blockdev nodes (a protocol node and a format node per
image, bottom of the backing chain first) and one -device, as libvirt 9.0 builds them
(qemuBuildDiskCommandLine, qemuBlockStorageSourceGetBackendProps).

Node names follow libvirt: ``libvirt-N-storage`` / ``libvirt-N-format`` where N is the layer's
storage id: the ``index`` a start gave it (disk_chain), else counted as libvirt counts them,
from the last disk to the first (an empty drive takes a number too) and, within a disk, from
the top of its chain down."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from qvirt.conf.devices.base import DriveAddress
from qvirt.conf.devices.disk import Disk
from qvirt.conf.devices.disk_source import DiskSource
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_alias import scsi_model
from qvirt.drivers.qemu.command_chardev import tls_creds_id, tls_object
from qvirt.drivers.qemu.command_props import (
    Props,
    address_props,
    bus_driver,
    drop_none,
    keyval,
    to_json,
)
from qvirt.drivers.qemu.disk_chain import is_empty
from qvirt.errors import ConfigUnsupported

# cache mode -> (cache.direct, cache.no-flush, guest write cache)
CACHE_MODES: dict[str, tuple[bool, bool, bool]] = {
    "none": (True, False, True),
    "writethrough": (False, False, False),
    "writeback": (False, False, True),
    "directsync": (True, False, False),
    "unsafe": (False, True, True),
}

ERROR_POLICIES = {"stop": "stop", "report": "report", "ignore": "ignore", "enospace": "enospc"}

# Storage types that are files QEMU opens by name.
_LOCAL_DRIVERS = {"file": "file", "block": "host_device"}


@dataclass
class Layer:
    """One image of a disk's chain with the node names it gets."""

    kind: str
    source: DiskSource | None
    format: str
    index: int
    read_only: bool
    top: bool
    # The XML says this layer has no backing image (an empty <backingStore/> below it).
    ends_chain: bool = False

    @property
    def storage(self) -> str:
        return f"libvirt-{self.index}-storage"

    @property
    def fmt(self) -> str:
        return f"libvirt-{self.index}-format"


def disk_layers(dom: Domain) -> dict[int, list[Layer]]:
    """Every disk's chain, top first, keyed by the disk's position on <devices>."""
    chains: dict[int, list[Layer]] = {}
    counter = 0
    for pos in range(len(dom.devices.disks) - 1, -1, -1):
        disk = dom.devices.disks[pos]
        if disk.type != "vhostuser":
            counter += 1
        if disk.type == "vhostuser" or is_empty(disk):
            chains[pos] = []
            continue
        assert disk.source is not None
        layers: list[Layer] = []
        driver = disk.driver
        # A directory is shown as a FAT image whose format layer is raw.
        fmt = driver.type if driver and driver.type and disk.type != "dir" else "raw"
        layers.append(Layer(str(disk.type), disk.source, fmt, disk.source.index or counter,
                            bool(disk.readonly) or disk.device == "cdrom", top=True))
        backing = disk.backing_store
        while backing is not None and backing.source is not None:
            if backing.index is None:
                counter += 1
            layers.append(Layer(str(backing.type or "file"), backing.source,
                                backing.format or "raw", backing.index or counter, True,
                                top=False))
            backing = backing.backing_store
        layers[-1].ends_chain = backing is not None
        chains[pos] = layers
    return chains


def disk_args(dom: Domain, disk: Disk, layers: list[Layer], bootindex: int | None) -> list[str]:
    argv: list[str] = []
    cache = CACHE_MODES.get(str(disk.driver.cache)) if disk.driver and disk.driver.cache \
        else None
    for layer in reversed(layers):
        argv += _layer_objects(layer)
    for layer, below in zip(reversed(layers), [None, *reversed(layers)], strict=False):
        argv += ["-blockdev", to_json(_storage_props(disk, layer, cache))]
        argv += ["-blockdev", to_json(_format_props(disk, layer, below, cache))]
    drive = layers[0].fmt if layers else None
    if layers and disk.driver is not None and disk.driver.copy_on_read:
        cor = f"libvirt-CoR-{disk.dev}"
        argv += ["-blockdev", to_json(drop_none({
            "driver": "copy-on-read", "node-name": cor, "file": drive,
            "discard": "unmap"}))]
        drive = cor
    if disk.type == "vhostuser":
        src = disk.source or DiskSource()
        argv += ["-chardev", keyval("socket", ("id", f"chr-vu-{disk.alias}"),
                                    ("path", src.path),
                                    ("reconnect", src.reconnect.timeout
                                     if src.reconnect and src.reconnect.enabled else None))]
    argv += ["-device", to_json(device_props(dom, disk, drive, bootindex, cache))]
    return argv


MANAGED_PR_HELPER = "pr-helper0"


def _pr_manager(layer: Layer) -> str | None:
    """The persistent-reservation helper a block layer talks to: the domain's managed one,
    or a per-layer object for an unmanaged helper's socket."""
    res = layer.source.reservations if layer.source is not None else None
    if res is None:
        return None
    return MANAGED_PR_HELPER if res.managed else f"pr-helper-{layer.storage}"


def _layer_objects(layer: Layer) -> list[str]:
    """Objects a layer's nodes refer to, written before them: an unmanaged reservation
    helper, TLS credentials of a network source."""
    src = layer.source
    if src is None:
        return []
    argv: list[str] = []
    res = src.reservations
    if res is not None and not res.managed:
        argv += ["-object", to_json({"qom-type": "pr-manager-helper",
                                     "id": _pr_manager(layer), "path": res.source_path})]
    if layer.kind == "network" and src.tls:
        argv += tls_object(layer.storage, "client")
    return argv


def pr_helper(ctx_dom: Domain, domain_dir: str) -> list[str]:
    """The managed qemu-pr-helper every disk with managed reservations shares; the caller
    starts the helper on this socket."""
    for disk in ctx_dom.devices.disks:
        res = disk.source.reservations if disk.source is not None else None
        if res is not None and res.managed:
            return ["-object", to_json({"qom-type": "pr-manager-helper",
                                        "id": MANAGED_PR_HELPER,
                                        "path": f"{domain_dir}/{MANAGED_PR_HELPER}.sock"})]
    return []


def _storage_props(disk: Disk, layer: Layer, cache: tuple[bool, bool, bool] | None) -> Props:
    src = layer.source or DiskSource()
    props: Props
    if layer.kind in _LOCAL_DRIVERS:
        props = {"driver": _LOCAL_DRIVERS[layer.kind], "filename": src.file or src.dev}
        io = disk.driver.io if disk.driver is not None else None
        if io:
            props["aio"] = io
        props["pr-manager"] = _pr_manager(layer)
    elif layer.kind == "dir":
        props = {"driver": "vvfat", "dir": src.dir, "floppy": disk.device == "floppy",
                 "rw": False}
    elif layer.kind == "nvme":
        addr = src.address
        props = {"driver": "nvme",
                 "device": f"{int(addr.domain or 0):04x}:{int(addr.bus or 0):02x}:"
                           f"{int(addr.slot or 0):02x}.{int(addr.function or 0)}"
                 if addr is not None else None,
                 "namespace": src.namespace}
    elif layer.kind == "network":
        props = _network_props(src, layer.index)
    else:
        raise ConfigUnsupported(f"storage type '{layer.kind}' is not supported by qvirt's "
                                "QEMU driver")
    props["node-name"] = layer.storage
    if cache is not None:
        props["cache"] = {"direct": cache[0], "no-flush": cache[1]}
    props["auto-read-only"] = True
    props["discard"] = "unmap"
    return drop_none(props)


def _network_props(src: DiskSource, index: int) -> Props:
    protocol = str(src.protocol)
    host = src.hosts[0] if src.hosts else None
    if protocol == "nbd":
        if host is not None and host.transport == "unix":
            server: Props = {"type": "unix", "path": host.socket}
        else:
            server = {"type": "inet", "host": host.name if host else None,
                      "port": str(host.port or 10809) if host else "10809"}
        return {"driver": "nbd", "server": drop_none(server), "export": src.name,
                "tls-creds": tls_creds_id(f"libvirt-{index}-storage") if src.tls else None}
    if protocol in ("http", "https", "ftp", "ftps", "tftp"):
        default_port = {"http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69}[protocol]
        name = quote((src.name or "").lstrip("/"), safe="/")
        port = host.port if host is not None and host.port else default_port
        url = f"{protocol}://{host.name if host is not None else ''}:{port}/{name}"
        if src.query:
            url += f"?{src.query}"
        props: Props = {"driver": protocol, "url": url}
        if protocol in ("https", "ftps") and src.ssl_verify is not None:
            props["sslverify"] = src.ssl_verify
        if src.timeout is not None:
            props["timeout"] = src.timeout
        if src.readahead is not None:
            props["readahead"] = src.readahead
        return props
    if protocol == "iscsi":
        target, _, lun = (src.name or "").partition("/")
        return drop_none({"driver": "iscsi", "portal": f"{host.name}:{host.port or 3260}"
                          if host else None, "target": target, "lun": int(lun or 0),
                          "transport": "tcp", "initiator-name": src.initiator_iqn})
    if protocol == "gluster":
        volume, _, path = (src.name or "").lstrip("/").partition("/")
        servers = [drop_none({"type": "unix", "path": h.socket} if h.transport == "unix"
                             else {"type": "inet", "host": h.name,
                                   "port": str(h.port or 24007)}) for h in src.hosts]
        return {"driver": "gluster", "volume": volume, "path": path, "server": servers}
    if protocol == "rbd":
        pool, _, image = (src.name or "").partition("/")
        props = {"driver": "rbd", "pool": pool, "image": image}
        if src.hosts:
            props["server"] = [{"host": h.name, "port": str(h.port or 6789)}
                               for h in src.hosts]
        return props
    if protocol == "ssh":
        return {"driver": "ssh", "path": src.name,
                "server": {"host": host.name if host else None,
                           "port": str(host.port or 22) if host else "22"}}
    raise ConfigUnsupported(f"protocol '{protocol}' is not supported by qvirt's QEMU driver")


# Formats that can have a backing image: the only ones told explicitly that they have none.
BACKING_FORMATS = ("qcow2", "qcow", "qed", "vmdk")


def _format_props(disk: Disk, layer: Layer, below: Layer | None,
                  cache: tuple[bool, bool, bool] | None) -> Props:
    props: Props = {"node-name": layer.fmt, "read-only": layer.read_only}
    drv = disk.driver
    if drv is not None and drv.discard:
        props["discard"] = drv.discard
    if layer.top and drv is not None and drv.detect_zeroes:
        # detect-zeroes=unmap means nothing without discard=unmap: libvirt downgrades it.
        unmap = drv.detect_zeroes == "unmap" and drv.discard != "unmap"
        props["detect-zeroes"] = "on" if unmap else drv.detect_zeroes
    if cache is not None:
        props["cache"] = {"direct": cache[0], "no-flush": cache[1]}
    props["driver"] = layer.format
    props["file"] = layer.storage
    if below is not None:
        props["backing"] = below.fmt
    elif layer.ends_chain and layer.format in BACKING_FORMATS:
        props["backing"] = None
    return props


_DRIVERS = {
    ("virtio", "disk"): "virtio-blk-pci", ("virtio", "lun"): "virtio-blk-pci",
    ("ide", "disk"): "ide-hd", ("ide", "cdrom"): "ide-cd",
    ("sata", "disk"): "ide-hd", ("sata", "cdrom"): "ide-cd",
    ("scsi", "disk"): "scsi-hd", ("scsi", "cdrom"): "scsi-cd", ("scsi", "lun"): "scsi-block",
    ("fdc", "floppy"): "floppy",
    ("usb", "disk"): "usb-storage", ("usb", "cdrom"): "usb-storage",
    ("sd", "disk"): "sd-card",
}


def device_props(dom: Domain, disk: Disk, drive: str | None, bootindex: int | None,
                 cache: tuple[bool, bool, bool] | None) -> Props:
    bus = str(disk.bus)
    driver = _DRIVERS.get((bus, str(disk.device)))
    if driver is None:
        raise ConfigUnsupported(f"disk bus '{bus}' with device '{disk.device}' is not "
                                "supported by qvirt's QEMU driver")
    if disk.type == "vhostuser":
        driver = "vhost-user-blk-pci"
    elif bus == "virtio" and disk.model in ("virtio-transitional", "virtio-non-transitional"):
        driver = f"virtio-blk-pci-{disk.model.removeprefix('virtio-')}"
    props: Props = {"driver": bus_driver(driver, disk)}
    drv = disk.driver
    if bus == "virtio" and drv is not None:
        props.update(drop_none({
            "iothread": f"iothread{drv.iothread}" if drv.iothread else None,
            "ioeventfd": drv.ioeventfd, "event_idx": drv.event_idx,
            "num-queues": drv.queues, "queue-size": drv.queue_size}))
    props.update(_disk_address(dom, disk))
    if disk.shareable:
        props["share-rw"] = True
    if bus == "scsi" and disk.device == "disk":
        props["device_id"] = disk.serial or f"drive-{disk.alias}"
    if disk.type == "vhostuser":
        props["chardev"] = f"chr-vu-{disk.alias}"
    elif drive is not None:
        props["drive"] = drive
    props["id"] = disk.alias
    if bootindex is not None:
        props["bootindex"] = bootindex
    if disk.blockio is not None:
        props["logical_block_size"] = disk.blockio.logical_block_size
        props["physical_block_size"] = disk.blockio.physical_block_size
    if disk.wwn is not None:
        props["wwn"] = int(disk.wwn, 16)
    if disk.target is not None and disk.target.rotation_rate is not None:
        props["rotation_rate"] = disk.target.rotation_rate
    props["vendor"] = disk.vendor
    props["product"] = disk.product
    if bus == "usb":
        props["removable"] = bool(disk.target and disk.target.removable)
    if cache is not None and bus in ("virtio", "ide", "sata", "scsi", "usb"):
        props["write-cache"] = "on" if cache[2] else "off"
    if disk.geometry is not None:
        props.update({"cyls": disk.geometry.cyls, "heads": disk.geometry.heads,
                      "secs": disk.geometry.secs,
                      "bios-chs-trans": disk.geometry.trans})
    if bus != "scsi" or disk.device != "disk" or disk.serial is not None:
        props["serial"] = disk.serial
    if drv is not None:
        props["werror"] = ERROR_POLICIES.get(str(drv.error_policy))
        rerror = drv.rerror_policy or (drv.error_policy if drv.error_policy != "enospace"
                                       else None)
        props["rerror"] = ERROR_POLICIES.get(str(rerror))
    return drop_none(props)


def _disk_address(dom: Domain, disk: Disk) -> Props:
    addr = disk.address
    bus = str(disk.bus)
    if not isinstance(addr, DriveAddress):
        return address_props(dom, disk)
    ctrl = _controller(dom, bus, int(addr.controller or 0))
    if bus == "ide":
        return {"bus": f"ide.{addr.bus}", "unit": addr.unit}
    if bus == "sata":
        return {"bus": f"{ctrl}.{addr.unit}"}
    if bus == "fdc":
        return {"unit": addr.unit}
    if bus == "scsi":
        if scsi_model(dom, int(addr.controller or 0)) == "lsilogic":
            return {"bus": f"{ctrl}.{addr.bus}", "scsi-id": addr.unit}
        return {"bus": f"{ctrl}.0", "channel": addr.bus, "scsi-id": addr.target,
                "lun": addr.unit}
    return {}


def _controller(dom: Domain, kind: str, index: int) -> str:
    for ctrl in dom.devices.controllers:
        if ctrl.type == kind and ctrl.index == index and ctrl.alias:
            return str(ctrl.alias)
    return f"{kind}{index}"
