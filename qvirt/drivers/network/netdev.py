"""Host network devices over netlink (pyroute2): the bridges networks own, the taps and
macvtaps guest NICs use, their addresses, counters and the routes a new subnet must not
collide with. Every call opens its own netlink socket, in the namespace of the calling
thread, so a driver run inside a network namespace never touches the host's. (Nothing is
read from /sys/class/net: sysfs shows the namespace it was mounted in, not the caller's.)"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from qvirt.errors import InternalError, QvirtError

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
# virDomainNetGenerateName's templates: the kernel gives the lowest free number.
TAP_TEMPLATE = "vnet%d"
MACVTAP_TEMPLATE = "macvtap%d"
# linux/if_link.h MACVLAN_MODE_*
MACVTAP_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthrough": 8}
STATS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
         "tx_bytes", "tx_packets", "tx_errors", "tx_dropped")


@contextlib.contextmanager
def _netlink() -> Iterator[IPRoute]:
    ip = IPRoute()
    try:
        yield ip
    finally:
        ip.close()


def exists(name: str) -> bool:
    with _netlink() as ip:
        return bool(ip.link_lookup(ifname=name))


def names() -> set[str]:
    with _netlink() as ip:
        return {str(link.get("ifname")) for link in ip.get_links()}


def _link(ip: IPRoute, name: str) -> Any:
    return ip.get_links(index=_index(ip, name))[0]


def _index(ip: IPRoute, name: str) -> int:
    found = ip.link_lookup(ifname=name)
    if not found:
        raise QvirtError(f"Unable to get index for interface {name}: No such device",
                         code=38)  # VIR_ERR_SYSTEM_ERROR
    return int(found[0])


def create_bridge(name: str, mac: str | None, mtu: int | None, stp: bool,
                  delay: int) -> None:
    """virNetDevBridgeCreate and the settings networkStartNetworkVirtual gives it."""
    with _netlink() as ip:
        try:
            ip.link("add", ifname=name, kind="bridge", br_stp_state=int(stp),
                    br_forward_delay=delay * 100)
        except NetlinkError as err:
            raise QvirtError(f"Unable to create bridge {name}: {os.strerror(err.code)}",
                             code=38) from None
        settings: dict[str, object] = {}
        if mac:
            settings["address"] = mac
        if mtu:
            settings["mtu"] = mtu
        if settings:
            ip.link("set", index=_index(ip, name), **settings)


def add_address(name: str, address: str, prefix: int) -> None:
    addr = ipaddress.ip_interface(f"{address}/{prefix}")
    extra = {"broadcast": str(addr.network.broadcast_address)} if addr.version == 4 else {}
    with _netlink() as ip:
        ip.addr("add", index=_index(ip, name), address=address, prefixlen=prefix, **extra)


def add_route(name: str, address: str, prefix: int, gateway: str, metric: int | None) -> None:
    with _netlink() as ip:
        ip.route("add", dst=f"{address}/{prefix}", gateway=gateway, oif=_index(ip, name),
                 **({"priority": metric} if metric else {}))


def set_up(name: str, up: bool = True) -> None:
    with _netlink() as ip:
        ip.link("set", index=_index(ip, name), state="up" if up else "down")


def delete(name: str) -> None:
    """Gone already is fine: a guest's tap goes with its QEMU."""
    with _netlink() as ip:
        found = ip.link_lookup(ifname=name)
        if found:
            with contextlib.suppress(NetlinkError):
                ip.link("del", index=found[0])


def lower_of(name: str) -> str | None:
    """The device a macvtap sits on."""
    with _netlink() as ip:
        found = ip.link_lookup(ifname=name)
        if not found:
            return None
        parent = ip.get_links(index=found[0])[0].get("IFLA_LINK")
        if not parent:
            return None
        return str(ip.get_links(index=parent)[0].get("ifname"))


def open_tap(mac: str, bridge: str | None, name: str | None = None,
             mtu: int | None = None) -> tuple[int, str]:
    """virNetDevTapCreateInBridgePort: a tap (named ``name`` or vnetN) opened for QEMU, its
    host side's MAC the guest's with the first byte 0xFE (so the bridge never takes the
    guest's address as its own), plugged into ``bridge`` and up."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        request = struct.pack("16sH", (name or TAP_TEMPLATE).encode(),
                              IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
        answer = fcntl.ioctl(fd, TUNSETIFF, request)
        ifname = answer[:16].split(b"\0", 1)[0].decode()
        with _netlink() as ip:
            index = _index(ip, ifname)
            settings: dict[str, object] = {"address": host_mac(mac)}
            if mtu:
                settings["mtu"] = mtu
            elif bridge:
                settings["mtu"] = int(_link(ip, bridge).get("IFLA_MTU"))
            ip.link("set", index=index, **settings)
            if bridge:
                ip.link("set", index=index, master=_index(ip, bridge))
            ip.link("set", index=index, state="up")
    except OSError as err:
        os.close(fd)
        raise QvirtError(f"Unable to create tap device {name or TAP_TEMPLATE}: "
                         f"{os.strerror(err.errno or 0)}", code=38) from None
    except BaseException:
        os.close(fd)
        raise
    return fd, ifname


def open_macvtap(mac: str, link: str, mode: str) -> tuple[int, str]:
    """virNetDevMacVLanCreateWithVPortProfile: a macvtapN over ``link`` with the guest's own
    MAC, and its character device opened for QEMU."""
    with _netlink() as ip:
        parent = _index(ip, link)
        for n in range(256):
            name = MACVTAP_TEMPLATE.replace("%d", str(n))
            if ip.link_lookup(ifname=name):
                continue
            try:
                ip.link("add", ifname=name, kind="macvtap", link=parent,
                        macvtap_mode=MACVTAP_MODES[mode], address=mac)
            except NetlinkError as err:
                if err.code == 17:   # EEXIST: taken since we looked
                    continue
                raise InternalError(f"error creating macvtap interface {name}@{link} "
                                    f"({mac}): {os.strerror(err.code)}") from None
            break
        else:
            raise InternalError("Too many macvtap devices")
        index = _index(ip, name)
        ip.link("set", index=index, state="up")
    try:
        fd = os.open(f"/dev/tap{index}", os.O_RDWR | os.O_CLOEXEC)
    except OSError as err:
        delete(name)
        raise QvirtError(f"cannot open macvtap tap device /dev/tap{index}: "
                         f"{os.strerror(err.errno or 0)}", code=38) from None
    return fd, name


def host_mac(mac: str) -> str:
    return "fe" + mac[2:]


def counters(name: str) -> dict[str, int]:
    """The kernel's counters of a host-side device (IFLA_STATS64)."""
    with _netlink() as ip:
        found = ip.link_lookup(ifname=name)
        if not found:
            raise InternalError(f"Interface {name} not found")
        stats = ip.get_links(index=found[0])[0].get("IFLA_STATS64")
    return {stat: int(stats.get(stat)) for stat in STATS}


def route_collision(network: ipaddress.IPv4Network) -> str | None:
    """networkCheckRouteCollision: the interface of a route to exactly this subnet, if one
    exists (/proc/net/route holds addresses and masks in host byte order)."""
    try:
        lines = Path("/proc/thread-self/net/route").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = ipaddress.IPv4Address(struct.pack("<I", int(fields[1], 16)))
        mask = ipaddress.IPv4Address(struct.pack("<I", int(fields[7], 16)))
        if int(mask) == 0:
            continue
        if mask == network.netmask and \
                ipaddress.IPv4Address(int(dest) & int(mask)) == network.network_address:
            return fields[0]
    return None
