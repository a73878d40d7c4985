"""A running network compared with libvirtd 9.0's: the same virsh scenario (a NAT network
started, the tiny guest booted on it until its DHCP lease shows, the network destroyed) run
against a private libvirtd (tests/support/private_libvirtd.py: its own network and mount
namespaces) and against qvirtd in a namespace of its own. Both sides get the same names,
bridge, subnet, uuids and MAC, so only what neither side chooses (lease expiry times) is
normalized.

While the guest holds its lease, the host side is compared too: the dnsmasq configuration
(only the directories differ, and qvirt's user= line: it runs dnsmasq as its own user) and
the NAT rules (libvirt 9.0's iptables-nft LIBVIRT_PRT chain, listed by nft, against qvirt's
own nftables chain: the same rules, counters aside)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from qvirt.drivers.network.firewall import TABLE
from qvirt.drivers.network.paths import NetworkPaths
from tests.daemon.conftest import start_qvirtd, stop_qvirtd, virsh
from tests.drivers.network.netns import namespaces
from tests.drivers.qemu.conftest import kill_all_under, tiny_xml
from tests.support.private_libvirtd import PrivateLibvirtd, private_libvirtd

WAIT = 180.0
MAC = "52:54:00:c0:1d:01"
NET_UUID = "5f3a2b1c-9d8e-4f70-a1b2-c3d4e5f60718"
DOM_UUID = "6a4b3c2d-1e0f-4a81-b2c3-d4e5f6071829"
NETWORK = ("<network><name>cmp</name><uuid>" + NET_UUID + "</uuid><forward mode='nat'/>"
           "<bridge name='qvtcmp0'/><mac address='52:54:00:c0:1d:fe'/>"
           "<ip address='192.168.170.1' netmask='255.255.255.0'><dhcp>"
           "<range start='192.168.170.10' end='192.168.170.60'/></dhcp></ip></network>")

Step = tuple[str, ...]
BEFORE_LEASE: list[Step] = [("net-define", "{net}"), ("net-start", "cmp"), ("net-dumpxml", "cmp"),
                            ("net-info", "cmp"), ("define", "{dom}"), ("start", "g")]
# A stopped network keeps its leases (listed, and handed out again once it restarts); an
# undefined one loses them.
AFTER_LEASE: list[Step] = [("net-dhcp-leases", "cmp"), ("net-dhcp-leases", "cmp", "--mac", MAC),
                           ("domiflist", "g"), ("destroy", "g"), ("net-destroy", "cmp"),
                           ("net-info", "cmp"), ("net-dumpxml", "cmp"),
                           ("net-dhcp-leases", "cmp"), ("net-start", "cmp"),
                           ("net-dhcp-leases", "cmp"), ("net-destroy", "cmp"), ("undefine", "g"),
                           ("net-undefine", "cmp"), ("net-define", "{net}"),
                           ("net-dhcp-leases", "cmp"), ("net-undefine", "cmp")]


def _files(tiny_image: Path, work: Path) -> dict[str, str]:
    xml, _ = tiny_xml(tiny_image, work, "g")
    xml = re.sub(r"<uuid>.*?</uuid>", "", xml)
    xml = xml.replace("<name>g</name>", f"<name>g</name><uuid>{DOM_UUID}</uuid>")
    xml = re.sub(r"<interface type='user'>.*?</interface>",
                 f"<interface type='network'><source network='cmp'/><mac address='{MAC}'/>"
                 "<model type='virtio'/></interface>", xml, flags=re.S)
    (work / "g.xml").write_text(xml)
    (work / "cmp.xml").write_text(NETWORK)
    return {"dom": str(work / "g.xml"), "net": str(work / "cmp.xml")}


def _normalize(text: str) -> str:
    """Lease expiry times: the moment each guest asked."""
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", text)


def _nat_rules(ns: str, family_table_chain: str) -> list[str]:
    """The chain's rules; not its hook line (qvirt's chain is a base chain, libvirt's
    LIBVIRT_PRT a regular one jumped to from POSTROUTING)."""
    listing = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "chain",
                              *family_table_chain.split()], capture_output=True, text=True,
                             check=True).stdout
    rules = [line.strip() for line in listing.splitlines()[2:]
             if line.strip() not in ("", "}") and not line.strip().startswith("type ")]
    return [re.sub(r"counter packets \d+ bytes \d+", "counter", rule) for rule in rules]


def _dnsmasq_conf(path: Path, state_dir: str, dnsmasq_dir: str) -> str:
    text = path.read_text().replace(state_dir, "STATE").replace(dnsmasq_dir, "DNSMASQ")
    return re.sub(r"^user=.*\n", "", text, flags=re.M)


def _libvirtd_host(libvirtd: PrivateLibvirtd) -> tuple[str, list[str]]:
    conf = _dnsmasq_conf(libvirtd.inside("/var/lib/libvirt/dnsmasq/cmp.conf"),
                         "/run/libvirt/network", "/var/lib/libvirt/dnsmasq")
    return conf, _nat_rules(libvirtd.ns, "ip nat LIBVIRT_PRT")


def _qvirtd_host(root: Path, ns: str) -> tuple[str, list[str]]:
    paths = NetworkPaths.under(root)
    conf = _dnsmasq_conf(paths.dnsmasq("cmp", "conf"), str(paths.state_dir),
                         str(paths.dnsmasq_dir))
    return conf, _nat_rules(ns, f"ip {TABLE} nat_qvtcmp0")


def _scenario(uri: str, files: dict[str, str],
              host: Callable[[], tuple[str, list[str]]]) -> list[object]:
    out: list[object] = []

    def run(step: tuple[str, ...]) -> None:
        done = virsh(uri, *(arg.format(**files) for arg in step))
        out.append((done.returncode, _normalize(done.stdout.replace(files["net"], "NET")
                                                .replace(files["dom"], "DOM")),
                    _normalize(done.stderr)))

    try:
        for step in BEFORE_LEASE:
            run(step)
        deadline = time.monotonic() + WAIT
        while MAC not in virsh(uri, "net-dhcp-leases", "cmp").stdout:
            assert time.monotonic() < deadline, f"no lease: {out}"
            time.sleep(0.5)
        out.append(host())
        for step in AFTER_LEASE:
            run(step)
    finally:
        for step in (("destroy", "g"), ("undefine", "g"), ("net-destroy", "cmp"),
                     ("net-undefine", "cmp")):
            virsh(uri, *step)
    return out


def test_running_network_prints_as_libvirtd(tiny_image: Path, tmp_path: Path) -> None:
    with private_libvirtd() as libvirtd:
        theirs = _scenario(libvirtd.uri, _files(tiny_image, tmp_path / "lv"),
                           lambda: _libvirtd_host(libvirtd))
    with namespaces("qdcmp") as (ns,):
        daemon = start_qvirtd(tmp_path / "r", netns=ns)
        try:
            ours = _scenario(daemon.uri, _files(tiny_image, tmp_path / "qv"),
                             lambda: _qvirtd_host(daemon.root, ns))
        finally:
            log = stop_qvirtd(daemon)
            kill_all_under(tmp_path)
    assert daemon.proc.returncode == 0, log
    steps = [*BEFORE_LEASE, ("host",), *AFTER_LEASE]
    assert [(step, mine) for step, mine, oracle in zip(steps, ours, theirs, strict=True)
            if mine != oracle] == []
    assert ours == theirs
    host = theirs[len(BEFORE_LEASE)]   # not equal by being empty
    assert isinstance(host, tuple)
    conf, nat = host
    assert "dhcp-range=192.168.170.10,192.168.170.60,255.255.255.0" in conf
    assert any(rule.endswith("masquerade to :1024-65535") for rule in nat)
