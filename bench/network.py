"""[network] row: net-start to the first guest's DHCP lease (a NAT network started, a tiny
guest started on it, until the guest announces its lease), under qvirt's QEMU driver inside
a network namespace the benchmark creates.

qvirt's in-process driver only; libvirtd's time for the same network and guest is in the
[network-daemon] row (bench/network_daemon.py), through a private libvirtd in namespaces of its
own, beside qvirtd's."""

from __future__ import annotations

import atexit
import contextlib
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import Row
from qvirt import constants as C
from qvirt.builder import build
from qvirt.drivers.qemu.driver import QemuDriver
from tests.drivers.network.netns import entered, namespaces

RUNS = 5
ACTIVE_DOMS = C.VIR_CONNECT_LIST_DOMAINS_ACTIVE
ACTIVE_NETS = C.VIR_CONNECT_LIST_NETWORKS_ACTIVE
LEASE_WAIT = 120.0
NETWORK = ("<network><name>bench</name><forward mode='nat'/><bridge name='qvtbench0'/>"
           "<ip address='192.168.240.1' netmask='255.255.255.0'><dhcp>"
           "<range start='192.168.240.10' end='192.168.240.200'/></dhcp></ip></network>")


def _guest_xml(image: Path, work: Path) -> tuple[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    disk = work / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    str(image / "disk.qcow2"), str(disk)], check=True)
    console = work / "console.log"
    xml = (image / "tiny.xml").read_text().replace(str(image / "disk.qcow2"), str(disk))
    xml = re.sub(r"<serial type='pty'>.*?</console>",
                 f"<serial type='file'><source path='{console}'/><target port='0'/></serial>",
                 xml, flags=re.S)
    xml = re.sub(r"<name>.*?</name>", "<name>bench-net</name>", xml)
    xml = re.sub(r"<interface type='user'>.*?</interface>",
                 "<interface type='network'><source network='bench'/><model type='virtio'/>"
                 "</interface>", xml, flags=re.S)
    return xml, console


def rows() -> list[Row]:
    """The namespace lives from here until the row's last call; the calling thread enters
    it only for each call, so the other groups' rows run where they always do."""
    stack = contextlib.ExitStack()
    work = Path(tempfile.mkdtemp(prefix="qd-bench-net-"))
    stack.callback(shutil.rmtree, work, True)
    build("tiny", work / "image")
    xml, console = _guest_xml(work / "image", work / "guest")
    (ns,) = stack.enter_context(namespaces("bench"))
    with entered(ns):
        driver = QemuDriver(f"qemu:///embed?root={work / 'root'}", work / "root")
        net = driver.network.network_define_xml_flags(NETWORK)
        dom = driver.domain_define_xml_flags(xml)

    def close() -> None:
        with entered(ns):
            for ref in driver.connect_list_all_domains(ACTIVE_DOMS):
                driver.domain_destroy_flags(ref)
            for active in driver.network.connect_list_all_networks(ACTIVE_NETS):
                driver.network.network_destroy(active)
            driver.connect_close()
        stack.close()

    stack.callback(atexit.unregister, close)
    atexit.register(close)
    done = [0]

    def start_to_lease() -> None:
        console.write_text("")
        with entered(ns):
            driver.network.network_create(net)
            driver.domain_create_with_flags(dom)
            deadline = time.monotonic() + LEASE_WAIT
            while "TINY-GUEST-IP" not in console.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the guest got no lease")
                time.sleep(0.01)
            # Timed too, but short beside a boot.
            driver.domain_destroy_flags(dom)
            driver.network.network_destroy(net)
        done[0] += 1
        if done[0] == RUNS + 1:   # the harness's warm-up call, then RUNS timed ones
            close()

    return [Row("net-start to the first guest's DHCP lease", "s", RUNS,
                {"qvirt": start_to_lease}, goal="libvirtd: see the network-daemon row")]
