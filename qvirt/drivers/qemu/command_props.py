"""How values reach QEMU's command line: JSON for the options QEMU 7.2 parses as QAPI objects
(-device, -blockdev, -netdev, -object, -audiodev), key=value with doubled commas for the rest,
and the bus/addr properties a device's <address> turns into."""

from __future__ import annotations

import json
from typing import Any

from qvirt.conf.devices.base import (
    CCIDAddress,
    DeviceDef,
    ISAAddress,
    PCIAddress,
    USBAddress,
    VirtioMMIOAddress,
    VirtioSerialAddress,
)
from qvirt.conf.domain import Domain

Props = dict[str, Any]


def to_json(props: Props) -> str:
    """libvirt writes compact JSON with keys in the order it added them; so do we, so that a
    command line compares equal to libvirt's text for text."""
    return json.dumps(props, separators=(",", ":"), ensure_ascii=False)


def escape(value: str) -> str:
    """QemuOpts quoting: a comma inside a value is written twice."""
    return value.replace(",", ",,")


def keyval(head: str, *pairs: tuple[str, object | None]) -> str:
    """``head,k=v,...`` skipping unset values; booleans as on/off."""
    parts = [head]
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "on" if value else "off"
        parts.append(f"{key}={escape(str(value))}")
    return ",".join(parts)


def drop_none(props: Props) -> Props:
    return {k: v for k, v in props.items() if v is not None}


def pci_bus_name(dom: Domain, bus: int) -> str:
    """The QEMU id of PCI bus ``bus``: the root is pci.0 on i440fx and pcie.0 on q35; every
    other bus is the controller whose alias libvirt makes pci.N."""
    if bus == 0 and is_q35(dom):
        return "pcie.0"
    return f"pci.{bus}"


def is_q35(dom: Domain) -> bool:
    return "q35" in str(dom.os.machine or "")


def address_props(dom: Domain, dev: DeviceDef) -> Props:
    """bus/addr (and friends) for a device's <address>, as libvirt's
    qemuBuildDeviceAddressProps writes them; nothing for an address-less device."""
    addr = dev.address
    if isinstance(addr, PCIAddress):
        if not addr.is_present():
            return {}
        props: Props = {"bus": pci_bus_name(dom, int(addr.bus or 0))}
        if addr.multifunction is not None:
            props["multifunction"] = addr.multifunction
        props["addr"] = f"0x{int(addr.slot or 0):x}"
        if addr.function:
            props["addr"] += f".0x{int(addr.function):x}"
        return props
    if isinstance(addr, USBAddress):
        bus = usb_bus_alias(dom, int(addr.bus or 0))
        props = {"bus": f"{bus}.0"}
        if addr.port:
            props["port"] = str(addr.port)
        return props
    if isinstance(addr, VirtioSerialAddress):
        return {"bus": f"virtio-serial{addr.controller}.{addr.bus}", "nr": addr.port}
    if isinstance(addr, CCIDAddress):
        return {"bus": f"ccid{addr.controller}.0", "slot": addr.slot}
    if isinstance(addr, ISAAddress):
        return drop_none({"iobase": addr.iobase, "irq": addr.irq})
    return {}  # drive addresses are the disk's business; the rest have no properties


def bus_driver(driver: str, dev: DeviceDef) -> str:
    """A virtio device on the virtio-mmio transport is the -device twin of its -pci one."""
    if isinstance(dev.address, VirtioMMIOAddress) and driver.endswith("-pci"):
        return driver.removesuffix("-pci") + "-device"
    return driver


def usb_bus_alias(dom: Domain, index: int) -> str:
    for ctrl in dom.devices.controllers:
        if ctrl.type == "usb" and ctrl.index == index and ctrl.alias:
            return str(ctrl.alias)
    return "usb" if index == 0 else f"usb{index}"
