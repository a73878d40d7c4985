"""Storage Volume: the vol-* commands (virsh-volume.c). Uploads and downloads move the file
through a stream, sparse-aware where asked (holes found with SEEK_DATA/SEEK_HOLE are sent as
holes, holes received are left as holes)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import Any, cast

from lxml import etree

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh import table
from qvirt.cli.virsh.capacity import parse_size, pretty_text
from qvirt.cli.virsh.commands.pool import lookup_pool, pool_by
from qvirt.cli.virsh.control import BY_NAME, BY_UUID, Control
from qvirt.cli.virsh.grammar import Args, Command, CommandGroup, Opt, OptType, file_opt
from qvirt.cli.virsh.xpath import quiet_option, select
from qvirt.errors import ErrorNumber, QvirtError

BOOL, STRING, INT = OptType.BOOL, OptType.STRING, OptType.INT

VOLUME_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")
WIPE_ALGORITHMS = ("zero", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7",
                   "pfitzner33", "random", "trim")
ULLONG_MAX = 2**64 - 1


def type_text(type: int) -> str:
    return VOLUME_TYPES[type] if 0 <= type < len(VOLUME_TYPES) else "unknown"


def lookup_vol(ctl: Control, args: Args, pool_opt: str | None = "pool",
               by: int = BY_UUID | BY_NAME) -> qvirt.virStorageVol:
    """virshCommandOptVolBy: by name in the given (active) pool, then by key, then by path;
    a volume found elsewhere than in the given pool is refused."""
    text = ctl.opt_req(args, "vol")
    pool_text = ctl.opt_str(args, pool_opt) if pool_opt is not None else None
    pool = None
    if pool_text is not None:
        pool = pool_by(ctl, pool_text, by)
        try:
            active = pool.isActive()
        except QvirtError as err:
            ctl.last_error = err
            active = 0
        if active != 1:
            raise ctl.fail(f"pool '{pool_text}' is not active")
    conn = ctl.connection()
    vol = None
    attempts: list[Callable[[], qvirt.virStorageVol]] = [
        lambda: conn.storageVolLookupByKey(text),
        lambda: conn.storageVolLookupByPath(text)] if by & BY_UUID else []
    if pool is not None and by & BY_NAME:
        attempts.insert(0, lambda: pool.storageVolLookupByName(text))
    for attempt in attempts:
        try:
            vol = attempt()
            break
        except QvirtError as err:
            ctl.last_error = err
    if vol is None:
        if pool is not None or pool_opt is None:
            raise ctl.fail(f"failed to get vol '{text}'")
        raise ctl.fail(f"failed to get vol '{text}', specifying --{pool_opt} might help")
    ctl.last_error = None
    if pool is not None:
        try:
            owner = vol.storagePoolLookupByVolume()
        except QvirtError as err:
            ctl.last_error = err
        else:
            if owner.name() != pool.name():
                ctl.last_error = None
                raise ctl.fail(f"Requested volume '{text}' is not in pool '{pool.name()}'")
    return vol


# Creation ------------------------------------------------------------------------------------

def cmd_vol_create_as(ctl: Control, args: Args) -> bool:
    flags = C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA if args.get("prealloc-metadata") else 0
    pool = lookup_pool(ctl, args)
    name = ctl.opt_req(args, "name")
    capacity_text = ctl.opt_req(args, "capacity")
    capacity = parse_size(ctl, capacity_text)
    if capacity is None:
        raise ctl.fail(f"Malformed size {capacity_text}")
    allocation_text = args.get("allocation")
    allocation = None
    if isinstance(allocation_text, str) and allocation_text:
        allocation = parse_size(ctl, allocation_text)
        if allocation is None:
            raise ctl.fail(f"Malformed size {allocation_text}")
    format = ctl.opt_str(args, "format")
    backing = ctl.opt_str(args, "backing-vol")
    backing_format = ctl.opt_str(args, "backing-vol-format")
    lines = ["<volume>", f"  <name>{name}</name>", f"  <capacity>{capacity}</capacity>"]
    if allocation_text is not None:
        lines.append(f"  <allocation>{allocation or 0}</allocation>")
    if format:
        lines += ["  <target>", f"    <format type='{format}'/>", "  </target>"]
    if backing is not None:
        path = _backing_path(ctl, pool, backing)
        lines += ["  <backingStore>", f"    <path>{path}</path>"]
        if backing_format:
            lines.append(f"    <format type='{backing_format}'/>")
        lines.append("  </backingStore>")
    lines.append("</volume>")
    xml = "".join(line + "\n" for line in lines)
    if args.get("print-xml"):
        ctl.print(xml)
        return True
    with ctl.failing(f"Failed to create vol {name}"):
        pool.createXML(xml, flags)
    ctl.print_extra(f"Vol {name} created\n")
    return True


def _backing_path(ctl: Control, pool: qvirt.virStoragePool, text: str) -> str:
    """The backing volume, by name in the pool, by key, or by path."""
    conn = ctl.connection()
    attempts: tuple[Callable[[], qvirt.virStorageVol], ...] = (
        lambda: pool.storageVolLookupByName(text),
        lambda: conn.storageVolLookupByKey(text),
        lambda: conn.storageVolLookupByPath(text))
    for attempt in attempts:
        try:
            vol = attempt()
        except QvirtError as err:
            ctl.last_error = err
            continue
        return vol.path()
    raise ctl.fail(f"failed to get vol '{text}'")


def _create_flags(args: Args) -> int:
    flags = 0
    for option, flag in (("prealloc-metadata", C.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA),
                         ("reflink", C.VIR_STORAGE_VOL_CREATE_REFLINK),
                         ("validate", C.VIR_STORAGE_VOL_CREATE_VALIDATE)):
        if args.get(option):
            flags |= flag
    return flags


def cmd_vol_create(ctl: Control, args: Args) -> bool:
    flags = _create_flags(args)
    pool = lookup_pool(ctl, args)
    path = ctl.opt_req(args, "file")
    xml = ctl.read_file(path)
    with ctl.failing(f"Failed to create vol from {path}"):
        vol = pool.createXML(xml, flags)
    ctl.print_extra(f"Vol {vol.name()} created from {path}\n")
    return True


def cmd_vol_create_from(ctl: Control, args: Args) -> bool:
    pool = lookup_pool(ctl, args)
    flags = _create_flags(args)
    path = ctl.opt_req(args, "file")
    source = lookup_vol(ctl, args, "inputpool")
    xml = ctl.read_file(path)
    with ctl.failing(f"Failed to create vol from {path}"):
        vol = pool.createXMLFrom(xml, source, flags)
    ctl.print_extra(f"Vol {vol.name()} created from input vol {source.name()}\n")
    return True


def clone_xml(xml: str, name: str) -> str:
    """virshMakeCloneXML: the document as it is, its <name> changed (libxml2's dump of the
    root element, with no newline after it)."""
    root = etree.fromstring(xml.encode())
    node = root.find("name")
    assert node is not None
    node.text = name
    return etree.tostring(root, encoding="unicode")


def cmd_vol_clone(ctl: Control, args: Args) -> bool:
    source = lookup_vol(ctl, args)
    flags = _create_flags(args)
    try:
        pool = source.storagePoolLookupByVolume()
    except QvirtError as err:
        ctl.last_error = err
        raise ctl.fail("failed to get parent pool") from err
    name = ctl.opt_req(args, "newname")
    xml = clone_xml(source.XMLDesc(0), name)
    if args.get("print-xml"):
        ctl.print(xml)
        return True
    with ctl.failing(f"Failed to clone vol from {source.name()}"):
        vol = pool.createXMLFrom(xml, source, flags)
    ctl.print_extra(f"Vol {vol.name()} cloned from {source.name()}\n")
    return True


# Removal and change --------------------------------------------------------------------------

def cmd_vol_delete(ctl: Control, args: Args) -> bool:
    vol = lookup_vol(ctl, args)
    name = ctl.opt_req(args, "vol")
    flags = C.VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS if args.get("delete-snapshots") else 0
    with ctl.failing(f"Failed to delete vol {name}"):
        vol.delete(flags)
    ctl.print_extra(f"Vol {name} deleted\n")
    return True


def cmd_vol_wipe(ctl: Control, args: Args) -> bool:
    """A driver without wipePattern is asked to wipe, when zeroes are what is wanted."""
    vol = lookup_vol(ctl, args)
    name = ctl.opt_req(args, "vol")
    algorithm_text = ctl.opt_str(args, "algorithm")
    algorithm = C.VIR_STORAGE_VOL_WIPE_ALG_ZERO
    if algorithm_text is not None:
        if algorithm_text not in WIPE_ALGORITHMS:
            raise ctl.fail(f"Unsupported algorithm '{algorithm_text}'")
        algorithm = WIPE_ALGORITHMS.index(algorithm_text)
    with ctl.failing(f"Failed to wipe vol {name}"):
        try:
            vol.wipePattern(algorithm, 0)
        except QvirtError as err:
            if err.code != ErrorNumber.NO_SUPPORT or algorithm != C.VIR_STORAGE_VOL_WIPE_ALG_ZERO:
                raise
            vol.wipe(0)
    ctl.print_extra(f"Vol {name} wiped\n")
    return True


def cmd_vol_resize(ctl: Control, args: Args) -> bool:
    flags = 0
    if args.get("allocate"):
        flags |= C.VIR_STORAGE_VOL_RESIZE_ALLOCATE
    if args.get("shrink"):
        flags |= C.VIR_STORAGE_VOL_RESIZE_SHRINK
    delta = bool(args.get("delta"))
    vol = lookup_vol(ctl, args)
    text = ctl.opt_req(args, "capacity").lstrip(" \t\n\v\f\r")
    if text.startswith("-"):
        if not args.get("shrink"):
            raise ctl.fail("negative size requires --shrink")
        text, delta = text[1:], True
    if delta:
        flags |= C.VIR_STORAGE_VOL_RESIZE_DELTA
    capacity = parse_size(ctl, text)
    if capacity is None:
        raise ctl.fail(f"Malformed size {text}")
    how = "by" if delta else "to"
    with ctl.failing(f"Failed to change size of volume '{vol.name()}' {how} {text}"):
        vol.resize(capacity, flags)
    ctl.print_extra(f"Size of volume '{vol.name()}' successfully changed {how} {text}\n")
    return True


# Information ---------------------------------------------------------------------------------

def cmd_vol_info(ctl: Control, args: Args) -> bool:
    physical = bool(args.get("physical"))
    vol = lookup_vol(ctl, args)
    ctl.print(f"{'Name:':<15} {vol.name()}\n")
    if physical:
        type, capacity, allocation = vol.infoFlags(C.VIR_STORAGE_VOL_GET_PHYSICAL)
    else:
        type, capacity, allocation = vol.info()
    ctl.print(f"{'Type:':<15} {type_text(type)}\n")
    label = "Physical:" if physical else "Allocation:"
    if args.get("bytes"):
        ctl.print(f"{'Capacity:':<15} {capacity} bytes\n")
        ctl.print(f"{label:<15} {allocation} bytes\n")
    else:
        ctl.print(f"{'Capacity:':<15} {pretty_text(capacity)}\n")
        ctl.print(f"{label:<15} {pretty_text(allocation)}\n")
    return True


def cmd_vol_dumpxml(ctl: Control, args: Args) -> bool:
    vol = lookup_vol(ctl, args)
    xpath = quiet_option(args)
    xml = vol.XMLDesc(0)
    if xpath is None:
        ctl.print(xml)
        return True
    ctl.print(select(ctl, xml, xpath, bool(args.get("wrap"))))
    return True


def cmd_vol_list(ctl: Control, args: Args) -> bool:
    details = bool(args.get("details"))
    pool = lookup_pool(ctl, args)
    with ctl.failing("Failed to list volumes"):
        vols = sorted(pool.listAllVolumes(0), key=lambda v: v.name().lower())
    rows = []
    for vol in vols:
        try:
            path = vol.path()
        except QvirtError as err:
            ctl.last_error = err
            path = "unknown"
        if not details:
            rows.append([vol.name(), path])
            continue
        try:
            type, capacity, allocation = vol.info()
        except QvirtError as err:
            ctl.last_error = err
            rows.append([vol.name(), path, "unknown", "unknown", "unknown"])
            continue
        rows.append([vol.name(), path, type_text(type), pretty_text(capacity),
                     pretty_text(allocation)])
    header = ["Name", "Path"] + (["Type", "Capacity", "Allocation"] if details else [])
    ctl.print(table.render(header, rows))
    return True


def cmd_vol_name(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_vol(ctl, args, None, BY_UUID).name()}\n")
    return True


def cmd_vol_pool(ctl: Control, args: Args) -> bool:
    vol = lookup_vol(ctl, args, None, BY_UUID)
    try:
        pool = vol.storagePoolLookupByVolume()
    except QvirtError as err:
        ctl.last_error = err
        raise ctl.fail("failed to get parent pool") from err
    ctl.print(f"{pool.UUIDString() if args.get('uuid') else pool.name()}\n")
    return True


def cmd_vol_key(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_vol(ctl, args).key()}\n")
    return True


def cmd_vol_path(ctl: Control, args: Args) -> bool:
    ctl.print(f"{lookup_vol(ctl, args).path()}\n")
    return True


# Upload and download -------------------------------------------------------------------------

def _offsets(ctl: Control, args: Args) -> tuple[int, int]:
    """--offset as an unsigned long long; --length too, a negative one wrapping around
    (vshCommandOptULongLongWrap)."""
    values = []
    for name, wrap in (("offset", False), ("length", True)):
        text = args.get(name)
        value = 0
        if isinstance(text, str):
            parsed = _strtoull(text, wrap)
            if parsed is None:
                raise ctl.fail(f"Numeric value '{text}' for <{name}> option is malformed or "
                               "out of range")
            value = parsed
        values.append(value)
    return values[0], values[1]


def _strtoull(text: str, wrap: bool) -> int | None:
    stripped = text.lstrip(" \t\n\v\f\r")
    negative = stripped.startswith("-")
    body = stripped[1:] if stripped[:1] in "+-" else stripped
    if not body.isdigit() or not body.isascii() or (negative and not wrap):
        return None
    value = int(body)
    if value > ULLONG_MAX:
        return None
    return (-value) % 2**64 if negative else value


class _Source:
    """virshStreamSource, virshStreamInData and virshStreamSourceSkip over one file."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, stream: Any, nbytes: int, opaque: Any) -> bytes:
        return os.read(self.fd, nbytes)

    def in_data(self, stream: Any, opaque: Any) -> list[Any]:
        """virFileInData: whether the position is in data, and how far that goes."""
        here = os.lseek(self.fd, 0, os.SEEK_CUR)
        try:
            data = os.lseek(self.fd, here, os.SEEK_DATA)
        except OSError as err:
            if err.errno != errno.ENXIO:
                raise
            # In the trailing hole, or at the end.
            return [False, os.fstat(self.fd).st_size - here]
        if data > here:
            os.lseek(self.fd, here, os.SEEK_SET)
            return [False, data - here]
        hole = os.lseek(self.fd, here, os.SEEK_HOLE)
        os.lseek(self.fd, here, os.SEEK_SET)
        return [True, hole - here]

    def skip(self, stream: Any, length: int, opaque: Any) -> int:
        os.lseek(self.fd, length, os.SEEK_CUR)
        return 0


class _Sink:
    """virshStreamSink and virshStreamSkip: holes stay holes in a file, zeroes on a block
    device."""

    def __init__(self, fd: int, block: bool) -> None:
        self.fd, self.block = fd, block

    def write(self, stream: Any, data: bytes, opaque: Any) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)

    def hole(self, stream: Any, length: int, opaque: Any) -> int:
        if self.block:
            chunk = bytes(min(length, 1 << 20))
            while length > 0:
                length -= self.write(stream, chunk[:length], opaque)
            return 0
        os.ftruncate(self.fd, os.lseek(self.fd, length, os.SEEK_CUR))
        return 0


def cmd_vol_upload(ctl: Control, args: Args) -> bool:
    offset, length = _offsets(ctl, args)
    vol = lookup_vol(ctl, args)
    name = ctl.opt_req(args, "vol")
    path = ctl.opt_req(args, "file")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as err:
        raise ctl.fail(f"cannot read {path}") from err
    try:
        source = _Source(fd)
        sparse = bool(args.get("sparse"))
        flags = C.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM if sparse else 0
        stream = ctl.connection().newStream(0)
        with ctl.failing(f"cannot upload to volume {name}"):
            vol.upload(stream, offset, length, flags)
        with ctl.failing(f"cannot send data to volume {name}"):
            if sparse:
                cast(Any, stream).sparseSendAll(source.read, source.in_data, source.skip, None)
            else:
                stream.sendAll(source.read, None)
    finally:
        os.close(fd)
    with ctl.failing(f"cannot close volume {name}"):
        stream.finish()
    return True


def cmd_vol_download(ctl: Control, args: Args) -> bool:
    offset, length = _offsets(ctl, args)
    vol = lookup_vol(ctl, args)
    name = ctl.opt_req(args, "vol")
    path = ctl.opt_req(args, "file")
    sparse = bool(args.get("sparse"))
    flags = C.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM if sparse else 0
    created = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        created = True
    except OSError as err:
        try:
            if err.errno != errno.EEXIST:
                raise
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o666)
        except OSError as again:
            raise ctl.fail(f"cannot create {path}") from again
    done = False
    try:
        sink = _Sink(fd, stat.S_ISBLK(os.fstat(fd).st_mode))
        stream = ctl.connection().newStream(0)
        with ctl.failing(f"cannot download from volume {name}"):
            vol.download(stream, offset, length, flags)
        with ctl.failing(f"cannot receive data from volume {name}"):
            if sparse:
                cast(Any, stream).sparseRecvAll(sink.write, sink.hole, None)
            else:
                stream.recvAll(sink.write, None)
        os.close(fd)
        fd = -1
        with ctl.failing(f"cannot close volume {name}"):
            stream.finish()
        done = True
    finally:
        if fd >= 0:
            os.close(fd)
        if not done and created:
            os.unlink(path)
    return True


VOL_OPT = Opt("vol", OptType.DATA, "vol name, key or path", required=True)
POOL_OPTIONAL = Opt("pool", STRING, "pool name or uuid")
PREALLOC_OPT = Opt("prealloc-metadata", BOOL,
                   "preallocate metadata (for qcow2 instead of full allocation)")
REFLINK_OPT = Opt("reflink", BOOL, "use btrfs COW lightweight copy")
VALIDATE_OPT = Opt("validate", BOOL, "validate the XML against the schema")


def _transfer_opts(direction: str) -> tuple[Opt, ...]:
    return (VOL_OPT, file_opt("file"), POOL_OPTIONAL,
            Opt("offset", INT, f"volume offset to {direction}"),
            Opt("length", INT, f"amount of data to {direction.split()[0]}"),
            Opt("sparse", BOOL, "preserve sparseness of volume"))


GROUP = CommandGroup("Storage Volume", "volume", (
    Command("vol-clone", cmd_vol_clone, "clone a volume.",
            "Clone an existing volume within the parent pool.", (
                VOL_OPT, Opt("newname", OptType.DATA, "clone name", required=True),
                POOL_OPTIONAL, PREALLOC_OPT, REFLINK_OPT,
                Opt("print-xml", BOOL, "print XML document rather than clone the volume"))),
    Command("vol-create-as", cmd_vol_create_as, "create a volume from a set of args",
            "Create a vol.", (
                Opt("pool", OptType.DATA, "pool name", required=True),
                Opt("name", OptType.DATA, "name of the volume", required=True),
                Opt("capacity", OptType.DATA,
                    "size of the vol, as scaled integer (default bytes)", required=True),
                Opt("allocation", STRING,
                    "initial allocation size, as scaled integer (default bytes)"),
                Opt("format", STRING, "file format type raw,bochs,qcow,qcow2,qed,vmdk"),
                Opt("backing-vol", STRING, "the backing volume if taking a snapshot"),
                Opt("backing-vol-format", STRING,
                    "format of backing volume if taking a snapshot"),
                PREALLOC_OPT,
                Opt("print-xml", BOOL, "print XML document, but don't define/create"))),
    Command("vol-create", cmd_vol_create, "create a vol from an XML file", "Create a vol.", (
        Opt("pool", OptType.DATA, "pool name", required=True),
        file_opt("file containing an XML vol description"), PREALLOC_OPT, VALIDATE_OPT)),
    Command("vol-create-from", cmd_vol_create_from,
            "create a vol, using another volume as input",
            "Create a vol from an existing volume.", (
                Opt("pool", OptType.DATA, "pool name or uuid", required=True),
                file_opt("file containing an XML vol description"), VOL_OPT,
                Opt("inputpool", STRING, "pool name or uuid of the input volume's pool"),
                PREALLOC_OPT, REFLINK_OPT, VALIDATE_OPT)),
    Command("vol-delete", cmd_vol_delete, "delete a vol", "Delete a given vol.", (
        VOL_OPT, POOL_OPTIONAL,
        Opt("delete-snapshots", BOOL,
            "delete snapshots associated with volume (must be supported by storage "
            "driver)"))),
    Command("vol-download", cmd_vol_download, "download volume contents to a file",
            "Download volume contents to a file", _transfer_opts("download from")),
    Command("vol-dumpxml", cmd_vol_dumpxml, "vol information in XML",
            "Output the vol information as an XML dump to stdout.", (
                VOL_OPT, POOL_OPTIONAL,
                Opt("xpath", STRING, "xpath expression to filter the XML document",
                    keyword_only=True),
                Opt("wrap", BOOL, "wrap xpath results in an common root element"))),
    Command("vol-info", cmd_vol_info, "storage vol information",
            "Returns basic information about the storage vol.", (
                VOL_OPT, POOL_OPTIONAL,
                Opt("bytes", BOOL, "sizes are represented in bytes rather than pretty units"),
                Opt("physical", BOOL,
                    "return the physical size of the volume in allocation field"))),
    Command("vol-key", cmd_vol_key, "returns the volume key for a given volume name or path",
            "", (Opt("vol", OptType.DATA, "volume name or path", required=True),
                 POOL_OPTIONAL)),
    Command("vol-list", cmd_vol_list, "list vols", "Returns list of vols by pool.", (
        Opt("pool", OptType.DATA, "pool name or uuid", required=True),
        Opt("details", BOOL, "display extended details for volumes"))),
    Command("vol-name", cmd_vol_name, "returns the volume name for a given volume key or path",
            "", (Opt("vol", OptType.DATA, "volume key or path", required=True),)),
    Command("vol-path", cmd_vol_path, "returns the volume path for a given volume name or key",
            "", (Opt("vol", OptType.DATA, "volume name or key", required=True),
                 POOL_OPTIONAL)),
    Command("vol-pool", cmd_vol_pool, "returns the storage pool for a given volume key or path",
            "", (Opt("vol", OptType.DATA, "volume key or path", required=True),
                 Opt("uuid", BOOL, "return the pool uuid rather than pool name"))),
    Command("vol-resize", cmd_vol_resize, "resize a vol",
            "Resizes a storage volume. This is safe only for storage volumes not in use by "
            "an active guest.\nSee blockresize for live resizing.", (
                VOL_OPT,
                Opt("capacity", OptType.DATA,
                    "new capacity for the vol, as scaled integer (default bytes)",
                    required=True),
                POOL_OPTIONAL,
                Opt("allocate", BOOL, "allocate the new capacity, rather than leaving it "
                    "sparse"),
                Opt("delta", BOOL, "use capacity as a delta to current size, rather than the "
                    "new size"),
                Opt("shrink", BOOL, "allow the resize to shrink the volume"))),
    Command("vol-upload", cmd_vol_upload, "upload file contents to a volume",
            "Upload file contents to a volume", _transfer_opts("upload to")),
    Command("vol-wipe", cmd_vol_wipe, "wipe a vol",
            "Ensure data previously on a volume is not accessible to future reads", (
                VOL_OPT, POOL_OPTIONAL,
                Opt("algorithm", STRING, "perform selected wiping algorithm"))),
))
