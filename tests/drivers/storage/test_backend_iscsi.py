"""iSCSI pools. iscsiadm needs the kernel's iSCSI initiator (absent here) for discovery, login
and sessions, so those answers are replayed: what iscsiadm really printed here where it fails
(tests/data/storage/iscsi.json), and, for the initiator's successes, open-iscsi's documented
formats filled with what tgtd on 127.0.0.1 really answers through libiscsi (discovery below
runs against a live tgtd). LUNs are then found in a sysfs tree laid out as a real host's."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.drivers.storage.backend import backend_class
from qvirt.drivers.storage.backend_iscsi import ISCSIADM, ISCSIBackend
from qvirt.drivers.storage.backend_scsi import HostPaths
from qvirt.drivers.storage.runner import HostRunner
from qvirt.errors import ErrorNumber, QvirtError
from tests.drivers.storage import sysfs_tree
from tests.support import recorded
from tests.support.iscsi_target import Target, tgtd
from tests.support.oracle import ensure_libvirtd
from tests.support.recorded import RecordedRunner, Step, load, replay

IQN = "iqn.2026-11.org.qvirt:capture"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with tgtd(tmp_path_factory.mktemp("tgtd"), IQN, 16 * MiB) as t:
        yield t


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    data: dict[str, Any] = load("iscsi")["outputs"]
    return data


def sendtargets(target: Target) -> str:
    """iscsiadm's sendtargets line ("PORTAL,TPGT TARGET") for what tgtd really answers:
    the portal and target names iscsi-ls (libiscsi's discovery) reads from it."""
    out = subprocess.run(["iscsi-ls", f"iscsi://{target.portal}"], capture_output=True,
                         text=True, check=True).stdout
    lines = []
    for line in out.splitlines():
        name, portal = line.split()
        lines.append(f"{portal.removeprefix('Portal:')} {name.removeprefix('Target:')}")
    return "\n".join(lines) + "\n"


def pool_doc(port: int, initiator: str | None = None, target: str = IQN) -> StoragePool:
    init = f"<initiator><iqn name='{initiator}'/></initiator>" if initiator else ""
    pool = StoragePool.from_xml(
        f"<pool type='iscsi'><name>i</name><source><host name='127.0.0.1' port='{port}'/>"
        f"<device path='{target}'/>{init}</source>"
        "<target><path>/dev/disk/by-path</path></target></pool>")
    apply_defaults(pool)
    return pool


def session_list(port: int) -> str:
    """`iscsiadm --mode session` with one session (open-iscsi 2.1's format)."""
    return f"tcp: [1] 127.0.0.1:{port},1 {IQN} (non-flash)\n"


def test_table_entry_names_the_iscsi_backend() -> None:
    assert backend_class("iscsi").__name__ == ISCSIBackend.__name__


def test_find_sources_runs_sendtargets_discovery(target: Target) -> None:
    portal = f"{target.portal},1"
    runner = RecordedRunner([Step((ISCSIADM, "--mode", "discovery", "--type", "sendtargets",
                                   "--portal", portal, "--op", "nonpersistent"),
                                  sendtargets(target))])
    spec = f"<source><host name='127.0.0.1' port='{target.port}'/></source>"
    found = ISCSIBackend(runner).find_pool_sources(spec, 0)
    runner.assert_done()
    assert found == ("<sources>\n  <source>\n"
                     f"    <host name='127.0.0.1' port='{target.port}'/>\n"
                     f"    <device path='{IQN}'/>\n  </source>\n</sources>\n")


def test_find_sources_errors(outputs: dict[str, Any]) -> None:
    backend = ISCSIBackend(RecordedRunner([]))
    with pytest.raises(QvirtError) as nospec:
        backend.find_pool_sources(None, 0)
    assert nospec.value.message == ("invalid argument: hostname must be specified for iscsi "
                                    "sources")
    # The default port, and iscsiadm's real failure without the kernel initiator.
    runner = RecordedRunner([replay(outputs["discovery_nodriver"], PORT="3260")])
    with pytest.raises(QvirtError) as nodriver:
        ISCSIBackend(runner).find_pool_sources("<source><host name='127.0.0.1'/></source>", 0)
    assert "unexpected exit status 12: System has not been booted" in nodriver.value.message
    assert nodriver.value.message.rstrip().endswith(
        "iSCSI driver not found. Please make sure it is loaded, and retry the operation")


def test_find_sources_needs_an_interface_for_the_initiator(outputs: dict[str, Any]) -> None:
    runner = RecordedRunner([replay(outputs["iface"])])
    spec = ("<source><host name='127.0.0.1'/><initiator><iqn name='iqn.2026-11.x:none'/>"
            "</initiator></source>")
    with pytest.raises(QvirtError) as noiface:
        ISCSIBackend(runner).find_pool_sources(spec, 0)
    assert noiface.value.code == ErrorNumber.OPERATION_FAILED
    assert noiface.value.message == ("operation failed: no iSCSI interface defined for IQN "
                                     "iqn.2026-11.x:none")


def test_start_makes_the_node_and_logs_in(outputs: dict[str, Any]) -> None:
    port = "3265"
    login_ok = Step((ISCSIADM, "--mode", "node", "--portal", f"127.0.0.1:{port},1",
                     "--targetname", IQN, "--login"),
                    f"Logging in to [iface: default, target: {IQN}, portal: 127.0.0.1,{port}]\n"
                    f"Login to [iface: default, target: {IQN}, portal: 127.0.0.1,{port}] "
                    "successful.\n")
    runner = RecordedRunner([replay(outputs["session_none"]),
                             replay(outputs["node_new"], PORT=port), login_ok])
    pool = pool_doc(int(port))
    ISCSIBackend(runner).start_pool(pool)
    runner.assert_done()
    # Logged in already: nothing more to do.
    runner = RecordedRunner([Step((ISCSIADM, "--mode", "session"), session_list(int(port)))])
    ISCSIBackend(runner).start_pool(pool)
    runner.assert_done()


def test_failed_login_is_iscsiadms_error(outputs: dict[str, Any]) -> None:
    runner = RecordedRunner([replay(outputs["session_none"]),
                             replay(outputs["node_new"], PORT="3265"),
                             replay(outputs["login_nodriver"], PORT="3265")])
    with pytest.raises(QvirtError) as failed:
        ISCSIBackend(runner).start_pool(pool_doc(3265))
    assert "unexpected exit status 20" in failed.value.message
    assert failed.value.message.rstrip().endswith("iscsiadm: Could not log into all portals")


def test_login_through_a_new_interface_for_the_initiator(outputs: dict[str, Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("random.getrandbits", lambda bits: 0x1abcdef)
    initiator = "iqn.2026-11.org.qvirt:initiator"
    iface = "libvirt-iface-01abcdef"
    listed = replay(outputs["iface"])
    with_iface = dataclasses.replace(
        listed, stdout=listed.stdout + f"{iface} tcp,<empty>,<empty>,<empty>,{initiator}\n")
    portal = "127.0.0.1:3265,1"
    runner = RecordedRunner([
        replay(outputs["session_none"]),
        replay(outputs["node_new"], PORT="3265"),
        listed,
        Step((ISCSIADM, "--mode", "iface", "--interface", iface, "--op", "new")),
        Step((ISCSIADM, "--mode", "iface", "--interface", iface, "--op", "update", "--name",
              "iface.initiatorname", "--value", initiator)),
        with_iface,
        Step((ISCSIADM, "--mode", "discovery", "--type", "sendtargets", "--portal", portal,
              "--interface", iface), f"{portal} {IQN}\n"),
        Step((ISCSIADM, "--mode", "node", "--portal", portal, "--targetname", IQN, "--login",
              "--interface", iface)),
    ])
    ISCSIBackend(runner).start_pool(pool_doc(3265, initiator))
    runner.assert_done()


def test_refresh_rescans_and_finds_the_luns(tmp_path: Path) -> None:
    sys, dev = sysfs_tree.build(tmp_path, IQN, 3265)
    by_path = f"{dev}/disk/by-path/ip-127.0.0.1:3265-iscsi-{IQN}-lun-1"
    runner = RecordedRunner([
        Step((ISCSIADM, "--mode", "session"), session_list(3265)),
        Step((ISCSIADM, "--mode", "session", "-r", "1", "-R"),
             f"Rescanning session [sid: 1, target: {IQN}, portal: 127.0.0.1,3265]\n"),
        # tgt's LUN 1 identifier (NAA 6, from its "IET 00010001" SCSI id) as scsi_id prints it.
        Step(("/lib/udev/scsi_id", "--replace-whitespace", "--whitelisted", "--device",
              by_path), "360000000000000000e00000000010001\n"),
    ])
    state = ISCSIBackend(runner, HostPaths(str(sys), str(dev))).refresh_pool(pool_doc(3265))
    runner.assert_done()
    (vol,) = state.volumes
    assert (vol.name, vol.key, vol.capacity) == ("unit:0:0:1",
                                                 "360000000000000000e00000000010001", 16 * MiB)
    assert vol.target is not None and vol.target.path == by_path
    assert (state.capacity, state.allocation, state.available) == (16 * MiB, 16 * MiB, 0)


def test_refresh_without_a_session(outputs: dict[str, Any]) -> None:
    runner = RecordedRunner([replay(outputs["session_none"])])
    with pytest.raises(QvirtError) as nosession:
        ISCSIBackend(runner).refresh_pool(pool_doc(3265))
    assert nosession.value.message == ("internal error: cannot find iscsiadm session: "
                                       "iscsiadm: No active sessions.\n")


def test_stop_logs_out_only_a_live_session(outputs: dict[str, Any]) -> None:
    runner = RecordedRunner([replay(outputs["session_none"])])
    ISCSIBackend(runner).stop_pool(pool_doc(3265))
    runner.assert_done()
    runner = RecordedRunner([
        Step((ISCSIADM, "--mode", "session"), session_list(3265)),
        Step((ISCSIADM, "--mode", "node", "--portal", "127.0.0.1:3265,1", "--targetname", IQN,
              "--logout"),
             f"Logging out of session [sid: 1, target: {IQN}, portal: 127.0.0.1,3265]\n"
             f"Logout of [sid: 1, target: {IQN}, portal: 127.0.0.1,3265] successful.\n"),
    ])
    ISCSIBackend(runner).stop_pool(pool_doc(3265))
    runner.assert_done()


def test_check_pool_needs_one_host_and_device() -> None:
    pool = pool_doc(3265)
    assert pool.source is not None
    pool.source.devices = []
    with pytest.raises(QvirtError) as nodev:
        ISCSIBackend(RecordedRunner([])).check_pool(pool)
    assert nodev.value.message == "internal error: missing source device"


def test_discovery_fails_as_libvirts_does_here(target: Target) -> None:
    """Without the kernel initiator iscsiadm's discovery fails; libvirtd 9.0 runs the same
    command and reports the same failure (compared with blanks collapsed: libvirt keeps the
    tool's output as it was, runner.command_failed strips it)."""
    ensure_libvirtd()
    oracle = subprocess.run(["virsh", "-c", "qemu:///system", "find-storage-pool-sources-as",
                             "iscsi", "127.0.0.1", str(target.port)],
                            capture_output=True, text=True, check=False)
    assert oracle.returncode == 1
    said = oracle.stderr.split("\nerror: ", 1)[1].strip()
    assert said.startswith("internal error: Child process (/usr/bin/iscsiadm --mode discovery")
    spec = f"<source><host name='127.0.0.1' port='{target.port}'/></source>"
    with pytest.raises(QvirtError) as ours:
        ISCSIBackend(HostRunner()).find_pool_sources(spec, 0)
    assert recorded.said(ours.value.message) == recorded.said(said)
