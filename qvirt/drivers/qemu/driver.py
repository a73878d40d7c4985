"""The QEMU driver for qemu:///embed?root=DIR: domains defined, started and watched in the
calling process, every file under DIR.

The driver interface is synchronous (one call per public API); the driver's work is not: every
QEMU has a monitor that speaks whenever the guest does something. So the driver owns one
asyncio loop on a thread of its own, and each interface method runs a coroutine there and
waits for it (look-ups and queries about a domain that is not running read the driver's maps
from the caller's thread instead: see _check_open). Jobs that change a domain hold its job
lock; queries read without it. QEMU processes outlive the driver; a new driver on the same
root takes them back from their status files (qemuProcessReconnect).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import logging
import operator
import os
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qvirt import constants as C
from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices.chardev import ChrSource
from qvirt.conf.domain import Domain
from qvirt.drivers.base import (
    DomainInfo,
    DomainRef,
    InterfaceStats,
    LifecycleCallback,
    NodeInfo,
)
from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.drivers.node import hoststats
from qvirt.drivers.node.hostinfo import node_info, security_models
from qvirt.drivers.qemu import metadata, nic
from qvirt.drivers.qemu.capabilities import (
    QemuCapsCache,
    capabilities_xml,
    domain_capabilities_xml,
    max_vcpus,
)
from qvirt.drivers.qemu.console import Consoles, PtyStream, pick_console
from qvirt.drivers.qemu.cpu_live import update_guest_cpu
from qvirt.drivers.qemu.disk_chain import number_storage
from qvirt.drivers.qemu.disk_volumes import restore_volumes, translate_volumes
from qvirt.drivers.qemu.domain_setup import (
    channel_socket_names,
    check_host_files,
    label_dac,
    place_channel_sockets,
    set_partition,
)
from qvirt.drivers.qemu.domain_vm import AGENT_CHANNEL, VM
from qvirt.drivers.qemu.events import EventHub
from qvirt.drivers.qemu.paths import DriverPaths, reachable, too_long
from qvirt.drivers.qemu.process import (
    MONITOR_WAIT,
    QemuProcess,
    append_log,
    cpu_time,
    qemu_env,
    read_from,
)
from qvirt.drivers.qemu.state import (
    Crashed,
    CrashedDetail,
    CreateFlags,
    Defined,
    DefineFlags,
    DestroyFlags,
    Event,
    ListFlags,
    Paused,
    Resumed,
    Running,
    Shutdown,
    ShutdownDetail,
    ShutdownFlags,
    Shutoff,
    Started,
    State,
    Stopped,
    Suspended,
    UndefineFlags,
    XMLFlags,
    reason_name,
)
from qvirt.drivers.qemu.status import Status, live_id
from qvirt.drivers.storage.driver import LocalStorageDriver
from qvirt.drivers.storage.paths import StoragePaths
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InvalidArg,
    OperationFailed,
    OperationInvalid,
    QvirtError,
)
from qvirt.util.fileio import atomic_write, remove
from qvirt.util.filestream import FileStream

if TYPE_CHECKING:
    # Loaded when a guest starts or is found running: a daemon holding only definitions
    # never pays for the command line builder, QMP or the agent.
    from qvirt.drivers.qemu.monitor import QemuMonitor

log = logging.getLogger(__name__)
T = TypeVar("T")

# The lifecycle actions (<on_poweroff>, <on_reboot>, <on_crash>) that end in a restart.
RESTART_ACTIONS = ("restart", "rename-restart", "coredump-restart")
DESTROY_ACTIONS = ("destroy", "coredump-destroy")
# How long a destroy waits, once QEMU is dead, for the events it sent before it went.
DRAIN_WAIT = 5.0


def no_domain(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_DOMAIN, domain=ErrorDomain.QEMU)


# What virDomainGetMetadata and virDomainSetMetadata take: where to look or change.
METADATA_FLAGS = C.VIR_DOMAIN_AFFECT_LIVE | C.VIR_DOMAIN_AFFECT_CONFIG

# QEMU 7.1 added screendump's format argument, and PNG with it.
PNG_SCREENDUMP = 7_001_000


def not_running(domain: ErrorDomain = ErrorDomain.DOMAIN) -> QvirtError:
    """Most checks are virDomainObjCheckActive's (domain DOMAIN); a few of the QEMU driver's
    own say it themselves (domain QEMU)."""
    return OperationInvalid("domain is not running", domain=domain)


def check_flags(flags: int, allowed: int, func: str) -> None:
    if flags & ~allowed:
        raise InvalidArg(f"unsupported flags (0x{flags & ~allowed:x}) in function {func}",
                         domain=ErrorDomain.QEMU)


_NAME = operator.attrgetter("name")


def _all(enum: Any) -> int:
    value = 0
    for member in enum:
        value |= int(member)
    return value


class QemuDriver:
    """HypervisorDriver for qemu:///embed?root=ROOT."""

    def __init__(self, uri: str, root: Path | DriverPaths,
                 storage_paths: StoragePaths | None = None,
                 network_paths: NetworkPaths | None = None,
                 ship_default_network: bool = False) -> None:
        self.uri = uri
        self.paths = root if isinstance(root, DriverPaths) else DriverPaths.under(Path(root))
        self.paths.make_dirs()
        self._lock_fd = _acquire_root(self.paths.driver_lock)
        if storage_paths is None:
            assert not isinstance(root, DriverPaths), "a driver layout names its storage"
            storage_paths = StoragePaths.under(Path(root))
        self.storage = LocalStorageDriver(storage_paths)
        if network_paths is None:
            assert not isinstance(root, DriverPaths), "a driver layout names its networks"
            network_paths = NetworkPaths.under(Path(root))
        self.network = LocalNetworkDriver(network_paths, ship_default=ship_default_network)
        # One cache per driver: probes are kept in memory after the first read from disk.
        self.caps = QemuCapsCache(self.paths.cache_dir)
        self._facts: GuestFacts | None = None
        self._vms: dict[str, VM] = {}          # by uuid
        self._names: dict[str, VM] = {}        # the same, by name (lookups are frequent)
        # Each persistent definition's XML, formatted once: (the definition, its XML).
        self._formatted: dict[str, tuple[Domain, str]] = {}
        self._last_id = self._read_last_id()
        self._events = EventHub()
        self._consoles = Consoles()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="qvirt-qemu-driver", daemon=True)
        self._thread.start()
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        # (domain uuid, device alias) -> set when QEMU reports the device gone.
        self._removals: dict[tuple[str, str], asyncio.Event] = {}
        try:
            self._run(self._load())
        except BaseException:
            self._stop_loop()
            raise
        # A process that exits without closing still closes its connection, as a client that
        # goes away does in libvirt (autodestroy domains die); its other QEMUs keep running.
        atexit.register(_close_at_exit, weakref.ref(self))

    # Plumbing ---------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise QvirtError("connection closed", code=ErrorNumber.INVALID_CONN)
        if threading.current_thread() is self._thread:
            coro.close()
            raise QvirtError("driver called from its own event loop",
                             code=ErrorNumber.INTERNAL_ERROR)
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """A background task of the loop (event handling), kept referenced until done."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("QEMU driver task failed", exc_info=task.exception())

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
        self._events.close()
        os.close(self._lock_fd)

    async def _get_facts(self) -> GuestFacts:
        if self._facts is None:
            self._facts = await asyncio.to_thread(
                lambda: self.caps.for_arch().guest_facts())
        return self._facts

    def _emit(self, vm: VM, event: Event, detail: int) -> None:
        self._events.emit(vm.ref(), event, detail)

    def _read_last_id(self) -> int:
        try:
            return int(self.paths.last_id_file.read_text().strip())
        except (OSError, ValueError):
            return 0

    def _next_id(self) -> int:
        self._last_id += 1
        atomic_write(self.paths.last_id_file, f"{self._last_id}\n")
        return self._last_id

    # Look-ups ----------------------------------------------------------------------------

    def _by_name(self, name: str) -> VM | None:
        return self._names.get(name)

    def _add(self, vm: VM) -> None:
        self._vms[vm.uuid] = vm
        self._names[vm.name] = vm

    def _drop(self, vm: VM) -> None:
        self._vms.pop(vm.uuid, None)
        self._formatted.pop(vm.uuid, None)
        if self._names.get(vm.name) is vm:
            del self._names[vm.name]

    def _check_open(self) -> None:
        """What _run checks, for the few reads that skip the loop: look-ups, and queries about
        a domain that is not running. They read the maps and a VM's config from the calling
        thread: a dict read is atomic, and the loop replaces a VM's id and config whole (it
        never edits a config in place), so such a read is the state before or after a
        change, as a trip to the loop would be, at a fraction of the cost."""
        if self._closed:
            raise QvirtError("connection closed", code=ErrorNumber.INVALID_CONN)

    def _inactive_config(self, ref: DomainRef) -> Domain | None:
        """The definition of ``ref`` if it is defined and not running (see _check_open)."""
        self._check_open()
        vm = self._vms.get(ref.uuid)
        if vm is None or vm.active:
            return None
        return vm.config

    def _vm(self, ref: DomainRef) -> VM:
        vm = self._vms.get(ref.uuid)
        if vm is None:
            raise no_domain(f"no domain with matching uuid '{ref.uuid}' ({ref.name})")
        return vm

    def _active_vm(self, ref: DomainRef) -> VM:
        vm = self._vm(ref)
        if not vm.active:
            raise not_running()
        return vm

    # Start-up: configs, statuses, reconnection, autostart -------------------------------

    async def _load(self) -> None:
        for path in sorted(self.paths.config_dir.glob("*.xml")):
            try:
                dom = Domain.from_xml(path.read_text())
            except (OSError, QvirtError) as err:
                log.error("skipping config %s: %s", path, err)
                continue
            self._add(VM(str(dom.name), str(dom.uuid), dom))
        for path in sorted(self.paths.state_dir.glob("*.xml")):
            await self._reconnect(path)
        for vm in list(self._vms.values()):
            if vm.persistent and not vm.active and self.paths.autostart_link(vm.name).exists():
                try:
                    async with vm.job:
                        await self._start(vm, 0)
                except QvirtError as err:
                    log.error("autostart of '%s' failed: %s", vm.name, err)

    async def _reconnect(self, path: Path) -> None:
        from qvirt.drivers.qemu.monitor import QemuMonitor
        try:
            status = Status.from_xml(path.read_text())
            live = Domain.from_xml(status.live_xml)
        except (OSError, ValueError, QvirtError) as err:
            log.error("dropping unreadable status %s: %s", path, err)
            remove(path)
            return
        dom_id = live_id(status.live_xml)
        self._last_id = max(self._last_id, dom_id)
        vm = self._vms.get(str(live.uuid))
        if vm is None:
            vm = VM(str(live.name), str(live.uuid), None)
            self._add(vm)
        live.id = str(dom_id)
        # A dynamic label is the process's: not read back from a document, made again.
        label_dac(live, os.getuid(), os.getgid())
        vm.live, vm.id = live, dom_id
        vm.state, vm.reason = status.state, status.reason
        vm.runtime_dir, vm.monitor_path = status.runtime_dir, status.monitor
        vm.autodestroy = status.autodestroy
        proc = QemuProcess(status.pid)
        vm.proc = proc
        if proc.alive() and proc.has_arg(str(live.uuid)):
            try:
                with reachable(status.monitor) as address:
                    vm.monitor = await QemuMonitor.connect(address, vm.name,
                                                           _Handler(self, vm), timeout=10)
                await vm.monitor.load_commands()
                # qvirt's parser forgets pty paths (libvirt's, only in definitions):
                # QEMU tells them again.
                await self._fill_ptys(vm)
                run = await vm.monitor.query_status()
                self._refresh_state(vm, run.running, run.status)
                self._attach_agent(vm)
                await self._refresh_channels(vm)
                await asyncio.to_thread(nic.reclaim_host_sides, live, self.network)
                self._save_status(vm)
                if vm.state == State.SHUTDOWN:
                    # The guest powered off while no driver watched: finish what the
                    # SHUTDOWN event would have done (qemuProcessReconnect likewise).
                    vm.pending_stop = (Shutoff.SHUTDOWN, Stopped.SHUTDOWN)
                    self._spawn(self._kill_quietly(vm))
                return
            except QvirtError as err:
                log.error("cannot reconnect to '%s': %s", vm.name, err)
                with contextlib.suppress(QvirtError):
                    await proc.kill()
        await self._stop(vm, Shutoff.CRASHED, None)

    def _refresh_state(self, vm: VM, running: bool, status: str) -> None:
        """What QEMU says now wins over what the status file remembered."""
        if running:
            if vm.state != State.RUNNING:
                vm.state, vm.reason = State.RUNNING, Running.UNPAUSED
        elif status == "shutdown":
            vm.state, vm.reason = State.SHUTDOWN, Shutdown.UNKNOWN
        elif status == "guest-panicked":
            vm.state, vm.reason = State.CRASHED, Crashed.PANICKED
        elif vm.state == State.RUNNING:
            vm.state, vm.reason = State.PAUSED, Paused.UNKNOWN

    # Persistence -------------------------------------------------------------------------

    def _save_status(self, vm: VM) -> None:
        assert vm.live is not None and vm.proc is not None
        assert vm.monitor_path is not None and vm.runtime_dir is not None
        Status(vm.state, vm.reason, vm.proc.pid, vm.monitor_path, vm.runtime_dir,
               vm.live.to_xml(), vm.autodestroy).save(self.paths.status(vm.name))

    def _save_config(self, dom: Domain) -> None:
        text = dom.to_xml()
        atomic_write(self.paths.config(str(dom.name)), text)
        self._formatted[str(dom.uuid)] = (dom, text)

    def _config_xml(self, vm: VM) -> str:
        """The persistent definition's XML, formatted once per definition: a define replaces
        the Domain object, nothing edits one in place."""
        config = vm.config
        assert config is not None
        cached = self._formatted.get(vm.uuid)
        if cached is None or cached[0] is not config:
            cached = (config, config.to_xml())
            self._formatted[vm.uuid] = cached
        return cached[1]

    # DeviceDriver: NICs ------------------------------------------------------------------

    def _affects(self, vm: VM, flags: int) -> tuple[bool, bool]:
        """virDomainObjUpdateModificationImpact: (live, config) for AFFECT_* ``flags``."""
        if not flags & METADATA_FLAGS:
            flags |= C.VIR_DOMAIN_AFFECT_LIVE if vm.active else C.VIR_DOMAIN_AFFECT_CONFIG
        if flags & C.VIR_DOMAIN_AFFECT_LIVE and not vm.active:
            raise not_running()
        if flags & C.VIR_DOMAIN_AFFECT_CONFIG and not vm.persistent:
            raise OperationInvalid("transient domains do not have any persistent config")
        return bool(flags & C.VIR_DOMAIN_AFFECT_LIVE), bool(flags & C.VIR_DOMAIN_AFFECT_CONFIG)

    def domain_attach_device_flags(self, dom: DomainRef, xml: str, flags: int = 0) -> None:
        check_flags(flags, METADATA_FLAGS, "domain_attach_device_flags")
        self._run(self._attach_device(self._vm(dom), xml, flags))

    async def _attach_device(self, vm: VM, xml: str, flags: int) -> None:
        from qvirt.drivers.qemu import hotplug
        async with vm.job:
            live, config = self._affects(vm, flags)
            facts = await self._get_facts()
            mac = None
            if live:
                assert vm.live is not None and vm.monitor is not None
                net = hotplug.parse_interface(xml, "live attach")
                new_live = hotplug.with_new(vm.live, net, facts, aliases=True)
                added = new_live.devices.interfaces[-1]
                await hotplug.attach_live(vm.monitor, new_live, added, self.network)
                vm.live, mac = new_live, added.mac
                self._save_status(vm)
            if config:
                assert vm.config is not None
                net = hotplug.parse_interface(xml, "persistent attach")
                net.mac = net.mac or mac
                new_config = hotplug.with_new(vm.config, net, facts, aliases=False)
                vm.config = new_config
                self._save_config(new_config)

    def domain_detach_device_flags(self, dom: DomainRef, xml: str, flags: int = 0) -> None:
        check_flags(flags, METADATA_FLAGS, "domain_detach_device_flags")
        self._run(self._detach_device(self._vm(dom), xml, flags))

    async def _detach_device(self, vm: VM, xml: str, flags: int) -> None:
        from qvirt.drivers.qemu import hotplug
        async with vm.job:
            live, config = self._affects(vm, flags)
            wanted = hotplug.parse_interface(xml, "live detach" if live else
                                             "persistent detach")
            new_config = None
            if config:
                assert vm.config is not None
                new_config = hotplug.without(vm.config, hotplug.find(vm.config, wanted))
            if live:
                assert vm.live is not None and vm.monitor is not None
                alias = str(hotplug.find(vm.live, wanted).alias)
                deleted = asyncio.Event()
                self._removals[(vm.uuid, alias)] = deleted
                try:
                    await vm.monitor.execute("device_del", {"id": alias})
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(deleted.wait(), hotplug.REMOVAL_WAIT)
                finally:
                    self._removals.pop((vm.uuid, alias), None)
                if deleted.is_set():
                    await self._remove_nic(vm, alias)
            if new_config is not None:
                vm.config = new_config
                self._save_config(new_config)

    async def _remove_nic(self, vm: VM, alias: str) -> None:
        from qvirt.drivers.qemu import hotplug
        if vm.live is None:
            return
        for net in vm.live.devices.interfaces:
            if net.alias == alias:
                await hotplug.finish_removal(vm.monitor, net, self.network)
                vm.live = hotplug.without(vm.live, net)
                self._save_status(vm)
                return

    def on_device_deleted(self, vm: VM, data: dict[str, Any]) -> None:
        """A device the guest let go: a detach waiting for it goes on; one that stopped
        waiting left the removal to this event."""
        alias = str(data.get("device", ""))
        waiter = self._removals.get((vm.uuid, alias))
        if waiter is not None:
            waiter.set()
        elif alias.startswith("net"):
            self._spawn(self._late_removal(vm, alias))

    async def _late_removal(self, vm: VM, alias: str) -> None:
        async with vm.job:
            await self._remove_nic(vm, alias)

    def domain_update_device_flags(self, dom: DomainRef, xml: str, flags: int = 0) -> None:
        check_flags(flags, METADATA_FLAGS | C.VIR_DOMAIN_DEVICE_MODIFY_FORCE,
                    "domain_update_device_flags")
        self._run(self._update_device(self._vm(dom), xml, flags))

    async def _update_device(self, vm: VM, xml: str, flags: int) -> None:
        from qvirt.drivers.qemu import hotplug
        async with vm.job:
            live, config = self._affects(vm, flags & METADATA_FLAGS)
            wanted = hotplug.parse_interface(xml, "live update" if live else
                                             "persistent update")
            new_config = None
            if config:
                assert vm.config is not None
                new_config = hotplug.replaced(vm.config, wanted, await self._get_facts())
            if live:
                assert vm.live is not None and vm.monitor is not None
                current = hotplug.find(vm.live, wanted)
                hotplug.check_change(current, wanted)
                if (current.link_state or "up") != (wanted.link_state or "up"):
                    await hotplug.set_link(vm.monitor, current, wanted.link_state)
                vm.live = hotplug.with_link(vm.live, wanted)
                self._save_status(vm)
            if new_config is not None:
                vm.config = new_config
                self._save_config(new_config)

    def domain_interface_stats(self, dom: DomainRef, device: str) -> InterfaceStats:
        """Read in the caller's thread: netlink answers there, not on the driver's loop."""
        from qvirt.drivers.qemu import hotplug
        self._check_open()
        vm = self._vm(dom)
        live = vm.live
        if not vm.active or live is None:
            raise not_running()
        return hotplug.stats(live, device)

    # ConnectDriver -----------------------------------------------------------------------

    def connect_get_type(self) -> str:
        return "QEMU"

    def connect_get_version(self) -> int:
        # The facts never change once known: no trip to the loop for them after the first.
        facts = self._facts if self._facts is not None else self._run(self._get_facts())
        return self.caps.get(facts.emulator).version

    def connect_get_hostname(self) -> str:
        return socket.gethostname()

    def connect_get_uri(self) -> str:
        return self.uri

    def connect_get_capabilities(self) -> str:
        # QEMU runs as the daemon's own user here (root), which libvirt's DAC model prints.
        uid, gid = os.getuid(), os.getgid()
        return capabilities_xml(self.caps.all_guests(), dac_label=f"+{uid}:+{gid}")

    def connect_get_domain_capabilities(self, emulator: str | None, arch: str | None,
                                        machine: str | None, virttype: str | None,
                                        flags: int = 0) -> str:
        check_flags(flags, 0, "connect_get_domain_capabilities")
        caps = self.caps.get(emulator) if emulator else self.caps.for_arch(arch)
        return domain_capabilities_xml(caps, machine, virttype, arch)

    def connect_get_max_vcpus(self, type: str | None) -> int:
        return max_vcpus(type)

    def node_get_info(self) -> NodeInfo:
        return node_info()

    def connect_domain_xml_to_native(self, native_format: str, xml: str,
                                     flags: int = 0) -> str:
        check_flags(flags, 0, "qemuConnectDomainXMLToNative")
        # Imported here: the command builder loads only when a guest runs or is converted.
        from qvirt.drivers.qemu.native import PRETEND_ID, check_format, xml_to_argv

        check_format(native_format)
        facts = self._facts if self._facts is not None else self._run(self._get_facts())
        return xml_to_argv(xml, facts, lambda name: self.paths.runtime_dir(PRETEND_ID, name),
                           lambda dom: translate_volumes(dom, self.storage))

    def connect_close(self) -> None:
        """Autodestroy domains die with the connection; every other QEMU keeps running."""
        if self._closed:
            return
        self._run(self._close())
        self._closed = True
        self._stop_loop()
        self.storage.close()
        self.network.close()

    async def _close(self) -> None:
        for vm in list(self._vms.values()):
            if vm.active and vm.autodestroy:
                with contextlib.suppress(QvirtError):
                    await self._destroy(vm, 0)
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        # A cancelled start still kills the QEMU it spawned before the loop goes.
        await asyncio.gather(*pending, return_exceptions=True)
        for vm in self._vms.values():
            await self._detach(vm)

    async def _detach(self, vm: VM) -> None:
        if vm.monitor is not None:
            monitor, vm.monitor = vm.monitor, None
            from qvirt.drivers.qemu.monitor import MonitorError
            try:
                await monitor.close()
            except MonitorError as err:
                log.error("%s", err.message)
        if vm.agent is not None:
            await vm.agent.close()
            vm.agent = None

    # Listing and look-up -----------------------------------------------------------------

    def connect_list_all_domains(self, flags: int = 0) -> list[DomainRef]:
        """Read from the calling thread, as look-ups are (see _check_open): list() copies the
        map in one step, and the trip to the loop cost more than listing a thousand domains."""
        check_flags(flags, _all(ListFlags), "connect_list_all_domains")
        self._check_open()
        vms = sorted(list(self._vms.values()), key=_NAME)
        if flags:
            vms = [vm for vm in vms if self._matches(vm, flags)]
        return [vm.ref() for vm in vms]

    def _matches(self, vm: VM, flags: int) -> bool:
        def pair(yes: ListFlags, no: ListFlags, value: bool) -> bool:
            if flags & (yes | no) in (0, yes | no):
                return True
            return value if flags & yes else not value

        # A stat per domain: only when the flags ask about autostart.
        autostart = (bool(flags & (ListFlags.AUTOSTART | ListFlags.NO_AUTOSTART))
                     and self.paths.autostart_link(vm.name).exists())
        if not (pair(ListFlags.ACTIVE, ListFlags.INACTIVE, vm.active)
                and pair(ListFlags.PERSISTENT, ListFlags.TRANSIENT, vm.persistent)
                and pair(ListFlags.AUTOSTART, ListFlags.NO_AUTOSTART, autostart)
                and pair(ListFlags.MANAGEDSAVE, ListFlags.NO_MANAGEDSAVE, False)
                and pair(ListFlags.HAS_SNAPSHOT, ListFlags.NO_SNAPSHOT, False)
                and pair(ListFlags.HAS_CHECKPOINT, ListFlags.NO_CHECKPOINT, False)):
            return False
        states = flags & (ListFlags.RUNNING | ListFlags.PAUSED | ListFlags.SHUTOFF
                          | ListFlags.OTHER)
        if not states:
            return True
        state = vm.state if vm.active else State.SHUTOFF
        kind = {State.RUNNING: ListFlags.RUNNING, State.PAUSED: ListFlags.PAUSED,
                State.SHUTOFF: ListFlags.SHUTOFF}.get(state, ListFlags.OTHER)
        return bool(states & kind)

    # Look-ups read the maps from the calling thread (see _check_open).

    def domain_lookup_by_name(self, name: str) -> DomainRef:
        self._check_open()
        vm = self._names.get(name)
        if vm is None:
            raise no_domain(f"no domain with matching name '{name}'")
        return vm.ref()

    def domain_lookup_by_uuid(self, uuid: str) -> DomainRef:
        self._check_open()
        vm = self._vms.get(uuid.lower())
        if vm is None:
            raise no_domain(f"no domain with matching uuid '{uuid}'")
        return vm.ref()

    def domain_lookup_by_id(self, id: int) -> DomainRef:
        return self._run(self._lookup_id(id))

    async def _lookup_id(self, dom_id: int) -> DomainRef:
        vm = next((v for v in self._vms.values() if v.active and v.id == dom_id), None)
        if vm is None:
            raise no_domain(f"no domain with matching id {dom_id}")
        return vm.ref()

    # Define and undefine -----------------------------------------------------------------

    async def _parse(self, xml: str, validate: bool) -> Domain:
        dom = Domain.from_xml(xml, validate=validate)
        apply_domain_defaults(dom, await self._get_facts())
        dom.compact()  # kept as long as the domain is defined: only what the defaults set
        return dom

    def _check_unique(self, dom: Domain, *, defining: bool) -> VM | None:
        """The existing domain this definition is for, or libvirt's error if it clashes."""
        uuid, name = str(dom.uuid), str(dom.name)
        same_uuid = self._vms.get(uuid)
        if same_uuid is not None:
            if same_uuid.name != name:
                if defining:
                    raise OperationFailed(f"domain '{same_uuid.name}' is already defined with "
                                          f"uuid {uuid}", domain=ErrorDomain.DOMAIN)
                raise OperationFailed(f"domain '{same_uuid.name}' already exists with "
                                      f"uuid {uuid}", domain=ErrorDomain.DOMAIN)
            return same_uuid
        same_name = self._by_name(name)
        if same_name is not None:
            raise OperationFailed(f"domain '{name}' already exists with uuid {same_name.uuid}",
                                  domain=ErrorDomain.DOMAIN)
        return None

    def domain_define_xml_flags(self, xml: str, flags: int = 0) -> DomainRef:
        check_flags(flags, _all(DefineFlags), "domain_define_xml_flags")
        return self._run(self._define(xml, flags))

    async def _define(self, xml: str, flags: int) -> DomainRef:
        dom = await self._parse(xml, bool(flags & DefineFlags.VALIDATE))
        vm = self._check_unique(dom, defining=True)
        if vm is not None:
            async with vm.job:
                self._save_config(dom)
                vm.config = dom
                detail = Defined.UPDATED if vm.persistent else Defined.ADDED
                self._emit(vm, Event.DEFINED, detail)
                return vm.ref()
        self._save_config(dom)
        vm = VM(str(dom.name), str(dom.uuid), dom)
        self._add(vm)
        self._emit(vm, Event.DEFINED, Defined.ADDED)
        return vm.ref()

    def domain_undefine_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags(flags, _all(UndefineFlags), "domain_undefine_flags")
        self._run(self._undefine(dom))

    async def _undefine(self, ref: DomainRef) -> None:
        vm = self._vm(ref)
        async with vm.job:
            if not vm.persistent:
                raise OperationInvalid("cannot undefine transient domain",
                                       domain=ErrorDomain.QEMU)
            remove(self.paths.autostart_link(vm.name))
            remove(self.paths.config(vm.name))
            vm.config = None
            self._formatted.pop(vm.uuid, None)
            self._emit(vm, Event.UNDEFINED, 0)
            if not vm.active:
                self._drop(vm)

    # Start -------------------------------------------------------------------------------

    def domain_create_xml(self, xml: str, flags: int = 0) -> DomainRef:
        check_flags(flags, CreateFlags.START_PAUSED | CreateFlags.START_AUTODESTROY
                    | CreateFlags.START_BYPASS_CACHE | CreateFlags.START_VALIDATE,
                    "domain_create_xml")
        return self._run(self._create_xml(xml, flags))

    async def _create_xml(self, xml: str, flags: int) -> DomainRef:
        dom = await self._parse(xml, bool(flags & CreateFlags.START_VALIDATE))
        vm = self._check_unique(dom, defining=False)
        if vm is not None and vm.active:
            raise OperationInvalid(f"domain '{vm.name}' is already active",
                                   domain=ErrorDomain.DOMAIN)
        if vm is None:
            vm = VM(str(dom.name), str(dom.uuid), None)
            self._add(vm)
        async with vm.job:
            try:
                await self._start(vm, flags, definition=dom)
            except BaseException:
                if not vm.active and not vm.persistent:
                    self._drop(vm)
                raise
        return vm.ref()

    def domain_create_with_flags(self, dom: DomainRef, flags: int = 0) -> DomainRef:
        check_flags(flags, CreateFlags.START_PAUSED | CreateFlags.START_AUTODESTROY
                    | CreateFlags.START_BYPASS_CACHE | CreateFlags.START_FORCE_BOOT,
                    "domain_create_with_flags")
        return self._run(self._create(dom, flags))

    async def _create(self, ref: DomainRef, flags: int) -> DomainRef:
        vm = self._vm(ref)
        async with vm.job:
            if vm.active:
                raise OperationInvalid("domain is already running", domain=ErrorDomain.QEMU)
            await self._start(vm, flags)
        return vm.ref()

    async def _start(self, vm: VM, flags: int, definition: Domain | None = None) -> None:
        """qemuProcessStart: everything set up, or on failure nothing left behind."""
        source = definition if definition is not None else vm.config
        assert source is not None
        from qvirt.drivers.qemu.command import command_env
        facts = await self._get_facts()
        live = source.copy()
        volumes = translate_volumes(live, self.storage)
        check_host_files(live)
        set_partition(live)
        number_storage(live)
        label_dac(live, os.getuid(), os.getgid())
        vm.id = self._next_id()
        live.id = str(vm.id)
        vm.live = live
        vm.got_shutdown = vm.fake_reboot = vm.being_destroyed = vm.agent_connected = False
        vm.pending_stop, vm.restart_after_stop = None, False
        vm.went_down, vm.was_reset = asyncio.Event(), asyncio.Event()
        vm.autodestroy = bool(flags & CreateFlags.START_AUTODESTROY)
        vm.state, vm.reason = State.PAUSED, Paused.STARTING_UP
        rundir = self.paths.runtime_dir(vm.id, vm.name)
        vm.runtime_dir, vm.monitor_path = rundir, rundir / "monitor.sock"
        log_path = self.paths.log(vm.name)
        try:
            rundir.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Off the loop: pyroute2 runs an event loop of its own for each netlink socket.
            net_fds = await asyncio.to_thread(nic.open_host_sides, live, self.network)
            try:
                argv, dir_fd = self._command(live, rundir, facts, net_fds)
                restore_volumes(volumes)
                fds = (*net_fds.values(), *(() if dir_fd is None else (dir_fd,)))
                try:
                    proc, offset = QemuProcess.spawn(argv, qemu_env(command_env(live)),
                                                     log_path, pass_fds=fds)
                finally:
                    if dir_fd is not None:
                        os.close(dir_fd)
            finally:
                nic.close_fds(net_fds)
            vm.proc = proc
            await proc.wait_for_socket(vm.monitor_path, log_path, offset)
            vm.monitor = await self._connect_monitor(vm, proc, log_path, offset)
            await vm.monitor.load_commands()
            await update_guest_cpu(vm.monitor, live)
            await self._fill_ptys(vm)
            self._attach_agent(vm)
            if live.on_reboot in ("destroy", "preserve"):
                # A guest reboot then ends as a poweroff, which on_shutdown handles.
                await vm.monitor.set_action(reboot="shutdown")
            if flags & CreateFlags.START_PAUSED:
                vm.state, vm.reason = State.PAUSED, Paused.USER
            else:
                await vm.monitor.cont()
                vm.state, vm.reason = State.RUNNING, Running.BOOTED
            self._save_status(vm)
        except BaseException:
            await self._abort_start(vm)
            raise
        # libvirt reports the first cont as a resume, before the start itself.
        if vm.state == State.RUNNING:
            self._emit(vm, Event.RESUMED, Resumed.UNPAUSED)
        self._emit(vm, Event.STARTED, Started.BOOTED)
        if vm.state == State.PAUSED:
            self._emit(vm, Event.SUSPENDED, Suspended.PAUSED)

    def _command(self, live: Domain, rundir: Path, facts: GuestFacts,
                 net_fds: dict[str, int]) -> tuple[list[str], int | None]:
        """The argv, with sockets in ``rundir``. When the root is so deep that a socket path
        would not fit in sun_path, QEMU gets the directory as an inherited descriptor and
        names the sockets through /proc/self/fd; the live XML keeps the real paths."""
        from qvirt.drivers.qemu.command import RunPaths, build_command
        names = ["monitor.sock", *channel_socket_names(live)]
        dir_fd = None
        qemu_dir = rundir
        if any(too_long(rundir / name) for name in names):
            dir_fd = os.open(rundir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            qemu_dir = Path(f"/proc/self/fd/{dir_fd}")
        try:
            placed = place_channel_sockets(live, qemu_dir)
            argv = build_command(live, RunPaths(qemu_dir, qemu_dir / "monitor.sock", net_fds),
                                 facts)
        except BaseException:
            if dir_fd is not None:
                os.close(dir_fd)
            raise
        for source in placed:
            source.path = str(rundir / Path(str(source.path)).name)
        return argv, dir_fd

    async def _connect_monitor(self, vm: VM, proc: QemuProcess, log_path: Path,
                               offset: int) -> QemuMonitor:
        """QEMU makes its socket before it listens, and may still quit after: retry while it
        lives; once it is gone, its own words in the log say why."""
        from qvirt.drivers.qemu.monitor import MonitorError, QemuMonitor
        assert vm.monitor_path is not None
        deadline = time.monotonic() + MONITOR_WAIT
        while True:
            try:
                with reachable(vm.monitor_path) as address:
                    return await QemuMonitor.connect(address, vm.name, _Handler(self, vm))
            except MonitorError as err:
                if await proc.wait_gone(0.02):
                    raise QvirtError("qemu unexpectedly closed the monitor: "
                                     + read_from(log_path, offset).strip(),
                                     code=ErrorNumber.INTERNAL_ERROR,
                                     domain=ErrorDomain.QEMU) from err
                if time.monotonic() > deadline:
                    raise

    async def _abort_start(self, vm: VM) -> None:
        vm.being_destroyed = True
        if vm.proc is not None:
            with contextlib.suppress(QvirtError):
                await vm.proc.kill()
        await self._detach(vm)
        await self._cleanup_run(vm, Shutoff.FAILED)

    async def _fill_ptys(self, vm: VM) -> None:
        """Put the pty QEMU allocated for each pty chardev into the live XML, as libvirt
        does from query-chardev (qemuProcessRefreshChannelVirtioState's sibling)."""
        assert vm.monitor is not None and vm.live is not None and vm.live.devices is not None
        ptys = {c.label: c.pty_path for c in await vm.monitor.query_chardev() if c.pty_path}
        devices = vm.live.devices
        for dev in [*devices.serials, *devices.parallels, *devices.channels, *devices.consoles]:
            if dev.type != "pty" or not dev.alias:
                continue
            path = ptys.get(f"char{dev.alias}")
            if path is not None:
                dev.sources = [ChrSource(path=path)]
        serial_ptys = {s.target_port: s.sources for s in devices.serials if s.type == "pty"}
        for console in devices.consoles:
            if console.type == "pty" and console.target_type in (None, "serial"):
                sources = serial_ptys.get(console.target_port)
                if sources:
                    console.sources = [ChrSource(path=sources[0].path)]
            # A console that is the first serial port under another name shows that port.
            shown = console.serial if console.serial is not None else console
            if shown.type == "pty" and shown.sources and shown.sources[0].path:
                console.tty = shown.sources[0].path

    async def _refresh_channels(self, vm: VM) -> None:
        """Whether the guest holds its agent port open: VSERPORT_CHANGE events that came
        while no driver listened are lost, query-chardev says it now
        (qemuProcessRefreshChannelVirtioState)."""
        assert vm.monitor is not None
        opened = {c.label: c.frontend_open for c in await vm.monitor.query_chardev()}
        if vm.live is None or vm.live.devices is None:
            return
        for chan in vm.live.devices.channels:
            if chan.target_name == AGENT_CHANNEL and chan.alias:
                self.on_serial_change(vm, {"id": chan.alias,
                                           "open": opened.get(f"char{chan.alias}", False)})

    def _attach_agent(self, vm: VM) -> None:
        path = vm.agent_channel()
        if vm.live is not None and vm.live.devices is not None:
            for chan in vm.live.devices.channels:
                if chan.target_name == AGENT_CHANNEL and chan.target_state is None:
                    chan.target_state = "disconnected"
        from qvirt.drivers.qemu.agent import GuestAgent
        vm.agent = GuestAgent(path) if path is not None else None

    # Stop --------------------------------------------------------------------------------

    async def _stop(self, vm: VM, reason: Shutoff, detail: Stopped | None) -> None:
        """qemuProcessStop: QEMU is gone (or about to be); record why and tidy up."""
        if not vm.active:
            return
        vm.being_destroyed = True
        await self._detach(vm)
        if vm.proc is not None:
            vm.proc.reap()
        ref = vm.ref()
        await self._cleanup_run(vm, reason)
        if detail is not None:
            self._events.emit(ref, Event.STOPPED, detail)
        if vm.restart_after_stop and vm.uuid in self._vms:
            vm.restart_after_stop = False
            try:
                await self._start(vm, 0)
            except QvirtError as err:
                log.error("restart of '%s' failed: %s", vm.name, err)

    async def _cleanup_run(self, vm: VM, reason: Shutoff) -> None:
        append_log(self.paths.log(vm.name),
                   f"shutting down, reason={reason_name(State.SHUTOFF, reason)}")
        remove(self.paths.status(vm.name))
        if vm.live is not None:
            await asyncio.to_thread(nic.release_host_sides, vm.live, self.network)
        if vm.runtime_dir is not None:
            await asyncio.to_thread(shutil.rmtree, vm.runtime_dir, True)
        vm.id, vm.live, vm.proc, vm.runtime_dir, vm.monitor_path = -1, None, None, None, None
        vm.state, vm.reason = State.SHUTOFF, reason
        vm.autodestroy = False
        if not vm.persistent:
            self._drop(vm)

    def domain_destroy_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags(flags, _all(DestroyFlags), "domain_destroy_flags")
        self._run(self._destroy(self._vm(dom), flags))

    async def _destroy(self, vm: VM, flags: int) -> None:
        if not vm.active:
            raise not_running()
        # Kill first, then take the job: a destroy must get through a job stuck on QEMU.
        vm.being_destroyed = True
        if vm.proc is not None:
            try:
                await vm.proc.kill(graceful=bool(flags & DestroyFlags.GRACEFUL))
            except QvirtError:
                vm.being_destroyed = False
                raise
        if vm.monitor is not None:
            # QEMU's SHUTDOWN for the SIGTERM comes before its end: reported before STOPPED.
            await vm.monitor.drain(DRAIN_WAIT)
        async with vm.job:
            await self._stop(vm, Shutoff.DESTROYED, Stopped.DESTROYED)
        if flags & DestroyFlags.REMOVE_LOGS:
            remove(self.paths.log(vm.name))

    # Pause, resume, power ----------------------------------------------------------------

    def domain_suspend(self, dom: DomainRef) -> None:
        self._run(self._suspend(dom))

    async def _suspend(self, ref: DomainRef) -> None:
        vm = self._vm(ref)
        async with vm.job:
            if not vm.active:
                raise not_running()
            assert vm.monitor is not None
            if vm.state == State.PAUSED:
                return
            vm.paused_reason = Paused.USER
            await vm.monitor.stop()
            self._set_paused(vm)
            self._save_status(vm)

    def _set_paused(self, vm: VM) -> None:
        if vm.state == State.RUNNING:
            vm.state, vm.reason = State.PAUSED, vm.paused_reason
            self._emit(vm, Event.SUSPENDED, Suspended.PAUSED)

    def domain_resume(self, dom: DomainRef) -> None:
        self._run(self._resume(dom))

    async def _resume(self, ref: DomainRef) -> None:
        vm = self._vm(ref)
        async with vm.job:
            if not vm.active:
                raise not_running()
            assert vm.monitor is not None
            if vm.state == State.CRASHED:
                raise OperationInvalid("domain is crashed", domain=ErrorDomain.QEMU)
            if vm.state != State.PAUSED:
                raise OperationInvalid("domain is already running", domain=ErrorDomain.QEMU)
            await vm.monitor.cont()
            self._set_running(vm, Running.UNPAUSED)
            self._save_status(vm)

    def _set_running(self, vm: VM, reason: Running) -> None:
        if vm.state in (State.PAUSED, State.SHUTDOWN):
            vm.state, vm.reason = State.RUNNING, reason
            self._emit(vm, Event.RESUMED, Resumed.UNPAUSED)

    def domain_shutdown_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags(flags, ShutdownFlags.ACPI_POWER_BTN | ShutdownFlags.GUEST_AGENT,
                    "domain_shutdown_flags")
        self._run(self._power(dom, flags, reboot=False))

    def domain_reboot(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags(flags, ShutdownFlags.ACPI_POWER_BTN | ShutdownFlags.GUEST_AGENT,
                    "domain_reboot")
        self._run(self._power(dom, flags, reboot=True))

    async def _power(self, ref: DomainRef, flags: int, *, reboot: bool) -> None:
        """qemuDomainShutdownFlags / qemuDomainReboot: the agent when asked for (or, with no
        flags, when it is connected), else the ACPI power button; a reboot by the button is
        libvirt's fake reboot: power off, then reset and continue on SHUTDOWN."""
        vm = self._vm(ref)
        async with vm.job:
            if not vm.active:
                raise not_running(ErrorDomain.DOMAIN if reboot else ErrorDomain.QEMU)
            use_agent = bool(flags & ShutdownFlags.GUEST_AGENT) or (
                flags == 0 and vm.agent is not None and vm.agent_connected)
            if use_agent:
                try:
                    await self._agent_power(vm, reboot)
                    return
                except QvirtError:
                    if not (flags == 0 or flags & ShutdownFlags.ACPI_POWER_BTN):
                        raise
            assert vm.monitor is not None
            vm.fake_reboot = reboot
            await vm.monitor.system_powerdown()

    async def _agent_power(self, vm: VM, reboot: bool) -> None:
        if vm.agent is None:
            raise QvirtError("QEMU guest agent is not configured",
                             code=ErrorNumber.ARGUMENT_UNSUPPORTED, domain=ErrorDomain.QEMU)
        if vm.state != State.RUNNING:
            raise not_running()
        until = vm.was_reset if reboot else vm.went_down
        until.clear()
        await vm.agent.shutdown("reboot" if reboot else "powerdown", until)

    def domain_reset(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags(flags, 0, "domain_reset")
        self._run(self._reset(dom))

    async def _reset(self, ref: DomainRef) -> None:
        vm = self._vm(ref)
        async with vm.job:
            if not vm.active:
                raise not_running()
            assert vm.monitor is not None
            await vm.monitor.system_reset()
            vm.got_shutdown = False

    # Queries -----------------------------------------------------------------------------

    def domain_get_xml_desc(self, dom: DomainRef, flags: int = 0) -> str:
        check_flags(flags, _all(XMLFlags), "domain_get_xml_desc")
        config = self._inactive_config(dom)
        if config is not None:
            cached = self._formatted.get(dom.uuid)
            if cached is not None and cached[0] is config:
                return cached[1]
        return self._run(self._xml_desc(dom, flags))

    async def _xml_desc(self, ref: DomainRef, flags: int) -> str:
        vm = self._vm(ref)
        if vm.config is not None and (flags & XMLFlags.INACTIVE or not vm.active):
            return self._config_xml(vm)
        return vm.current_def().to_xml()

    def domain_get_info(self, dom: DomainRef) -> DomainInfo:
        config = self._inactive_config(dom)
        if config is not None:
            memory = int(config.memory or 0)
            return DomainInfo(state=int(State.SHUTOFF), max_mem=memory, memory=memory,
                              nr_virt_cpu=int(config.vcpu_current or config.vcpu or 1),
                              cpu_time=0)
        return self._run(self._info(dom))

    async def _info(self, ref: DomainRef) -> DomainInfo:
        vm = self._vm(ref)
        d = vm.current_def()
        max_mem = int(d.memory or 0)          # KiB, as conf keeps sizes
        memory = int(d.current_memory or d.memory or 0)
        used = cpu_time(vm.proc.pid) if vm.active and vm.proc is not None else 0
        return DomainInfo(state=int(vm.state if vm.active else State.SHUTOFF),
                          max_mem=max_mem, memory=memory if vm.active else max_mem,
                          nr_virt_cpu=int(d.vcpu_current or d.vcpu or 1), cpu_time=used)

    def domain_get_state(self, dom: DomainRef, flags: int = 0) -> tuple[int, int]:
        check_flags(flags, 0, "domain_get_state")
        return self._run(self._state(dom))

    async def _state(self, ref: DomainRef) -> tuple[int, int]:
        vm = self._vm(ref)
        return int(vm.state), int(vm.reason)

    def domain_is_active(self, dom: DomainRef) -> bool:
        return self._run(self._query(dom, lambda vm: vm.active))

    def domain_is_persistent(self, dom: DomainRef) -> bool:
        return self._run(self._query(dom, lambda vm: vm.persistent))

    async def _query(self, ref: DomainRef, get: Callable[[VM], T]) -> T:
        return get(self._vm(ref))

    def domain_get_autostart(self, dom: DomainRef) -> bool:
        return self._run(self._query(
            dom, lambda vm: self.paths.autostart_link(vm.name).exists()))

    def domain_set_autostart(self, dom: DomainRef, autostart: bool) -> None:
        self._run(self._set_autostart(dom, autostart))

    async def _set_autostart(self, ref: DomainRef, autostart: bool) -> None:
        vm = self._vm(ref)
        async with vm.job:
            if not vm.persistent:
                raise OperationInvalid("cannot set autostart for transient domain",
                                       domain=ErrorDomain.QEMU)
            link = self.paths.autostart_link(vm.name)
            if autostart and not link.is_symlink():
                os.symlink(self.paths.config(vm.name), link)
            elif not autostart:
                remove(link)

    def domain_get_os_type(self, dom: DomainRef) -> str:
        return self._run(self._query(dom, lambda vm: str(vm.current_def().os.type or "hvm")))

    def domain_get_max_memory(self, dom: DomainRef) -> int:
        return self._run(self._query(dom, lambda vm: int(vm.current_def().memory or 0)))

    def domain_get_vcpus_flags(self, dom: DomainRef, flags: int = 0) -> int:
        return self._run(self._query(dom, lambda vm: int(vm.current_def().vcpu or 1)))

    def domain_has_managed_save_image(self, dom: DomainRef, flags: int = 0) -> bool:
        """No managed save exists in this driver yet, so no domain has an image."""
        check_flags(flags, 0, "qemuDomainHasManagedSaveImage")
        return self._run(self._query(dom, lambda vm: False))

    def domain_get_metadata(self, dom: DomainRef, type: int, uri: str | None,
                            flags: int = 0) -> str:
        check_flags(flags, METADATA_FLAGS, "qemuDomainGetMetadata")

        def get(vm: VM) -> str:
            live, _ = metadata.impact(vm.active, vm.persistent, flags)
            d = vm.live if live and vm.live is not None else vm.config
            assert d is not None
            return metadata.get(d, type, uri)
        return self._run(self._query(dom, get))

    def domain_set_metadata(self, dom: DomainRef, type: int, value: str | None,
                            key: str | None, uri: str | None, flags: int = 0) -> None:
        check_flags(flags, METADATA_FLAGS, "qemuDomainSetMetadata")
        self._run(self._set_metadata(dom, type, value, key, uri, flags))

    async def _set_metadata(self, ref: DomainRef, type: int, value: str | None,
                            key: str | None, uri: str | None, flags: int) -> None:
        """virDomainObjSetMetadata: the running definition, the persistent one or both,
        each saved where it lives."""
        vm = self._vm(ref)
        async with vm.job:
            live, config = metadata.impact(vm.active, vm.persistent, flags)
            if live and vm.live is not None:
                vm.live = metadata.set_(vm.live, type, value, key, uri)
                self._save_status(vm)
            if config and vm.config is not None:
                vm.config = metadata.set_(vm.config, type, value, key, uri)
                self._save_config(vm.config)

    def node_get_free_memory(self) -> int:
        return hoststats.free_memory()

    def node_get_cells_free_memory(self, start: int, count: int) -> list[int]:
        return hoststats.cells_free_memory(start, count)

    def node_get_cpu_map(self, flags: int = 0) -> tuple[int, list[bool], int]:
        hoststats.check_flags("virHostCPUGetMap", flags)
        return hoststats.cpu_map()

    def node_get_cpu_stats(self, cpu: int, flags: int = 0) -> dict[str, int]:
        hoststats.check_flags("virHostCPUGetStats", flags)
        return hoststats.cpu_stats(cpu)

    def node_get_memory_stats(self, cell: int, flags: int = 0) -> dict[str, int]:
        hoststats.check_flags("virHostMemGetStats", flags)
        return hoststats.memory_stats(cell)

    def node_get_security_model(self) -> tuple[str, str]:
        """The primary model of the capabilities' <secmodel>s (qemuNodeGetSecurityModel)."""
        primary = security_models(None)[0]
        return str(primary.model), str(primary.doi)

    def domain_get_security_label(self, dom: DomainRef) -> tuple[str, bool]:
        """The primary model is "none", which labels no process."""
        return self._run(self._query(dom, lambda vm: ("", False)))

    def domain_open_console(self, dom: DomainRef, dev_name: str | None,
                            flags: int = 0) -> PtyStream:
        check_flags(flags, C.VIR_DOMAIN_CONSOLE_FORCE | C.VIR_DOMAIN_CONSOLE_SAFE,
                    "qemuDomainOpenConsole")
        path = self._run(self._query(dom, lambda vm: pick_console(
            self._active_vm(dom).current_def(), dev_name)))
        return self._consoles.open(path, bool(flags & C.VIR_DOMAIN_CONSOLE_FORCE))

    def domain_screenshot(self, dom: DomainRef, screen: int,
                          flags: int = 0) -> tuple[str, FileStream]:
        check_flags(flags, 0, "qemuDomainScreenshot")
        path, mime = self._run(self._screenshot(dom, screen))
        return mime, FileStream(path, unlink=True)

    async def _screenshot(self, ref: DomainRef, screen: int) -> tuple[str, str]:
        """qemuDomainScreenshot: screen N counts the heads of every video device in order;
        QEMU dumps into a file in the domain's runtime directory, which the stream then
        reads and unlinks. PNG where QEMU writes it (7.1 on), PPM before."""
        vm = self._vm(ref)
        async with vm.job:
            if not vm.active:
                raise not_running()
            assert vm.monitor is not None and vm.runtime_dir is not None
            live = vm.current_def()
            videos = live.devices.videos if live.devices is not None else []
            if not videos:
                raise OperationInvalid("no screens to take screenshot from",
                                       domain=ErrorDomain.QEMU)
            arguments: dict[str, Any] = {}
            if screen:
                for video in videos:
                    heads = int(video.heads or 1)
                    if screen < heads:
                        arguments = {"device": video.alias, "head": screen}
                        break
                    screen -= heads
                else:
                    raise OperationInvalid("no such screen ID", domain=ErrorDomain.QEMU)
            png = self.caps.get(str(live.devices.emulator)).version >= PNG_SCREENDUMP
            fd, path = tempfile.mkstemp(prefix="qemu.screendump.", dir=vm.runtime_dir)
            os.close(fd)
            try:
                await vm.monitor.execute("screendump", {
                    "filename": path, **arguments, **({"format": "png"} if png else {})})
            except BaseException:
                remove(Path(path))
                raise
            return path, "image/png" if png else "image/x-portable-pixmap"

    def connect_domain_event_register_any(self, callback: LifecycleCallback) -> int:
        return self._events.register(callback)

    def connect_domain_event_deregister_any(self, callback_id: int) -> None:
        self._events.deregister(callback_id)

    # Guest agent, for callers inside qvirt (tests, the later qemu-agent-command API) ----

    def agent_command(self, dom: DomainRef, command: str,
                      arguments: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        return self._run(self._agent_command(dom, command, arguments, timeout))

    async def _agent_command(self, ref: DomainRef, command: str,
                             arguments: dict[str, Any] | None, timeout: float) -> Any:
        vm = self._active_vm(ref)
        if vm.agent is None:
            raise QvirtError("QEMU guest agent is not configured",
                             code=ErrorNumber.ARGUMENT_UNSUPPORTED, domain=ErrorDomain.QEMU)
        return await vm.agent.command(command, arguments, timeout=timeout)

    def agent_connected(self, dom: DomainRef) -> bool:
        return self._run(self._query(dom, lambda vm: vm.agent_connected))

    def qemu_pid(self, dom: DomainRef) -> int:
        """The running domain's QEMU process id (what libvirt's status XML records)."""
        return self._run(self._query(
            dom, lambda vm: vm.proc.pid if vm.active and vm.proc is not None else -1))

    # Monitor events (run on the loop; each acts as libvirt's qemuProcessHandle*) ---------

    def on_stop(self, vm: VM) -> None:
        if vm.active and vm.state == State.RUNNING:
            if vm.got_shutdown:
                vm.paused_reason = Paused.SHUTTING_DOWN
            self._set_paused(vm)
            self._save_status(vm)

    def on_resume(self, vm: VM) -> None:
        if vm.active and vm.state == State.PAUSED and vm.reason != Paused.STARTING_UP:
            self._set_running(vm, Running.UNPAUSED)
            self._save_status(vm)

    def on_shutdown(self, vm: VM, data: dict[str, Any]) -> None:
        """qemuProcessHandleShutdown. Ignored: a repeated one, a panic's own, the SIGTERM of
        a stop already decided on, and that of a start being undone. A destroy's SIGTERM is
        reported (QEMU says guest=false: "shutdown (host)"), and nothing more is done."""
        if (not vm.active or vm.got_shutdown or data.get("reason") == "guest-panic"
                or vm.pending_stop is not None or vm.state == State.CRASHED
                or (vm.state, vm.reason) == (State.PAUSED, Paused.STARTING_UP)):
            return
        vm.got_shutdown = True
        vm.went_down.set()
        guest = data.get("guest")
        detail = (ShutdownDetail.GUEST if guest else ShutdownDetail.HOST) \
            if guest is not None else ShutdownDetail.FINISHED
        vm.state, vm.reason = State.SHUTDOWN, Shutdown.UNKNOWN
        self._emit(vm, Event.SHUTDOWN, detail)
        if vm.being_destroyed:
            return
        assert vm.live is not None
        if vm.fake_reboot or vm.live.on_poweroff in RESTART_ACTIONS:
            self._spawn(self._fake_reboot(vm))
        elif vm.live.on_poweroff != "preserve":
            vm.pending_stop = (Shutoff.SHUTDOWN, Stopped.SHUTDOWN)
            self._spawn(self._kill_quietly(vm))

    async def _fake_reboot(self, vm: VM) -> None:
        async with vm.job:
            if not vm.active or vm.monitor is None:
                return
            vm.fake_reboot = False
            await vm.monitor.system_reset()
            vm.got_shutdown = False
            await vm.monitor.cont()
            vm.state, vm.reason = State.PAUSED, Paused.UNKNOWN  # so RESUMED is reported
            self._set_running(vm, Running.BOOTED)
            self._save_status(vm)

    async def _kill_quietly(self, vm: VM) -> None:
        if vm.proc is not None:
            with contextlib.suppress(QvirtError):
                await vm.proc.kill()

    def on_reset(self, vm: VM) -> None:
        vm.was_reset.set()

    def on_panic(self, vm: VM) -> None:
        if not vm.active or vm.state == State.CRASHED:
            return
        vm.state, vm.reason = State.CRASHED, Crashed.PANICKED
        self._emit(vm, Event.CRASHED, CrashedDetail.PANICKED)
        assert vm.live is not None
        action = vm.live.on_crash or "destroy"
        if action == "preserve":
            self._save_status(vm)
            return
        vm.pending_stop = (Shutoff.CRASHED, Stopped.CRASHED)
        vm.restart_after_stop = action in RESTART_ACTIONS
        self._spawn(self._kill_quietly(vm))

    def on_serial_change(self, vm: VM, data: dict[str, Any]) -> None:
        if vm.live is None or vm.live.devices is None:
            return
        for chan in vm.live.devices.channels:
            if chan.alias == data.get("id") and chan.target_name == AGENT_CHANNEL:
                vm.agent_connected = bool(data.get("open"))
                chan.target_state = "connected" if vm.agent_connected else "disconnected"

    async def on_eof(self, vm: VM) -> None:
        """QEMU is gone. Unless a destroy is already tidying up, record why, as
        qemuProcessHandleMonitorEOF does: after SHUTDOWN, shut off (shutdown); else crashed."""
        vm.went_down.set()
        if vm.being_destroyed and vm.pending_stop is None:
            return
        async with vm.job:
            if not vm.active or (vm.being_destroyed and vm.pending_stop is None):
                return
            if vm.proc is not None:
                await vm.proc.wait_gone(5)
            if vm.pending_stop is not None:
                reason, detail = vm.pending_stop
            elif vm.got_shutdown:
                reason, detail = Shutoff.SHUTDOWN, Stopped.SHUTDOWN
            else:
                reason, detail = Shutoff.CRASHED, Stopped.FAILED
            await self._stop(vm, reason, detail)


def _acquire_root(path: Path) -> int:
    """One driver per root, as libvirt's driver pidfile ensures: two would fight over every
    QEMU's single monitor connection."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        raise QvirtError(f"Failed to acquire pid file '{path}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR) from err
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _close_at_exit(ref: weakref.ref[QemuDriver]) -> None:
    driver = ref()
    if driver is not None and not driver._closed:
        with contextlib.suppress(Exception):
            driver.connect_close()


class _Handler:
    """The monitor's callback table for one domain: QMP events -> driver actions."""

    def __init__(self, driver: QemuDriver, vm: VM) -> None:
        self.driver, self.vm = driver, vm

    def on_stop(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_stop(self.vm)

    def on_resume(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_resume(self.vm)

    def on_shutdown(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_shutdown(self.vm, data)

    def on_reset(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_reset(self.vm)

    def on_guest_panicked(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_panic(self.vm)

    def on_serial_change(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_serial_change(self.vm, data)

    def on_device_deleted(self, mon: QemuMonitor, data: dict[str, Any], when: float) -> None:
        self.driver.on_device_deleted(self.vm, data)

    def on_eof(self, mon: QemuMonitor) -> None:
        # Its own task: the stop it leads to closes this very monitor.
        if mon is self.vm.monitor:
            self.driver._spawn(self.driver.on_eof(self.vm))


__all__ = ["QemuDriver"]
