"""Guest NICs changed while the guest runs or in its config (qemuDomainAttachNetDevice,
qemuDomainDetachDeviceLive, qemuDomainChangeNetLinkState), and their counters
(qemuDomainInterfaceStats). Only <interface> devices: any other device is refused in
libvirt's words for an unsupported device.

Attach: the host side is opened as at start, its descriptor passed over the monitor
(getfd), then netdev_add and device_add. Detach: device_del, then, once the guest let the
device go (DEVICE_DELETED), netdev_del and the host side released. libvirt waits 5 seconds
for the guest; a later event finishes the removal just the same."""

from __future__ import annotations

import asyncio
import contextlib

from qvirt.conf import xmltree
from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain
from qvirt.conf.xmlobject import MacAddr, ParseContext
from qvirt.drivers.base import InterfaceStats
from qvirt.drivers.network import netdev
from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.drivers.qemu import nic
from qvirt.drivers.qemu.command_alias import assign_aliases
from qvirt.drivers.qemu.command_net import netdev_props, nic_props
from qvirt.drivers.qemu.monitor import QemuMonitor
from qvirt.errors import ErrorDomain, ErrorNumber, InvalidArg, OperationFailed, QvirtError

REMOVAL_WAIT = 5.0
# Host sides whose counters are the guest's own view (virDomainNetTypeSharesHostView):
# the others are swapped, received by the guest being sent by the host side.
SHARES_HOST_VIEW = ("direct", "ethernet")


def unsupported(action: str, tag: str) -> QvirtError:
    return QvirtError(f"{action} of device '{tag}' is not supported",
                      code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.QEMU)


def parse_interface(xml: str, action: str) -> Interface:
    root = xmltree.parse(xml, "(device_definition)")
    tag = xmltree.local_name(root)
    if tag != "interface":
        raise unsupported(action, tag)
    try:
        return Interface.from_element(root, ParseContext())
    except QvirtError as err:
        if err.domain == ErrorDomain.NONE:
            err.domain = ErrorDomain.DOMAIN
        raise


def _same_mac(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and MacAddr.parse(a) == MacAddr.parse(b)


def find(dom: Domain, wanted: Interface) -> Interface:
    """virDomainNetFindIdx: the one NIC with the MAC (a MAC the XML must give)."""
    matches = [n for n in dom.devices.interfaces if _same_mac(n.mac, wanted.mac)]
    if not matches:
        # (libvirt prints the address and alias it was not given as glibc prints NULL)
        raise QvirtError(f"no device found at address '(<null>)' matching MAC address "
                         f"'{wanted.mac}' and alias '{wanted.alias or '(<null>)'}'",
                         code=ErrorNumber.DEVICE_MISSING, domain=ErrorDomain.DOMAIN)
    if len(matches) > 1:
        raise OperationFailed(f"multiple devices matching MAC address {wanted.mac} found",
                              domain=ErrorDomain.DOMAIN)
    found: Interface = matches[0]
    return found


def with_new(dom: Domain, net: Interface, facts: GuestFacts, *, aliases: bool) -> Domain:
    """A copy of ``dom`` with ``net`` added and filled as a defined NIC is (MAC, PCI
    address; for a live one its alias). A MAC another NIC has is no error: libvirt 9.0
    takes it too."""
    changed = dom.copy()
    changed.devices.interfaces.append(net)
    apply_domain_defaults(changed, facts)
    if aliases:
        assign_aliases(changed)
    return changed


def without(dom: Domain, net: Interface) -> Domain:
    changed = dom.copy()
    changed.devices.interfaces = [n for n in changed.devices.interfaces
                                  if not _same_mac(n.mac, net.mac)]
    return changed


async def attach_live(mon: QemuMonitor, live: Domain, net: Interface,
                      network: LocalNetworkDriver) -> None:
    """``net`` (already in ``live``, filled) plugged into the running guest."""
    fd = await asyncio.to_thread(nic.open_host_side, net, network)
    try:
        props = netdev_props(net)
        if fd is not None:
            fdname = f"fd-{net.alias}"
            mon.send_fd(fd)
            await mon.execute("getfd", {"fdname": fdname})
            props = {"type": "tap", "fd": fdname, "id": f"host{net.alias}"}
        await mon.execute("netdev_add", props)
        try:
            await mon.execute("device_add", nic_props(live, net, None))
        except QvirtError:
            with contextlib.suppress(QvirtError):
                await mon.execute("netdev_del", {"id": f"host{net.alias}"})
            raise
    except BaseException:
        await asyncio.to_thread(nic.release_one, net, network)
        raise
    finally:
        if fd is not None:
            nic.close_fds({"": fd})
    if net.link_state == "down":
        await mon.execute("set_link", {"name": net.alias, "up": False})


async def finish_removal(mon: QemuMonitor | None, net: Interface,
                         network: LocalNetworkDriver) -> None:
    """After DEVICE_DELETED: the backend and the host side go."""
    if mon is not None:
        with contextlib.suppress(QvirtError):
            await mon.execute("netdev_del", {"id": f"host{net.alias}"})
    await asyncio.to_thread(nic.release_one, net, network)


async def set_link(mon: QemuMonitor, net: Interface, state: str | None) -> None:
    await mon.execute("set_link", {"name": net.alias, "up": state != "down"})


def check_change(current: Interface, wanted: Interface) -> None:
    """qemuDomainChangeNet's refusals for what qvirt cannot change live: only the link
    state changes; the type and model must stay."""
    if wanted.type != current.type:
        raise QvirtError("cannot change network interface type",
                         code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.QEMU)
    if wanted.model is not None and wanted.model != current.model:
        raise QvirtError(f"cannot modify network device model from {current.model} to "
                         f"{wanted.model}", code=ErrorNumber.OPERATION_UNSUPPORTED,
                         domain=ErrorDomain.QEMU)


def replaced(dom: Domain, wanted: Interface, facts: GuestFacts) -> Domain:
    """qemuDomainUpdateDeviceConfig for a NIC: the definition's NIC with that MAC replaced
    by ``wanted`` (keeping its PCI address unless ``wanted`` gives one), defaults filled."""
    current = find(dom, wanted)
    changed = dom.copy()
    interfaces = changed.devices.interfaces
    index = next(i for i, n in enumerate(interfaces) if _same_mac(n.mac, current.mac))
    new = wanted.copy()
    if new.address is None:
        new.address = current.address
    interfaces[index] = new
    apply_domain_defaults(changed, facts)
    return changed


def with_link(dom: Domain, wanted: Interface) -> Domain:
    changed = dom.copy()
    for net in changed.devices.interfaces:
        if _same_mac(net.mac, wanted.mac):
            net.link_state = wanted.link_state
    return changed


def stats(live: Domain, device: str) -> InterfaceStats:
    """By target dev name or MAC, as virDomainNetFind."""
    for net in live.devices.interfaces:
        if net.target_dev == device or (_is_mac(device) and _same_mac(net.mac, device)):
            break
    else:
        raise InvalidArg(f"invalid path, '{device}' is not a known interface",
                         domain=ErrorDomain.DOMAIN)
    if not net.target_dev:
        raise QvirtError("the interface has no host device to count its traffic",
                         code=ErrorNumber.OPERATION_UNSUPPORTED, domain=ErrorDomain.QEMU)
    c = netdev.counters(str(net.target_dev))
    rx = (c["rx_bytes"], c["rx_packets"], c["rx_errors"], c["rx_dropped"])
    tx = (c["tx_bytes"], c["tx_packets"], c["tx_errors"], c["tx_dropped"])
    if net.type not in SHARES_HOST_VIEW:
        rx, tx = tx, rx
    return InterfaceStats(*rx, *tx)


def _is_mac(text: str) -> bool:
    try:
        MacAddr.parse(text)
    except ValueError:
        return False
    return True
