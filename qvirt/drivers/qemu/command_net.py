"""Network interfaces: a -netdev host side and a -device NIC per <interface>.

Like libvirt, the driver opens the tap (or macvtap) of a network, bridge, ethernet or direct
interface itself and hands QEMU its descriptor (tap,fd=N). Without one (a command line shown
by domxml-to-native) the host sides QEMU can open by itself are written the way QEMU opens
them: a bridge through qemu-bridge-helper, an ethernet tap by name (see docs/compat.md,
"QEMU command line")."""

from __future__ import annotations

from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_props import (
    Props,
    address_props,
    bus_driver,
    drop_none,
    to_json,
)
from qvirt.errors import ConfigUnsupported

BRIDGE_HELPER = "/usr/lib/qemu/qemu-bridge-helper"
# Interface types whose host side the driver opens and passes as a descriptor.
FD_TYPES = ("network", "bridge", "ethernet", "direct")

# <model type> -> QEMU device; virtio names the PCI flavour, as libvirt does on x86.
NIC_MODELS = {"virtio": "virtio-net-pci", "virtio-transitional": "virtio-net-pci-transitional",
              "virtio-non-transitional": "virtio-net-pci-non-transitional"}


def netdev_props(net: Interface, fd: int | None = None) -> Props:
    netdev_id = f"host{net.alias}"
    kind = str(net.type)
    src = net.source
    if fd is not None and kind in FD_TYPES:
        return {"type": "tap", "fd": str(fd), "id": netdev_id}
    if kind == "user":
        props: Props = {"type": "user"}
        for ip in net.ips:
            if ip.family == "ipv6" or ":" in str(ip.address):
                props["ipv6-prefix"] = ip.address
                props["ipv6-prefixlen"] = ip.prefix
            else:
                props["net"] = f"{ip.address}/{ip.prefix}" if ip.prefix else ip.address
        props["id"] = netdev_id
        return drop_none(props)
    if kind in ("bridge", "network") and src is not None and src.bridge:
        return {"type": "bridge", "br": src.bridge, "helper": BRIDGE_HELPER, "id": netdev_id}
    if kind == "ethernet":
        return drop_none({"type": "tap", "ifname": net.target_dev, "script": net.script or "no",
                          "downscript": net.downscript or "no", "id": netdev_id})
    if kind in ("server", "client", "mcast", "udp") and src is not None:
        option = {"server": "listen", "client": "connect", "mcast": "mcast",
                  "udp": "udp"}[kind]
        props = {"type": "socket", option: f"{src.address or ''}:{src.port}"}
        if kind == "udp" and src.local is not None:
            props["localaddr"] = f"{src.local.address}:{src.local.port}"
        props["id"] = netdev_id
        return props
    if kind == "vhostuser" and src is not None:
        return {"type": "vhost-user", "chardev": f"char{net.alias}", "id": netdev_id}
    if kind == "network":
        raise ConfigUnsupported(f"network '{src.network if src else ''}' must be resolved to "
                                "its bridge before the command line is built")
    raise ConfigUnsupported(f"interface type '{kind}' is not supported by qvirt's QEMU "
                            "driver")


def spawns_helper(net: Interface) -> bool:
    """Whether QEMU itself runs a program for this interface (the bridge helper, an
    ethernet tap's scripts): its sandbox must then allow spawning."""
    props = netdev_props(net) if net.type in ("bridge", "network", "ethernet") else {}
    return "helper" in props or props.get("script", "no") != "no" \
        or props.get("downscript", "no") != "no"


def interface_args(dom: Domain, net: Interface, bootindex: int | None,
                   fd: int | None = None) -> list[str]:
    if net.type == "hostdev":
        raise ConfigUnsupported("interface type 'hostdev' is not supported by qvirt's QEMU "
                                "driver")
    argv: list[str] = []
    if net.type == "vhostuser" and net.source is not None:
        argv += ["-chardev", f"socket,id=char{net.alias},path={net.source.path}"
                             + (",server=on" if net.source.mode == "server" else "")]
    argv += ["-netdev", to_json(netdev_props(net, fd))]
    argv += ["-device", to_json(nic_props(dom, net, bootindex))]
    return argv


# Host sides whose MTU libvirt can set (on the tap or vhost-user device it manages).
MTU_TYPES = ("network", "bridge", "ethernet", "vhostuser")


def nic_props(dom: Domain, net: Interface, bootindex: int | None) -> Props:
    model = str(net.model or "rtl8139")
    driver = NIC_MODELS.get(model, model)
    props: Props = {"driver": bus_driver(driver, net)}
    drv = net.driver
    virtio = driver.startswith("virtio-net")
    if virtio and drv is not None:
        queues = drv.queues if drv.queues and drv.queues > 1 else None
        props.update(drop_none({
            "tx": "bh" if drv.txmode == "iothread" else drv.txmode,
            "ioeventfd": drv.ioeventfd, "event_idx": drv.event_idx,
            "csum": drv.host.csum if drv.host else None,
            "gso": drv.host.gso if drv.host else None,
            "host_tso4": drv.host.tso4 if drv.host else None,
            "host_tso6": drv.host.tso6 if drv.host else None,
            "host_ecn": drv.host.ecn if drv.host else None,
            "host_ufo": drv.host.ufo if drv.host else None,
            "mrg_rxbuf": drv.host.mrg_rxbuf if drv.host else None,
            "guest_csum": drv.guest.csum if drv.guest else None,
            "guest_tso4": drv.guest.tso4 if drv.guest else None,
            "guest_tso6": drv.guest.tso6 if drv.guest else None,
            "guest_ecn": drv.guest.ecn if drv.guest else None,
            "guest_ufo": drv.guest.ufo if drv.guest else None,
            "mq": True if queues else None,
            "vectors": 2 * queues + 2 if queues else None,
            "rx_queue_size": drv.rx_queue_size, "tx_queue_size": drv.tx_queue_size,
            "rss": drv.rss, "hash": drv.rss_hash_report,
        }))
    if net.mtu and net.type not in MTU_TYPES:
        raise ConfigUnsupported(f"setting MTU on interface type {net.type} is not supported yet")
    if virtio and net.mtu:
        props["host_mtu"] = net.mtu
    props["netdev"] = f"host{net.alias}"
    props["id"] = net.alias
    props["mac"] = net.mac
    props.update(address_props(dom, net))
    if bootindex is not None:
        props["bootindex"] = bootindex
    if net.rom_bar is not None:
        props["rombar"] = 1 if net.rom_bar else 0
    if net.rom_enabled is False:
        props["romfile"] = ""
    elif net.rom_file is not None:
        props["romfile"] = net.rom_file
    if net.acpi_index is not None:
        props["acpi-index"] = net.acpi_index
    return drop_none(props)
