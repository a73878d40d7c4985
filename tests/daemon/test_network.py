"""Networks through qvirtd, driven by the real virsh and python3-libvirt: the daemon runs
inside a network namespace the test makes (its bridges, nftables rules and dnsmasqs live
there, never in the host's), and the clients reach it by its socket file from outside.

Inactive-network steps also run against libvirtd 9.0 (the oracle never starts a network) and
must print the same, uuids and generated MACs normalized."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon.conftest import Daemon, start_qvirtd, stop_qvirtd, virsh
from tests.drivers.network.netns import ip, namespaces
from tests.drivers.qemu.conftest import kill_all_under, tiny_xml
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

LIBVIRTD_URI = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock"
LIBVIRTD_RO = "qemu+unix:///system?socket=/var/run/libvirt/libvirt-sock-ro"
WAIT = 180.0


@dataclass
class NetDaemon:
    ns: str
    daemon: Daemon
    work: Path

    @property
    def uri(self) -> str:
        return self.daemon.uri

    def virsh(self, *args: str) -> str:
        done = virsh(self.uri, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def netd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetDaemon]:
    """One qvirtd in a namespace of its own for the module (guests boot slowly)."""
    work = tmp_path_factory.mktemp("netd")
    with namespaces("qd") as (ns,):
        daemon = start_qvirtd(work / "r", netns=ns)
        try:
            yield NetDaemon(ns, daemon, work)
        finally:
            out = stop_qvirtd(daemon)
            kill_all_under(work)
            assert daemon.proc.returncode == 0, out


def _net_xml(name: str, bridge: str, subnet: str) -> str:
    return (f"<network><name>{name}</name><forward mode='nat'/><bridge name='{bridge}'/>"
            f"<ip address='{subnet}.1' netmask='255.255.255.0'><dhcp>"
            f"<range start='{subnet}.10' end='{subnet}.60'/></dhcp></ip></network>")


def _file(work: Path, name: str, text: str) -> str:
    path = work / name
    path.write_text(text)
    return str(path)


def test_virsh_network_life(netd: NetDaemon) -> None:
    xml = _file(netd.work, "life.xml", _net_xml("life", "qvtdl0", "192.168.160"))
    assert netd.virsh("net-define", xml) == f"Network life defined from {xml}\n\n"
    assert " life   inactive   no          yes" in netd.virsh("net-list", "--all")
    assert netd.virsh("net-start", "life") == "Network life started\n\n"
    # The bridge is the namespace's, not the host's.
    assert "qvtdl0" in ip("-br", "link", ns=netd.ns)
    assert "qvtdl0" not in ip("-br", "link")
    info = netd.virsh("net-info", "life")
    uuid_text = re.findall(r"UUID:\s+(\S+)", info)[0]
    assert info == (f"Name:           life\nUUID:           {uuid_text}\nActive:         yes\n"
                    "Persistent:     yes\nAutostart:      no\nBridge:         qvtdl0\n\n")
    assert netd.virsh("net-list") == (
        " Name   State    Autostart   Persistent\n"
        "-----------------------------------------\n"
        " life   active   no          yes\n\n")
    assert f"<uuid>{uuid_text}</uuid>" in netd.virsh("net-dumpxml", "life")
    assert netd.virsh("net-uuid", "life") == f"{uuid_text}\n\n"
    assert netd.virsh("net-name", uuid_text) == "life\n\n"
    host = "<host mac='52:54:00:00:00:07' name='seven' ip='192.168.160.7'/>"
    assert netd.virsh("net-update", "life", "add", "ip-dhcp-host", host, "--live",
                      "--config") == "Updated network life persistent config and live state\n"
    assert host in netd.virsh("net-dumpxml", "life")
    assert host in netd.virsh("net-dumpxml", "life", "--inactive")
    # The live update reached dnsmasq's hosts file.
    hosts = netd.work / "r" / "lib" / "dnsmasq" / "life.hostsfile"
    assert "52:54:00:00:00:07,192.168.160.7,seven" in hosts.read_text()
    assert netd.virsh("net-dhcp-leases", "life").startswith(" Expiry Time   MAC address")
    assert netd.virsh("net-autostart", "life") == "Network life marked as autostarted\n\n"
    assert " life   active   yes         yes" in netd.virsh("net-list")
    assert netd.virsh("net-destroy", "life") == "Network life destroyed\n\n"
    assert "qvtdl0" not in ip("-br", "link", ns=netd.ns)
    assert netd.virsh("net-undefine", "life") == "Network life has been undefined\n\n"
    assert " life " not in netd.virsh("net-list", "--all")
    gone = virsh(netd.uri, "net-info", "life")
    assert gone.stderr == ("error: failed to get network 'life'\n"
                           "error: Network not found: no network with matching name 'life'\n")


def test_transient_network_and_legacy_lists(netd: NetDaemon) -> None:
    xml = _file(netd.work, "tr.xml", _net_xml("tr", "qvtdt0", "192.168.161"))
    assert netd.virsh("net-create", xml) == f"Network tr created from {xml}\n\n"
    assert " tr     active   no          no" in netd.virsh("net-list")
    # python3-libvirt's legacy name lists (CONNECT_LIST_NETWORKS and friends).
    script = ("import sys, libvirt\nc = libvirt.open(sys.argv[1])\n"
              "print(c.numOfNetworks(), c.listNetworks(), c.numOfDefinedNetworks(),"
              " c.listDefinedNetworks())\n"
              "n = c.networkLookupByName('tr')\n"
              "print(n.isActive(), n.isPersistent(), n.bridgeName(), n.autostart(),"
              " c.networkLookupByUUIDString(n.UUIDString()).name())\n")
    done = subprocess.run([SYSTEM_PYTHON, "-c", script, netd.uri], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1 ['tr'] 0 []\n1 0 qvtdt0 0 tr\n"
    assert netd.virsh("net-destroy", "tr") == "Network tr destroyed\n\n"
    assert netd.virsh("net-list", "--all").count("\n") == 3


def test_net_event_loop_and_python_events(netd: NetDaemon) -> None:
    xml = _file(netd.work, "ev.xml", _net_xml("ev", "qvtde0", "192.168.162"))
    watcher = subprocess.Popen(["virsh", "-c", netd.uri, "net-event", "--loop", "--event",
                                "lifecycle", "--timeout", "60"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    script = ("import sys, threading, libvirt\n"
              "libvirt.virEventRegisterDefaultImpl()\n"
              "c = libvirt.open(sys.argv[1])\n"
              "seen = []\n"
              "def cb(conn, net, event, detail, opaque):\n"
              "    if net.name() == 'ev':\n"
              "        seen.append((net.name(), event, detail))\n"
              "c.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, cb, None)\n"
              "print('ready', flush=True)\n"
              "while len(seen) < 4:\n"
              "    libvirt.virEventRunDefaultImpl()\n"
              "print(seen)\n")
    listener = subprocess.Popen([SYSTEM_PYTHON, "-c", script, netd.uri],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None and listener.stdout.readline() == "ready\n"
        _wait_registered(netd, watcher)
        for step in (["net-define", xml], ["net-start", "ev"], ["net-destroy", "ev"],
                     ["net-undefine", "ev"]):
            netd.virsh(*step)
        out, _ = listener.communicate(timeout=60)
        assert out == "[('ev', 0, 0), ('ev', 2, 0), ('ev', 3, 0), ('ev', 1, 0)]\n"
        watcher.send_signal(signal.SIGINT)   # virsh's loop ends on SIGINT, output flushed
        events, _ = watcher.communicate(timeout=60)
    finally:
        for proc in (watcher, listener):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [line for line in events.splitlines() if "network ev:" in line] == [
        "event 'lifecycle' for network ev: Defined", "event 'lifecycle' for network ev: Started",
        "event 'lifecycle' for network ev: Stopped",
        "event 'lifecycle' for network ev: Undefined"]


def _wait_registered(netd: NetDaemon, watcher: subprocess.Popen[str]) -> None:
    """Until virsh net-event reports a warm-up network's events: its registration is in."""
    xml = _file(netd.work, "evw.xml", _net_xml("evw", "qvtdw0", "192.168.166"))
    assert watcher.stdout is not None
    deadline = time.monotonic() + WAIT
    while True:
        netd.virsh("net-define", xml)
        netd.virsh("net-undefine", "evw")
        ready, _, _ = select.select([watcher.stdout], [], [], 1.0)
        if ready and "network evw:" in watcher.stdout.readline():
            return
        assert watcher.poll() is None and time.monotonic() < deadline, "no event from virsh"


@pytest.mark.parametrize("command", [
    ("net-define", "{xml}"), ("net-create", "{xml}"), ("net-start", "{name}"),
    ("net-autostart", "{name}"), ("net-undefine", "{name}"), ("net-destroy", "{name}"),
    ("net-update", "{name}", "add", "ip-dhcp-host",
     "<host mac='52:54:00:00:00:08' ip='192.168.163.8'/>", "--config"),
])
def test_read_only_socket_refuses_network_writes(netd: NetDaemon,
                                                 command: tuple[str, ...]) -> None:
    """The read-only socket refuses as libvirtd's does, word for word; the network the
    writes name exists on both (defined read-write, never started)."""
    ensure_libvirtd()
    tag = uuid.uuid4().hex[:8]   # libvirtd is shared: a name and bridge of this test's own
    name = f"qvt-ro-{tag}"
    xml = _file(netd.work, f"{name}.xml", _net_xml(name, f"qvr{tag}", "192.168.163"))
    argv = [a.format(xml=xml, name=name) for a in command]
    outputs = []
    for rw, ro in ((netd.uri, netd.daemon.ro_uri), (LIBVIRTD_URI, LIBVIRTD_RO)):
        assert virsh(rw, "net-define", xml).returncode == 0
        try:
            done = virsh(ro, *argv)
            outputs.append((done.returncode, done.stdout, done.stderr))
            assert virsh(ro, "net-info", name).returncode == 0
        finally:
            virsh(rw, "net-undefine", name)
    assert outputs[0] == outputs[1]
    assert "operation forbidden: read only access prevents virNetwork" in outputs[0][2]


# Inactive-network steps virsh runs the same against both daemons.
SCENARIO = [
    ("net-define", "{xml}"), ("net-info", "{name}"), ("net-dumpxml", "{name}"),
    ("net-dumpxml", "{name}", "--inactive"), ("net-autostart", "{name}"),
    ("net-info", "{name}"), ("net-autostart", "{name}", "--disable"),
    ("net-update", "{name}", "add", "ip-dhcp-host",
     "<host mac='52:54:00:00:00:09' name='nine' ip='192.168.164.9'/>", "--config"),
    ("net-update", "{name}", "add", "ip-dhcp-host",
     "<host mac='52:54:00:00:00:09' ip='192.168.164.19'/>", "--config"),
    ("net-update", "{name}", "modify", "ip-dhcp-host",
     "<host mac='52:54:00:00:00:09' name='nein' ip='192.168.164.9'/>", "--config"),
    ("net-update", "{name}", "add", "dns-host",
     "<host ip='192.168.164.5'><hostname>five</hostname></host>", "--config"),
    ("net-update", "{name}", "add", "ip-dhcp-host",
     "<host mac='52:54:00:00:00:0a' ip='192.168.164.10'/>", "--live"),
    ("net-update", "{name}", "delete", "ip-dhcp-range",
     "<range start='192.168.164.10' end='192.168.164.60'/>", "--config"),
    ("net-dumpxml", "{name}"), ("net-dhcp-leases", "{name}"), ("net-info", "nosuch-{name}"),
    ("net-define", "{xml}"), ("net-create", "{bad}"), ("net-undefine", "{name}"),
    ("net-undefine", "{name}"), ("net-list", "--all", "--name", "--transient"),
]


def _normalize(text: str) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                  text)
    return re.sub(r"<mac address='[0-9a-f:]+'/>", "<mac address='MAC'/>", text)


def _scenario(uri: str, name: str, xml: str, bad: str) -> list[tuple[int, str, str]]:
    out = []
    try:
        for step in SCENARIO:
            done = virsh(uri, *(a.format(name=name, xml=xml, bad=bad) for a in step))
            out.append((done.returncode, _normalize(done.stdout), _normalize(done.stderr)))
    finally:
        virsh(uri, "net-undefine", name)
    return out


def test_inactive_scenario_prints_as_libvirtd(netd: NetDaemon) -> None:
    ensure_libvirtd()
    tag = uuid.uuid4().hex[:8]
    name = f"qvt-sc-{tag}"
    xml = _file(netd.work, f"{name}.xml", _net_xml(name, f"qvs{tag}", "192.168.164"))
    bad = _file(netd.work, f"{name}-bad.xml",
                f"<network><name>{name}-bad</name><forward mode='bogus'/></network>")
    ours = _scenario(netd.uri, name, xml, bad)
    theirs = _scenario(LIBVIRTD_URI, name, xml, bad)
    for step, mine, oracle in zip(SCENARIO, ours, theirs, strict=True):
        assert mine == oracle, step


def test_guest_lease_stats_and_nic_hotplug(netd: NetDaemon, tiny_image: Path) -> None:
    """A guest on a started network: its DHCP lease through net-dhcp-leases, its NIC's
    counters through domifstat, NICs attached and detached while it runs, its link set
    down."""
    xml = _file(netd.work, "gn.xml", _net_xml("gn", "qvtdg0", "192.168.165"))
    netd.virsh("net-define", xml)
    netd.virsh("net-start", "gn")
    dom_xml, _ = tiny_xml(tiny_image, netd.work / "g1", "g1")
    dom_xml = re.sub(r"<interface type='user'>.*?</interface>",
                     "<interface type='network'><source network='gn'/>"
                     "<mac address='52:54:00:aa:00:01'/><model type='virtio'/></interface>",
                     dom_xml, flags=re.S)
    netd.virsh("define", _file(netd.work, "g1.xml", dom_xml))
    try:
        netd.virsh("start", "g1")
        deadline = time.monotonic() + WAIT
        while "52:54:00:aa:00:01" not in (leases := netd.virsh("net-dhcp-leases", "gn")):
            assert time.monotonic() < deadline, "no lease"
            time.sleep(0.5)
        row = next(line for line in leases.splitlines() if "52:54:00:aa:00:01" in line)
        assert re.search(r" ipv4 +192\.168\.165\.\d+/24 ", row), leases
        by_mac = netd.virsh("net-dhcp-leases", "gn", "--mac", "52:54:00:aa:00:01")
        assert row in by_mac
        iflist = netd.virsh("domiflist", "g1")
        dev = re.findall(r"^ (\S+) +network +gn +virtio +52:54:00:aa:00:01", iflist, re.M)[0]
        stats = netd.virsh("domifstat", "g1", dev)
        assert re.search(rf"^{dev} rx_bytes \d+$", stats, re.M), stats
        assert int(re.findall(r"rx_packets (\d+)", stats)[0]) > 0
        assert netd.virsh("attach-interface", "g1", "network", "gn", "--mac",
                          "52:54:00:aa:00:02", "--model", "virtio", "--live") == \
            "Interface attached successfully\n\n"
        assert "52:54:00:aa:00:02" in netd.virsh("domiflist", "g1")
        assert netd.virsh("detach-interface", "g1", "network", "--mac", "52:54:00:aa:00:02",
                          "--live") == "Interface detached successfully\n\n"
        assert "52:54:00:aa:00:02" not in netd.virsh("domiflist", "g1")
        assert "52:54:00:aa:00:02" not in netd.virsh("dumpxml", "g1")
        # The flag-less calls (virsh's attach-device and detach-device without --live or
        # --config: procedures 8 and 13) change the running guest.
        nic = _file(netd.work, "nic3.xml", "<interface type='network'><source network='gn'/>"
                    "<mac address='52:54:00:aa:00:03'/><model type='virtio'/></interface>")
        assert netd.virsh("attach-device", "g1", nic) == "Device attached successfully\n\n"
        assert "52:54:00:aa:00:03" in netd.virsh("domiflist", "g1")
        assert netd.virsh("detach-device", "g1", nic) == "Device detached successfully\n\n"
        assert "52:54:00:aa:00:03" not in netd.virsh("domiflist", "g1")
        # domif-setlink: UPDATE_DEVICE_FLAGS.
        assert netd.virsh("domif-setlink", "g1", dev, "down") == \
            "Device updated successfully\n\n"
        assert netd.virsh("domif-getlink", "g1", dev) == f"{dev} down\n"
    finally:
        virsh(netd.uri, "destroy", "g1")
        virsh(netd.uri, "undefine", "g1")
        virsh(netd.uri, "net-destroy", "gn")
        virsh(netd.uri, "net-undefine", "gn")
