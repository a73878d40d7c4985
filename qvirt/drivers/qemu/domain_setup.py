"""What a start prepares before QEMU runs: the host files the guest needs, checked with the
errors libvirt's storage and security drivers give, a socket path for every unix channel
that has none, in the domain's runtime directory, and what the live definition says of the
process's placement and labels."""

from __future__ import annotations

import os
from pathlib import Path

from qvirt.conf.devices.chardev import Channel, ChrSource
from qvirt.conf.domain import Domain
from qvirt.conf.domain_security import SecLabel
from qvirt.conf.domain_tuning import Resource
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# The resource partition libvirt gives a guest that names none (virDomainCgroupInitCgroup).
DEFAULT_PARTITION = "/machine"


def check_host_files(dom: Domain) -> None:
    """The files the guest needs, checked before QEMU runs, with the errors libvirt's storage
    and security drivers give for them."""
    if dom.devices is not None:
        for disk in dom.devices.disks:
            src = disk.source
            if disk.type == "file" and src is not None and src.file and \
                    src.startup_policy is None and not os.path.exists(src.file):
                raise QvirtError(f"Cannot access storage file '{src.file}': "
                                 "No such file or directory",
                                 code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.STORAGE)
    os_def = dom.os
    for path in (os_def.kernel, os_def.initrd) if os_def is not None else ():
        if path and not os.path.exists(path):
            raise QvirtError(f"unable to stat: {path}: No such file or directory",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.SECURITY)

def _unplaced_channels(dom: Domain) -> list[tuple[Channel, str]]:
    """The unix channels without a socket path, with the file name each will get."""
    if dom.devices is None:
        return []
    return [(chan, (chan.target_name or f"channel{n}").replace("/", "_"))
            for n, chan in enumerate(dom.devices.channels)
            if chan.type == "unix" and not (chan.sources and chan.sources[0].path)]

def channel_socket_names(dom: Domain) -> list[str]:
    return [name for _, name in _unplaced_channels(dom)]

def place_channel_sockets(dom: Domain, rundir: Path) -> list[ChrSource]:
    """A unix channel without a path gets one in the domain's runtime directory."""
    placed = []
    for chan, name in _unplaced_channels(dom):
        source = ChrSource(mode="bind", path=str(rundir / name))
        chan.sources = [source]
        placed.append(source)
    return placed


def set_partition(dom: Domain) -> None:
    """libvirtd names the cgroup partition of every guest it starts; qvirt shows the same
    partition (it does not move QEMU into a cgroup of its own)."""
    if dom.resource is None:
        dom.resource = Resource(partition=DEFAULT_PARTITION)
    elif dom.resource.partition is None:
        dom.resource.partition = DEFAULT_PARTITION


def label_dac(dom: Domain, uid: int, gid: int) -> None:
    """virSecurityManagerGenLabel for the DAC driver: a domain without a DAC label gets a
    dynamic one; a dynamic label is the user and group QEMU runs as; a relabelling label
    labels the images with the same."""
    label = next((s for s in dom.seclabels if s.model == "dac"), None)
    if label is None:
        label = SecLabel(type="dynamic", model="dac", relabel=True)
        dom.seclabels.append(label)
    if label.type == "none":
        return
    if label.type == "dynamic":
        label.label = f"+{uid}:+{gid}"
    if label.relabel:
        label.imagelabel = label.label
