"""The storage ids and backing chains a start gives a domain's disks, as libvirt 9.0 does.

Every image layer QEMU opens gets an id, the N of its ``libvirt-N-storage`` and
``libvirt-N-format`` nodes, shown as ``index`` in the live XML. libvirt numbers the disks from
the last to the first, each disk's given chain top down (qemuProcessPrepareDomainStorage; an
empty drive takes a number too); then it reads each image's header for the backing images
nobody wrote down (qemuDomainDetermineDiskChain, last disk first again), which get the next
numbers, and ends every chain it read with an empty <backingStore/>. QEMU is then told the
whole chain, so it never probes an image's format itself.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from qvirt.conf.devices.disk import Disk
from qvirt.conf.devices.disk_source import BackingStore, DiskSource
from qvirt.conf.domain import Domain
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

QCOW2_MAGIC = b"QFI\xfb"
# The qcow2 header extension that names the backing image's format.
QCOW2_BACKING_FORMAT = 0xE2792ACA
QCOW2_V2_HEADER_LENGTH = 72
# Images whose headers name a backing image; any other format ends its chain.
READABLE_FORMATS = ("qcow2", "raw")
# How deep libvirt's QEMU driver reads a chain (QEMU_DOMAIN_STORAGE_SOURCE_CHAIN_MAX_DEPTH).
MAX_DEPTH = 200
_HEADER_READ = 65536


def number_storage(dom: Domain) -> None:
    """Give every layer of every disk its id and read the chains nobody wrote down."""
    disks = dom.devices.disks if dom.devices is not None else []
    counter = 0
    for disk in reversed(disks):
        if disk.type == "vhostuser":
            continue
        counter += 1
        if is_empty(disk):
            # A drive without media has no image, so no format either in the live XML.
            if disk.driver is not None:
                disk.driver.type = None
            continue
        assert disk.source is not None
        disk.source.index = counter
        layer = disk.backing_store
        while layer is not None and layer.source is not None:
            counter += 1
            layer.index = counter
            layer = layer.backing_store
    for disk in reversed(disks):
        if disk.type in ("file", "block") and not is_empty(disk):
            if disk.driver is not None and not disk.driver.type:
                disk.driver.type = "raw"     # libvirt never lets QEMU probe a format
            counter = _detect(disk, counter)


def is_empty(disk: Disk) -> bool:
    """A cdrom or floppy without media: no source at all, or a source naming nothing."""
    src = disk.source
    if src is None:
        return True
    if disk.type == "network":
        return src.protocol is None
    return disk.type != "nvme" and disk.source_path() is None


def _detect(disk: Disk, counter: int) -> int:
    """Read the backing images below the last layer the XML gives, unless it ends the chain."""
    path = disk.source_path()
    fmt = disk.driver.type if disk.driver is not None and disk.driver.type else "raw"
    parent: Disk | BackingStore = disk
    layer = disk.backing_store
    while layer is not None and layer.source is not None:
        path, fmt, parent = layer.source.file or layer.source.dev, layer.format or "raw", layer
        layer = layer.backing_store
    if layer is not None or path is None:
        return counter  # an empty <backingStore/>: the user says the chain ends here
    for _depth in range(MAX_DEPTH):
        if fmt not in READABLE_FORMATS:
            return counter
        backing = _backing_of(path) if fmt == "qcow2" else None
        if backing is None:
            parent.backing_store = BackingStore()
            return counter
        name, backing_fmt = backing
        if name.startswith("json:") or "://" in name:
            return counter  # a network image: QEMU reaches it itself
        below = name if os.path.isabs(name) else str(Path(path).parent / name)
        if backing_fmt is None:
            backing_fmt = _probe(below)
            if backing_fmt == "qcow2" and _backing_of(below) is not None:
                raise QvirtError(
                    f"format of backing image '{name}' of image '{path}' was not specified "
                    "in the image metadata (See https://libvirt.org/kbase/backing_chains.html "
                    "for troubleshooting)", code=ErrorNumber.OPERATION_INVALID,
                    domain=ErrorDomain.STORAGE)
        counter += 1
        kind = "block" if _is_block(below) else "file"
        source = DiskSource(dev=below) if kind == "block" else DiskSource(file=below)
        layer = BackingStore(type=kind, index=counter, format=backing_fmt, source=source)
        parent.backing_store = layer
        parent, path, fmt = layer, below, backing_fmt
    raise QvirtError(f"backing store for {disk.source_path()} is self-referential or too "
                     "deeply nested", code=ErrorNumber.INTERNAL_ERROR,
                     domain=ErrorDomain.STORAGE)


def _read_header(path: str) -> bytes:
    try:
        with open(path, "rb") as image:
            return image.read(_HEADER_READ)
    except OSError as err:
        raise QvirtError(f"Cannot access storage file '{path}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STORAGE) from err


def _probe(path: str) -> str:
    return "qcow2" if _read_header(path).startswith(QCOW2_MAGIC) else "raw"


def _is_block(path: str) -> bool:
    try:
        return Path(path).is_block_device()
    except OSError:
        return False


def _backing_of(path: str) -> tuple[str, str | None] | None:
    """A qcow2 image's backing image name and, when the header records it, its format."""
    header = _read_header(path)
    if len(header) < QCOW2_V2_HEADER_LENGTH or not header.startswith(QCOW2_MAGIC):
        return None
    version, offset, size = struct.unpack_from(">IQI", header, 4)
    if offset == 0 or size == 0:
        return None
    if offset + size > len(header):
        with open(path, "rb") as image:
            image.seek(offset)
            name = image.read(size).decode("utf-8", "replace")
    else:
        name = header[offset:offset + size].decode("utf-8", "replace")
    length = (struct.unpack_from(">I", header, 100)[0] if version >= 3 and len(header) >= 104
              else QCOW2_V2_HEADER_LENGTH)
    fmt = None
    pos = length
    while pos + 8 <= len(header):
        kind, ext_len = struct.unpack_from(">II", header, pos)
        if kind == 0:
            break
        if kind == QCOW2_BACKING_FORMAT:
            fmt = header[pos + 8:pos + 8 + ext_len].decode("ascii", "replace")
        pos += 8 + (ext_len + 7) // 8 * 8
    return name, fmt
