"""Controllers and addresses as libvirt 9.0 assigns them at define time. Every expectation
here is what libvirtd printed for the same devices (virsh dumpxml --inactive)."""

from __future__ import annotations

from typing import Any

import pytest

from qvirt.conf.defaults.addresses import assign
from qvirt.conf.devices import Devices
from qvirt.conf.devices.base import PCIAddress
from qvirt.errors import QvirtError

PC, Q35 = "pc-i440fx-7.2", "pc-q35-7.2"


def devices(body: str, machine: str = PC) -> Devices:
    devs = Devices.from_xml(f"<devices>{body}</devices>")
    assign(devs, machine)
    return devs


def pci(dev: Any) -> tuple[int, int, int]:
    addr = dev.address
    assert isinstance(addr, PCIAddress)
    return addr.key()


def controllers(devs: Devices) -> list[tuple[str, int, str | None]]:
    return [(str(c.type), int(c.index), c.model) for c in devs.controllers]


def test_pc_gets_usb_and_pci_root_with_the_piix3_slots() -> None:
    devs = devices("")
    assert controllers(devs) == [("usb", 0, "piix3-uhci"), ("pci", 0, "pci-root")]
    assert pci(devs.controllers[0]) == (0, 1, 2)
    assert devs.controllers[1].address is None


def test_controllers_are_ordered_by_index_within_their_type() -> None:
    devs = devices("<controller type='usb' index='1' model='ehci'/><controller type='scsi' "
                   "index='1'/><controller type='usb' index='0' model='piix3-uhci'/>"
                   "<controller type='scsi' index='0'/>")
    assert controllers(devs) == [("usb", 0, "piix3-uhci"), ("usb", 1, "ehci"),
                                 ("scsi", 0, "lsilogic"), ("scsi", 1, "lsilogic"),
                                 ("pci", 0, "pci-root")]


def test_q35_gets_xhci_sata_and_root_ports_with_one_spare() -> None:
    devs = devices("", Q35)
    assert controllers(devs) == [("usb", 0, "qemu-xhci"), ("sata", 0, None),
                                 ("pci", 0, "pcie-root"), ("pci", 1, "pcie-root-port"),
                                 ("pci", 2, "pcie-root-port")]
    usb, sata, _, port, spare = devs.controllers
    assert spare.address.key() == (0, 1, 1)
    assert pci(usb) == (1, 0, 0) and pci(sata) == (0, 0x1F, 2)
    assert port.to_xml() == """<controller type='pci' index='1' model='pcie-root-port'>
  <model name='pcie-root-port'/>
  <target chassis='1' port='0x8'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0' multifunction='on'/>
</controller>
"""


def test_q35_root_ports_fill_functions_then_the_next_slot() -> None:
    body = "".join(f"<disk type='file'><source file='/tmp/{x}'/><target dev='vd{x}'/></disk>"
                   for x in "abcdefghi")
    devs = devices(body, Q35)
    assert [pci(d) for d in devs.disks] == [(b, 0, 0) for b in range(2, 11)]
    ports = [c for c in devs.controllers if c.model == "pcie-root-port"]
    assert len(ports) == 11  # usb + 9 disks + 1 spare (no balloon in this test)
    assert [pci(p) for p in ports[7:9]] == [(0, 1, 7), (0, 2, 0)]
    assert [p.target_port for p in ports[7:9]] == [0xF, 0x10]
    assert ports[0].address.multifunction and ports[8].address.multifunction
    assert not ports[1].address.multifunction


def test_q35_legacy_pci_devices_get_a_pcie_to_pci_bridge() -> None:
    devs = devices("<controller type='scsi' model='lsilogic'/>"
                   "<interface type='user'><mac address='52:54:00:00:00:01'/>"
                   "<model type='rtl8139'/></interface>"
                   "<interface type='user'><mac address='52:54:00:00:00:02'/>"
                   "<model type='e1000e'/></interface>", Q35)
    assert controllers(devs)[3:6] == [("pci", 0, "pcie-root"), ("pci", 1, "pcie-root-port"),
                                      ("pci", 2, "pcie-to-pci-bridge")]
    bridge = devs.controllers[5]
    assert pci(bridge) == (1, 0, 0) and bridge.model_name == "pcie-pci-bridge"
    assert [pci(n) for n in devs.interfaces] == [(2, 1, 0), (3, 0, 0)]
    assert pci(devs.controllers[0]) == (2, 2, 0)


def test_pc_slot_order_follows_libvirt() -> None:
    """PCI controllers, filesystems, NICs, controllers, disks, hostdevs, in that order."""
    devs = devices(
        "<disk type='file'><source file='/a'/><target dev='vda'/></disk>"
        "<controller type='virtio-serial' index='0' ports='16' vectors='4'/>"
        "<controller type='scsi' index='0' model='virtio-scsi'/>"
        "<controller type='pci' index='1' model='pci-bridge'/>"
        "<filesystem><source dir='/e'/><target dir='t'/></filesystem>"
        "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
        "<hostdev mode='subsystem' type='pci'><source><address bus='6' slot='2' function='0'/>"
        "</source></hostdev>")
    order = [devs.controllers[2], devs.filesystems[0], devs.interfaces[0],
             devs.controllers[0], devs.controllers[1], devs.disks[0], devs.hostdevs[0]]
    assert [pci(d)[1] for d in order] == [2, 3, 4, 5, 6, 7, 8]
    bridge = devs.controllers[2]
    assert bridge.model_name == "pci-bridge" and bridge.target_chassis_nr == 1


def test_usb2_companions_share_one_slot() -> None:
    devs = devices("<controller type='usb' index='1' model='ich9-ehci1'/>"
                   "<controller type='usb' index='1' model='ich9-uhci1'><master startport='0'/>"
                   "</controller><controller type='usb' index='1' model='ich9-uhci2'>"
                   "<master startport='2'/></controller>")
    ehci, uhci1, uhci2 = devs.controllers[:3]
    assert [pci(c) for c in (ehci, uhci1, uhci2)] == [(0, 2, 7), (0, 2, 0), (0, 2, 1)]
    assert uhci1.address.multifunction is True and uhci2.address.multifunction is None


def test_user_addresses_are_kept_and_bridges_added_for_them() -> None:
    devs = devices("<interface type='user'><mac address='52:54:00:00:00:01'/>"
                   "<address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>"
                   "</interface>")
    assert controllers(devs)[2:] == [("pci", 1, "pci-bridge"), ("pci", 2, "pci-bridge")]
    assert [pci(c) for c in devs.controllers[2:]] == [(0, 2, 0), (0, 3, 0)]


def test_multifunction_is_set_on_function_zero() -> None:
    devs = devices("".join(
        f"<interface type='user'><mac address='52:54:00:00:00:0{f}'/><address type='pci' "
        f"domain='0x0000' bus='0x00' slot='0x05' function='0x{f}'/></interface>"
        for f in (0, 1)))
    assert devs.interfaces[0].address.multifunction is True
    assert devs.interfaces[1].address.multifunction is None


def test_usb_ports_and_the_hub_libvirt_adds() -> None:
    devs = devices("<input type='tablet' bus='usb'/>"
                   "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
                   "<product id='0xbeef'/></source></hostdev>"
                   "<disk type='file'><source file='/u'/><target dev='sda' bus='usb'/></disk>"
                   "<smartcard mode='host'/>"
                   "<redirdev bus='usb' type='tcp'><source mode='connect' host='localhost' "
                   "service='4000'/></redirdev>", Q35)
    ccid = next(c for c in devs.controllers if c.type == "ccid")
    ports = [d.address.port for d in (devs.hubs[0], devs.hostdevs[0], devs.disks[0], ccid,
                                      devs.inputs[0], devs.redirdevs[0])]
    assert ports == ["1", "2", "3", "4", "1.1", "1.2"]
    assert devs.smartcards[0].address.to_xml() == (
        "<address type='ccid' controller='0' slot='0'/>\n")


def test_virtio_serial_ports_start_at_one_per_controller() -> None:
    devs = devices("<controller type='virtio-serial' index='0' ports='2'/>"
                   "<controller type='virtio-serial' index='1'/>"
                   + "".join(f"<channel type='pty'><target type='virtio' name='a.{i}'/>"
                             "</channel>" for i in (1, 2)))
    assert [(c.address.controller, c.address.port) for c in devs.channels] == [(0, 1), (1, 1)]


def test_implicit_virtio_serial_controller() -> None:
    devs = devices("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
                   "</channel>")
    assert ("virtio-serial", 0, None) in controllers(devs)
    assert devs.channels[0].address.to_xml() == (
        "<address type='virtio-serial' controller='0' bus='0' port='1'/>\n")


def test_addresses_libvirt_keeps_as_given() -> None:
    devs = devices("<disk type='file'><source file='/a'/><target dev='vda'/>"
                   "<address type='virtio-mmio'/></disk>"
                   "<interface type='user'><mac address='52:54:00:00:00:01'/>"
                   "<address type='spapr-vio' reg='0x1000'/></interface>")
    assert devs.disks[0].address.to_xml() == "<address type='virtio-mmio'/>\n"
    assert devs.interfaces[0].address.to_xml() == (
        "<address type='spapr-vio' reg='0x00001000'/>\n")


@pytest.mark.parametrize(("body", "machine", "message"), [
    ("<input type='tablet' bus='usb'><address type='usb' bus='0' port='1.2.3.4.5'/></input>",
     PC, "internal error: Cannot parse <address> 'port' attribute"),
    ("<interface type='user'><address type='pci' domain='0x0000' bus='0x100' slot='0x05' "
     "function='0x0'/></interface>", PC,
     "XML error: Invalid PCI address bus='0x100', must be <= 0xFF"),
    ("<interface type='user'><address type='pci' domain='0x0001' bus='0x00' slot='0x05' "
     "function='0x0'/></interface>", PC,
     "XML error: Invalid PCI address 0001:00:05.0. Only PCI domain 0 is available"),
    ("<interface type='user'><model type='virtio'/><address type='pci' domain='0x0000' "
     "bus='0x00' slot='0x05' function='0x0'><zpci uid='0x0001' fid='0x00000001'/></address>"
     "</interface>", Q35, "unsupported configuration: This QEMU binary doesn't support zPCI"),
    ("<disk type='file'><source file='/a'/><target dev='vda'/><address type='ccw' "
     "cssid='0xfe' ssid='0x0' devno='0x0001'/></disk>", PC,
     "unsupported configuration: cannot use CCW address type for device '<null>' using "
     "machine type 'pc-i440fx-7.2'"),
    ("<interface type='user'><address type='unassigned'/></interface>", PC,
     "unsupported configuration: address of type 'unassigned' is supported only for hostdevs"),
    ("<controller type='pci' index='300' model='pci-bridge'/>", PC,
     "unsupported configuration: PCI controller index 300 too high, maximum is 255"),
    ("<disk type='file'><source file='/a'/><target dev='hde'/></disk>", PC,
     "internal error: Only 1 IDE controller is supported"),
    ("<controller type='ide' index='1'/>", PC,
     "unsupported configuration: Only a single IDE controller is supported for this machine "
     "type"),
    ("<controller type='pci' index='0' model='pci-root'/>", Q35,
     "XML error: The PCI controller with index='0' must be model='pcie-root' for this "
     "machine type, but model='pci-root' was found instead"),
    ("<controller type='pci' index='1' model='pcie-root-port'/>", PC,
     "internal error: a PCI slot is needed to connect a PCI controller "
     "model='pcie-root-port', but none is available, and it cannot be automatically added"),
    ("<disk type='file'><source file='/a'/><target dev='sda'/><address type='drive' "
     "controller='100000' bus='0' target='0' unit='0'/></disk>", PC,
     "internal error: a PCI slot is needed to connect a PCI controller model='pci-bridge', "
     "but none is available, and it cannot be automatically added"),
    ("<smartcard mode='host'/><smartcard mode='host'/>", PC,
     "unsupported configuration: this QEMU binary lacks multiple smartcard support"),
    ("<interface type='user'><address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
     "function='0x0'/></interface><interface type='user'><address type='pci' domain='0x0000' "
     "bus='0x00' slot='0x05' function='0x0'/></interface>", PC,
     "XML error: Attempted double use of PCI Address 0000:00:05.0"),
    ("<disk type='file'><source file='/x'/><target dev='hdc'/></disk>", Q35,
     "unsupported configuration: IDE controllers are unsupported for this QEMU binary or "
     "machine type"),
    ("<controller type='usb' index='0' model='none'/><redirdev bus='usb' type='tcp'>"
     "<source mode='connect' host='localhost' service='4000'/></redirdev>", PC,
     "unsupported configuration: USB is disabled for this domain, but USB devices are present "
     "in the domain XML"),
    ("<interface type='vhostuser'><source type='unix' path='/x' mode='server'/></interface>",
     PC, "internal error: Wrong or no <model> 'type' attribute specified with <interface "
     "type='vhostuser'/>. vhostuser requires the virtio-net* frontend"),
])
def test_errors_carry_libvirts_text(body: str, machine: str, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        devices(body, machine)
    assert caught.value.message == message
