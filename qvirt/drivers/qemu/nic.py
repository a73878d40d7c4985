"""The host sides of a guest's NICs, opened by the driver as libvirt opens them
(qemuInterfaceBridgeConnect, qemuInterfaceDirectConnect, qemuInterfaceEthernetConnect): a tap
named vnetN plugged into the bridge of the interface's network or its <source bridge>, a
tap of its own for type ethernet, a macvtap over a host device for type direct (or a
network's macvtap pool). QEMU inherits each descriptor (-netdev tap,fd=N); the live XML
names the device in <target dev>. A tap goes when QEMU closes it; macvtaps are deleted."""

from __future__ import annotations

import contextlib
import os

from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain
from qvirt.drivers.network import netdev
from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.errors import QvirtError

RESERVED = ("vnet", "macvtap", "macvlan")


def _wanted_name(net: Interface) -> str | None:
    """A <target dev> the user chose; the reserved prefixes are libvirt's to hand out."""
    name = net.target_dev
    return None if not name or name.startswith(RESERVED) else str(name)


def open_host_side(net: Interface, network: LocalNetworkDriver) -> int | None:
    """The descriptor QEMU gets for this NIC (None: QEMU needs none), the live XML filled."""
    src = net.source
    mac = str(net.mac)
    mtu = int(net.mtu) if net.mtu else None
    if net.type == "network" and src is not None and src.network:
        port = network.plug(str(src.network), src.portgroup)
        try:
            if port.bridge is not None:
                src.bridge = port.bridge
                fd, name = netdev.open_tap(mac, port.bridge, _wanted_name(net), mtu)
            else:
                fd, name = netdev.open_macvtap(mac, str(port.dev), str(port.mode))
        except BaseException:
            network.unplug(port.network, port.dev)
            raise
    elif net.type == "bridge" and src is not None and src.bridge:
        fd, name = netdev.open_tap(mac, str(src.bridge), _wanted_name(net), mtu)
    elif net.type == "ethernet" and net.target_managed is not False:
        fd, name = netdev.open_tap(mac, None, _wanted_name(net), mtu)
    elif net.type == "direct" and src is not None and src.dev:
        fd, name = netdev.open_macvtap(mac, str(src.dev), str(src.mode or "vepa"))
    else:
        return None
    net.target_dev = name
    return fd


def open_host_sides(live: Domain, network: LocalNetworkDriver) -> dict[str, int]:
    """MAC -> descriptor for every NIC whose host side the driver opens. On failure none is
    left open; what was plugged goes with the failed start's cleanup (release_host_sides),
    which knows each opened NIC by its target dev."""
    fds: dict[str, int] = {}
    try:
        for net in live.devices.interfaces:
            fd = open_host_side(net, network)
            if fd is not None:
                fds[str(net.mac)] = fd
    except BaseException:
        close_fds(fds)
        raise
    return fds


def close_fds(fds: dict[str, int]) -> None:
    for fd in fds.values():
        with contextlib.suppress(OSError):
            os.close(fd)


def release_one(net: Interface, network: LocalNetworkDriver) -> None:
    dev = net.target_dev
    src = net.source
    macvtap = bool(dev) and str(dev).startswith("macvtap")
    if net.type == "network" and src is not None and src.network and dev:
        pool_dev = netdev.lower_of(str(dev)) if macvtap else None
        network.unplug(str(src.network), pool_dev)
    if net.type == "ethernet" and net.target_managed is False:
        return
    if dev and (macvtap or net.type in ("network", "bridge", "ethernet")):
        with contextlib.suppress(QvirtError):
            netdev.delete(str(dev))


def release_host_sides(live: Domain, network: LocalNetworkDriver) -> None:
    for net in live.devices.interfaces:
        release_one(net, network)



def reclaim_host_sides(live: Domain, network: LocalNetworkDriver) -> None:
    """The NICs of a guest a previous driver started: their ports counted by their networks
    again, and the live XML naming each network's bridge as before."""
    for net in live.devices.interfaces:
        src = net.source
        if net.type != "network" or src is None or not src.network:
            continue
        dev = str(net.target_dev or "")
        pool_dev = netdev.lower_of(dev) if dev.startswith("macvtap") else None
        port = network.reclaim(str(src.network), pool_dev)
        if port is not None and port.bridge:
            src.bridge = port.bridge
