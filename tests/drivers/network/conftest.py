"""A lab for the network tests, all of it inside namespaces the tests create: the driver's
namespace (where qvirt runs, with its bridges, dnsmasqs and nftables rules), and an
"outside" namespace joined to it by a veth pair, standing for the rest of the world.

The test thread enters the driver's namespace while a QemuDriver is opened and used, so the
driver's own thread, QEMU and dnsmasq are all born there. Booting TCG guests is slow: a test
module shares its guests across its tests."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.base import DomainRef
from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.drivers.qemu.driver import QemuDriver
from tests.drivers.network.netns import entered, ip, namespaces
from tests.drivers.qemu.conftest import Console, guest_run, kill_all_under, tiny_xml

WAIT = 120.0
ACTIVE_DOMS = C.VIR_CONNECT_LIST_DOMAINS_ACTIVE
ACTIVE_NETS = C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
# The veth pair: the driver's side, and the outside peer.
UPLINK, UPLINK_ADDR = "qvt-up", "10.250.0.1"
PEER, PEER_ADDR = "qvt-peer", "10.250.0.2"


@dataclass
class Guest:
    name: str
    ref: DomainRef
    console: Console
    mac: str

    def ip(self, count: int = 1, timeout: float = WAIT) -> str:
        """The address of the ``count``-th DHCP lease the guest announced."""
        self.console.wait_for(r"TINY-GUEST-IP \S+ \S+", count, timeout)
        found: list[str] = re.findall(r"TINY-GUEST-IP \S+ (\S+)", self.console.text())
        return found[count - 1]


@dataclass
class Lab:
    ns: str
    outside: str
    root: Path
    work: Path
    image: Path
    driver: QemuDriver
    guests: list[Guest] = field(default_factory=list)

    def network(self, xml: str, start: bool = True) -> None:
        ref = self.driver.network.network_define_xml_flags(xml)
        if start:
            self.driver.network.network_create(ref)

    def guest(self, name: str, interfaces: str) -> Guest:
        """A tiny guest whose NICs are ``interfaces`` (XML), started."""
        xml, console = tiny_xml(self.image, self.work / name, name)
        xml = re.sub(r"<interface type='user'>.*?</interface>", interfaces, xml, flags=re.S)
        ref = self.driver.domain_define_xml_flags(xml)
        self.driver.domain_create_with_flags(ref)
        mac = re.findall(r"<mac address='([^']+)'",
                         self.driver.domain_get_xml_desc(ref))[0]
        guest = Guest(name, self.driver.domain_lookup_by_name(name), console, mac)
        self.guests.append(guest)
        return guest

    def run(self, guest: Guest, script: str) -> tuple[int, str]:
        wait_agent(self.driver, guest.ref)
        code, out = guest_run(self.driver, guest.ref, script)
        return int(code), str(out)

    def outside_run(self, *argv: str) -> str:
        return ip("netns", "exec", self.outside, *argv, check=False)


def wait_agent(drv: QemuDriver, ref: DomainRef, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not drv.agent_connected(ref):
        if time.monotonic() > deadline:
            raise AssertionError("the guest agent never connected")
        time.sleep(0.05)


def network_xml(name: str, subnet: str, mode: str | None, bridge: str,
                dhcp: bool = True) -> str:
    """A network on SUBNET.0/24 (the bridge at .1, DHCP .10-.60)."""
    forward = f"<forward mode='{mode}'/>" if mode else ""
    ranges = (f"<dhcp><range start='{subnet}.10' end='{subnet}.60'/></dhcp>" if dhcp else "")
    return (f"<network><name>{name}</name>{forward}<bridge name='{bridge}'/>"
            f"<ip address='{subnet}.1' netmask='255.255.255.0'>{ranges}</ip></network>")


def nic(network: str, model: str = "virtio") -> str:
    return (f"<interface type='network'><source network='{network}'/>"
            f"<model type='{model}'/></interface>")


@contextlib.contextmanager
def lab_in_namespaces(tmp: Path, image: Path) -> Iterator[Lab]:
    with namespaces("drv", "out") as (ns, outside):
        ip("link", "add", UPLINK, "type", "veth", "peer", "name", PEER, "netns", outside,
           ns=ns)
        ip("addr", "add", f"{UPLINK_ADDR}/24", "dev", UPLINK, ns=ns)
        ip("link", "set", UPLINK, "up", ns=ns)
        ip("addr", "add", f"{PEER_ADDR}/24", "dev", PEER, ns=outside)
        ip("link", "set", PEER, "up", ns=outside)
        root = tmp / "r"
        with entered(ns):
            driver = QemuDriver(f"qemu:///embed?root={root}", root)
            lab = Lab(ns, outside, root, tmp, image, driver)
            try:
                yield lab
            finally:
                driver = lab.driver      # a test may have opened another on the root
                for ref in driver.connect_list_all_domains(ACTIVE_DOMS):
                    with contextlib.suppress(Exception):
                        driver.domain_destroy_flags(ref)
                for net in driver.network.connect_list_all_networks(ACTIVE_NETS):
                    with contextlib.suppress(Exception):
                        driver.network.network_destroy(net)
                driver.connect_close()
                kill_all_under(tmp)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, tiny_image: Path) -> Iterator[Lab]:
    with lab_in_namespaces(tmp_path_factory.mktemp("netlab"), tiny_image) as made:
        yield made


@dataclass
class NetLab:
    """A network driver alone (no QEMU), in a namespace of its own with an uplink."""

    ns: str
    root: Path
    driver: LocalNetworkDriver

    def reopen(self, ship_default: bool = False) -> LocalNetworkDriver:
        self.driver.close()
        self.driver = LocalNetworkDriver(NetworkPaths.under(self.root),
                                         ship_default=ship_default)
        return self.driver


@pytest.fixture
def netlab(tmp_path: Path) -> Iterator[NetLab]:
    with namespaces("net") as (ns,):
        # (veth: the test kernel may lack the dummy driver)
        ip("link", "add", UPLINK, "type", "veth", "peer", "name", f"{UPLINK}-p", ns=ns)
        ip("addr", "add", f"{UPLINK_ADDR}/24", "dev", UPLINK, ns=ns)
        ip("link", "set", UPLINK, "up", ns=ns)
        with entered(ns):
            made = NetLab(ns, tmp_path / "r",
                          LocalNetworkDriver(NetworkPaths.under(tmp_path / "r")))
            try:
                yield made
            finally:
                for net in made.driver.connect_list_all_networks(ACTIVE_NETS):
                    with contextlib.suppress(Exception):
                        made.driver.network_destroy(net)
                made.driver.close()
