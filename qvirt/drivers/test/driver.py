"""The test driver: libvirt's in-memory mock hypervisor (src/test/test_driver.c) with its
semantics, its error texts and its state machine, so that clients diffing virsh against qvirt on
test:///default see the same thing. Nothing runs: a domain is a record with a state.

test:///default connections in one process share one node (testOpenDefault); it is built on
the first open and dropped when the last connection closes. test:///PATH connections each get
their own node read from PATH.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from qvirt import constants as C
from qvirt.conf.domain import Domain
from qvirt.drivers.base import (
    DomainInfo,
    DomainRef,
    InterfaceStats,
    LifecycleCallback,
    NodeInfo,
)
from qvirt.drivers.test import caps, defaults
from qvirt.drivers.test.network import NetworkState, TestNetwork, node_networks
from qvirt.drivers.test.node import Node, default_node, node_from_file
from qvirt.drivers.test.objects import NodeObject, records
from qvirt.drivers.test.storage import StorageState, TestStorage, node_storage
from qvirt.errors import (
    ErrorDomain,
    ErrorNumber,
    InternalError,
    InvalidArg,
    NoSupport,
    OperationFailed,
    OperationInvalid,
    QvirtError,
    XMLError,
)
from qvirt.util.filestream import FileStream
from qvirt.util.mac import parse_mac

HV_VERSION = 2               # "Running hypervisor: TEST 0.0.2"
SECURITY_MODEL = ("testSecurity", "")   # model, DOI
SECURITY_LABEL = "libvirt-test"         # a running domain's, enforcing
# testConnectGetSysinfo's fixed answer.
SYSINFO = """\
<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
"""
MAX_VCPUS = 32
OS_TYPE = "linux"            # testDomainGetOSType answers this whatever the XML says

# Flags each entry point accepts (virCheckFlags in test_driver.c); anything else is refused with
# the driver function's name, as virCheckFlags words it.
FLAGS: dict[str, tuple[str, int]] = {
    "domain_define_xml_flags": ("testDomainDefineXMLFlags", C.VIR_DOMAIN_DEFINE_VALIDATE),
    "domain_create_xml": ("testDomainCreateXML", C.VIR_DOMAIN_START_VALIDATE),
    "domain_create_with_flags": ("testDomainCreateWithFlags", 0),
    "domain_undefine_flags": ("testDomainUndefineFlags",
                              C.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                              | C.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | C.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
                              | C.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                              | C.VIR_DOMAIN_UNDEFINE_TPM | C.VIR_DOMAIN_UNDEFINE_KEEP_TPM),
    "domain_destroy_flags": ("testDomainDestroyFlags", C.VIR_DOMAIN_DESTROY_GRACEFUL),
    "domain_shutdown_flags": ("testDomainShutdownFlags", 0),
    "domain_reboot": ("testDomainReboot",
                      C.VIR_DOMAIN_REBOOT_DEFAULT | C.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN
                      | C.VIR_DOMAIN_REBOOT_GUEST_AGENT | C.VIR_DOMAIN_REBOOT_INITCTL
                      | C.VIR_DOMAIN_REBOOT_SIGNAL | C.VIR_DOMAIN_REBOOT_PARAVIRT),
    "domain_reset": ("testDomainReset", 0),
    "domain_get_state": ("testDomainGetState", 0),
    "domain_get_control_info": ("testDomainGetControlInfo", 0),
    "domain_has_managed_save_image": ("testDomainHasManagedSaveImage", 0),
    "connect_get_sysinfo": ("testConnectGetSysinfo", 0),
    "node_get_cpu_map": ("testNodeGetCPUMap", 0),
    "domain_screenshot": ("testDomainScreenshot", 0),
    "domain_get_metadata": ("testDomainGetMetadata",
                            C.VIR_DOMAIN_AFFECT_LIVE | C.VIR_DOMAIN_AFFECT_CONFIG),
    "domain_set_metadata": ("testDomainSetMetadata",
                            C.VIR_DOMAIN_AFFECT_LIVE | C.VIR_DOMAIN_AFFECT_CONFIG),
    "node_get_cpu_stats": ("testNodeGetCPUStats", 0),
    "domain_get_xml_desc": ("testDomainGetXMLDesc",
                            C.VIR_DOMAIN_XML_SECURE | C.VIR_DOMAIN_XML_INACTIVE
                            | C.VIR_DOMAIN_XML_MIGRATABLE),
    "domain_get_vcpus_flags": ("testDomainGetVcpusFlags",
                               C.VIR_DOMAIN_AFFECT_LIVE | C.VIR_DOMAIN_AFFECT_CONFIG
                               | C.VIR_DOMAIN_VCPU_MAXIMUM),
}

# The picture testDomainScreenshot sends (PKGDATADIR/test-screenshot.png).
SCREENSHOT = "/usr/share/libvirt/test-screenshot.png"

# testNodeGetCPUMap and testNodeGetCPUStats: fixed answers, whatever the node.
TEST_CPUS, TEST_CPU_MAP = 8, 0x15
TEST_CPU_STATS = (("user", 9797400000), ("kernel", 34678723400000), ("idle", 87264900000),
                  ("iowait", 763600000))

# What a lifecycle action leaves the domain in (testDomainActionSetState).
ACTION_STATES: dict[str, tuple[int, int]] = {
    "destroy": (C.VIR_DOMAIN_SHUTOFF, C.VIR_DOMAIN_SHUTOFF_SHUTDOWN),
    "restart": (C.VIR_DOMAIN_RUNNING, C.VIR_DOMAIN_RUNNING_BOOTED),
    "preserve": (C.VIR_DOMAIN_SHUTOFF, C.VIR_DOMAIN_SHUTOFF_SHUTDOWN),
    "rename-restart": (C.VIR_DOMAIN_RUNNING, C.VIR_DOMAIN_RUNNING_BOOTED),
}

_TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def check_flags(method: str, flags: int) -> None:
    function, allowed = FLAGS[method]
    unknown = flags & ~allowed
    if unknown:
        raise raw_error(InvalidArg, f"unsupported flags (0x{unknown:x}) in function {function}",
                        ErrorDomain.TEST, str1=function, str2="flags", int1=0)


def raw_error(cls: type[QvirtError], message: str, domain: int, *, str1: str,
              str2: str | None = None, int1: int = -1) -> QvirtError:
    """An error whose message is its whole text (virReportInvalidArg and virCheckFlags word
    theirs without the code's prefix)."""
    err = cls(message, domain=domain, str1=str1, str2=str2, int1=int1, int2=0)
    err.message = message
    err.args = (message,)
    return err


def _no_domain(detail: str | None = None) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_DOMAIN, domain=ErrorDomain.TEST)


@dataclass
class _Domain:
    """A domain as the test driver keeps it: definitions, state and the flags around them."""

    definition: Domain              # the running definition while active, else the persistent one
    persistent: bool
    state: int = C.VIR_DOMAIN_SHUTOFF
    reason: int = C.VIR_DOMAIN_SHUTOFF_UNKNOWN
    id: int = -1
    autostart: bool = False
    # The persistent definition while the domain runs (virDomainObj's newDef).
    next_definition: Domain | None = None

    @property
    def active(self) -> bool:
        return self.state != C.VIR_DOMAIN_SHUTOFF

    @property
    def persistent_definition(self) -> Domain:
        return self.next_definition or self.definition

    def ref(self) -> DomainRef:
        return DomainRef(name=str(self.definition.name), uuid=str(self.definition.uuid),
                         id=self.id)


@dataclass
class _State:
    """One node's objects: shared by every connection open on it."""

    node: Node
    storage: StorageState
    networks: NetworkState
    domains: list[_Domain] = field(default_factory=list)
    next_id: int = 1
    callbacks: dict[int, LifecycleCallback] = field(default_factory=dict)
    next_callback: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: int = 0


_default_lock = threading.Lock()
_default_state: _State | None = None


class TestDriver:
    """One connection to a test node (HypervisorDriver)."""

    def __init__(self, uri: str, path: str) -> None:
        if path in ("", "/"):
            raise InvalidArg("testOpen: supply a path or use test:///default",
                             domain=ErrorDomain.TEST)
        self._uri = uri
        self._default = path == "/default"
        self._state = _open_default() if self._default else _new_state(node_from_file(path))
        self._my_callbacks: set[int] = set()
        self._closed = False
        self.storage = TestStorage(self._state.storage, self._callback_id)
        self.network = TestNetwork(self._state.networks, self._callback_id)

    # Connection ----------------------------------------------------------------------------

    def connect_get_type(self) -> str:
        return "TEST"

    def connect_get_version(self) -> int:
        return HV_VERSION

    def connect_get_hostname(self) -> str:
        return socket.gethostname()

    def connect_get_uri(self) -> str:
        return self._uri

    def connect_get_capabilities(self) -> str:
        return _document(caps.document(self._state.node.cells))

    def connect_get_max_vcpus(self, type: str | None) -> int:
        return MAX_VCPUS

    def node_get_info(self) -> NodeInfo:
        return self._state.node.info

    def node_get_security_model(self) -> tuple[str, str]:
        return SECURITY_MODEL

    def node_get_free_memory(self) -> int:
        return sum(cell.free for cell in self._state.node.cells)

    def node_get_cells_free_memory(self, start: int, count: int) -> list[int]:
        cells = self._state.node.cells
        if start >= len(cells):
            raise InvalidArg("Range exceeds available cells", domain=ErrorDomain.TEST)
        return [cell.memory for cell in cells[start:start + max(count, 0)]]

    def node_get_cpu_map(self, flags: int = 0) -> tuple[int, list[bool], int]:
        check_flags("node_get_cpu_map", flags)
        return TEST_CPUS, [bool(TEST_CPU_MAP >> cpu & 1) for cpu in range(TEST_CPUS)], \
            bin(TEST_CPU_MAP).count("1")

    def node_get_cpu_stats(self, cpu: int, flags: int = 0) -> dict[str, int]:
        check_flags("node_get_cpu_stats", flags)
        return dict(TEST_CPU_STATS)

    def connect_get_sysinfo(self, flags: int = 0) -> str:
        check_flags("connect_get_sysinfo", flags)
        return SYSINFO

    def connect_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._state.lock:
            for cid in self._my_callbacks:
                self._state.callbacks.pop(cid, None)
        self._my_callbacks.clear()
        self.storage.close()
        self.network.close()
        if self._default:
            _close_default()

    # The node's other objects, until their own driver interfaces exist --------------------

    def interface_list(self) -> list[NodeObject]:
        return records(self._state.node.interfaces)

    def node_device_list(self) -> list[NodeObject]:
        return records(self._state.node.devices)

    # Look-up -------------------------------------------------------------------------------

    def connect_list_all_domains(self, flags: int = 0) -> list[DomainRef]:
        with self._state.lock:
            return [d.ref() for d in self._state.domains if _matches(d, flags)]

    def domain_lookup_by_name(self, name: str) -> DomainRef:
        return self._find(lambda d: d.definition.name == name).ref()

    def domain_lookup_by_uuid(self, uuid: str) -> DomainRef:
        return self._find(lambda d: d.definition.uuid == uuid).ref()

    def domain_lookup_by_id(self, id: int) -> DomainRef:
        return self._find(lambda d: d.active and d.id == id).ref()

    def _find(self, match: Callable[[_Domain], bool]) -> _Domain:
        with self._state.lock:
            for dom in self._state.domains:
                if match(dom):
                    return dom
        raise _no_domain()

    def _get(self, ref: DomainRef) -> _Domain:
        """testDomObjFromDomain: a handle names its domain by UUID."""
        with self._state.lock:
            for dom in self._state.domains:
                if dom.definition.uuid == ref.uuid:
                    return dom
        raise _no_domain(f"no domain with matching uuid '{ref.uuid}' ({ref.name})")

    # Definition ----------------------------------------------------------------------------

    def domain_define_xml_flags(self, xml: str, flags: int = 0) -> DomainRef:
        check_flags("domain_define_xml_flags", flags)
        definition = self._parse(xml, bool(flags & C.VIR_DOMAIN_DEFINE_VALIDATE))
        with self._state.lock:
            dom, existed = self._add(definition, live=False)
            if dom.active:
                dom.next_definition = definition
            else:
                dom.definition = definition
            dom.persistent = True
            event = (C.VIR_DOMAIN_EVENT_DEFINED_UPDATED if existed
                     else C.VIR_DOMAIN_EVENT_DEFINED_ADDED)
            ref = dom.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_DEFINED, event)
        return ref

    def domain_create_xml(self, xml: str, flags: int = 0) -> DomainRef:
        check_flags("domain_create_xml", flags)
        definition = self._parse(xml, bool(flags & C.VIR_DOMAIN_START_VALIDATE))
        with self._state.lock:
            dom, existed = self._add(definition, live=True)
            if not existed:
                dom.persistent = False
            else:
                dom.next_definition = dom.definition
                dom.definition = definition
            self._start(dom, C.VIR_DOMAIN_RUNNING_BOOTED)
            ref = dom.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_STARTED, C.VIR_DOMAIN_EVENT_STARTED_BOOTED)
        return ref

    def _parse(self, xml: str, validate: bool) -> Domain:
        definition = Domain.from_xml(xml, validate=validate)
        defaults.apply(definition)
        return definition

    def _add(self, definition: Domain, live: bool) -> tuple[_Domain, bool]:
        """virDomainObjListAdd: a name and a UUID name one domain; an active one cannot be
        replaced by a new live definition."""
        for dom in self._state.domains:
            same_uuid = dom.definition.uuid == definition.uuid
            same_name = dom.definition.name == definition.name
            if same_uuid and not same_name:
                raise OperationFailed(
                    f"domain '{dom.definition.name}' is already defined with uuid "
                    f"{dom.definition.uuid}", domain=ErrorDomain.DOMAIN)
            if same_name and not same_uuid:
                raise OperationFailed(
                    f"domain '{dom.definition.name}' already exists with uuid "
                    f"{dom.definition.uuid}", domain=ErrorDomain.DOMAIN)
            if same_uuid:
                if live and dom.active:
                    raise OperationInvalid(
                        f"domain '{dom.definition.name}' is already active",
                        domain=ErrorDomain.DOMAIN)
                return dom, True
        dom = _Domain(definition=definition, persistent=True)
        self._state.domains.append(dom)
        return dom, False

    def domain_undefine_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags("domain_undefine_flags", flags)
        with self._state.lock:
            obj = self._get(dom)
            obj.persistent = False
            obj.next_definition = None
            if not obj.active:
                self._state.domains.remove(obj)
            ref = obj.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_UNDEFINED, C.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)

    def domain_get_xml_desc(self, dom: DomainRef, flags: int = 0) -> str:
        check_flags("domain_get_xml_desc", flags)
        with self._state.lock:
            obj = self._get(dom)
            if flags & C.VIR_DOMAIN_XML_INACTIVE and obj.next_definition is not None:
                return _document(obj.next_definition.to_xml())
            shown = obj.definition.copy()
            shown.id = str(obj.id) if obj.active else None
            return _document(shown.to_xml())

    # Lifecycle -----------------------------------------------------------------------------

    def domain_create_with_flags(self, dom: DomainRef, flags: int = 0) -> DomainRef:
        check_flags("domain_create_with_flags", flags)
        with self._state.lock:
            obj = self._get(dom)
            if obj.active:
                raise InternalError(f"Domain '{obj.definition.name}' is already running",
                                    domain=ErrorDomain.TEST)
            obj.next_definition = obj.definition
            obj.definition = obj.definition.copy()
            self._start(obj, C.VIR_DOMAIN_RUNNING_BOOTED)
            ref = obj.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_STARTED, C.VIR_DOMAIN_EVENT_STARTED_BOOTED)
        return ref

    def _start(self, obj: _Domain, reason: int) -> None:
        """testDomainStartState: running, with the next id."""
        obj.state, obj.reason = C.VIR_DOMAIN_RUNNING, reason
        obj.id = self._state.next_id
        self._state.next_id += 1

    def _stop(self, obj: _Domain, reason: int) -> None:
        """testDomainShutdownState: back to the persistent definition, or gone if there is
        none."""
        if obj.next_definition is not None:
            obj.definition, obj.next_definition = obj.next_definition, None
        obj.state, obj.reason, obj.id = C.VIR_DOMAIN_SHUTOFF, reason, -1
        if not obj.persistent:
            self._state.domains.remove(obj)

    def domain_destroy_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags("domain_destroy_flags", flags)
        with self._state.lock:
            obj = self._get(dom)
            _check_active(obj)
            ref = obj.ref()
            self._stop(obj, C.VIR_DOMAIN_SHUTOFF_DESTROYED)
        self._emit(ref, C.VIR_DOMAIN_EVENT_STOPPED, C.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)

    def domain_suspend(self, dom: DomainRef) -> None:
        with self._state.lock:
            obj = self._get(dom)
            if obj.state in (C.VIR_DOMAIN_SHUTOFF, C.VIR_DOMAIN_PAUSED):
                raise InternalError(f"domain '{dom.name}' not running", domain=ErrorDomain.TEST)
            obj.state, obj.reason = C.VIR_DOMAIN_PAUSED, C.VIR_DOMAIN_PAUSED_USER
            ref = obj.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_SUSPENDED, C.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)

    def domain_resume(self, dom: DomainRef) -> None:
        with self._state.lock:
            obj = self._get(dom)
            if obj.state != C.VIR_DOMAIN_PAUSED:
                raise InternalError(f"domain '{dom.name}' not paused", domain=ErrorDomain.TEST)
            obj.state, obj.reason = C.VIR_DOMAIN_RUNNING, C.VIR_DOMAIN_RUNNING_UNPAUSED
            ref = obj.ref()
        self._emit(ref, C.VIR_DOMAIN_EVENT_RESUMED, C.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)

    def domain_shutdown_flags(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags("domain_shutdown_flags", flags)
        with self._state.lock:
            obj = self._get(dom)
            if obj.state == C.VIR_DOMAIN_SHUTOFF:
                raise InternalError(f"domain '{dom.name}' not running", domain=ErrorDomain.TEST)
            stopped = self._act(obj, str(obj.definition.on_poweroff))
        if stopped is not None:
            self._emit(stopped, C.VIR_DOMAIN_EVENT_STOPPED, C.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)

    def domain_reboot(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags("domain_reboot", flags)
        with self._state.lock:
            obj = self._get(dom)
            _check_active(obj)
            stopped = self._act(obj, str(obj.definition.on_reboot))
        if stopped is not None:
            self._emit(stopped, C.VIR_DOMAIN_EVENT_STOPPED, C.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)

    def _act(self, obj: _Domain, action: str) -> DomainRef | None:
        """Apply a lifecycle action; the handle of the domain if it stopped."""
        state, reason = ACTION_STATES.get(action, ACTION_STATES["destroy"])
        obj.state, obj.reason = state, reason
        if state != C.VIR_DOMAIN_SHUTOFF:
            return None
        ref = obj.ref()
        self._stop(obj, C.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
        return ref

    def domain_reset(self, dom: DomainRef, flags: int = 0) -> None:
        check_flags("domain_reset", flags)
        with self._state.lock:
            _check_active(self._get(dom))

    # State ---------------------------------------------------------------------------------

    def domain_interface_stats(self, dom: DomainRef, device: str) -> InterfaceStats:
        """testDomainInterfaceStats: made-up counters from the clock (microseconds), for a
        NIC named by its MAC or its target device."""
        obj = self._get(dom)
        _check_active(obj)
        _check_net(obj.definition, device)
        base = time.time_ns() // 1000
        return InterfaceStats(base // 10, base // 100, base // 10**6, base // (2 * 10**6),
                              base // 20, base // 110, base // (3 * 10**6),
                              base // (4 * 10**6))

    def domain_get_info(self, dom: DomainRef) -> DomainInfo:
        with self._state.lock:
            obj = self._get(dom)
            d = obj.definition
            # The test driver's CPU time is the wall clock, in ns.
            return DomainInfo(state=obj.state, max_mem=int(d.memory),
                              memory=int(d.current_memory), nr_virt_cpu=_vcpus(d),
                              cpu_time=time.time_ns() // 1000 * 1000)

    def domain_get_state(self, dom: DomainRef, flags: int = 0) -> tuple[int, int]:
        check_flags("domain_get_state", flags)
        with self._state.lock:
            obj = self._get(dom)
            return obj.state, obj.reason

    def domain_get_control_info(self, dom: DomainRef, flags: int = 0) -> tuple[int, int, int]:
        """Nothing stands between the test driver and its domains: always ok, while
        running."""
        check_flags("domain_get_control_info", flags)
        with self._state.lock:
            _check_active(self._get(dom))
        return C.VIR_DOMAIN_CONTROL_OK, 0, 0

    def domain_is_active(self, dom: DomainRef) -> bool:
        with self._state.lock:
            return self._get(dom).active

    def domain_is_persistent(self, dom: DomainRef) -> bool:
        with self._state.lock:
            return self._get(dom).persistent

    def domain_get_autostart(self, dom: DomainRef) -> bool:
        with self._state.lock:
            return self._get(dom).autostart

    def domain_set_autostart(self, dom: DomainRef, autostart: bool) -> None:
        with self._state.lock:
            self._get(dom).autostart = autostart

    def domain_get_security_label(self, dom: DomainRef) -> tuple[str, bool]:
        """Only a running domain has a label."""
        with self._state.lock:
            active = self._get(dom).active
        return (SECURITY_LABEL, True) if active else ("", False)

    def domain_has_managed_save_image(self, dom: DomainRef, flags: int = 0) -> bool:
        check_flags("domain_has_managed_save_image", flags)
        with self._state.lock:
            self._get(dom)
        return False

    def domain_screenshot(self, dom: DomainRef, screen: int,
                          flags: int = 0) -> tuple[str, FileStream]:
        """testDomainScreenshot: libvirt's own test picture, whatever the screen, and even
        of a domain that is not running (libvirt 9.0's test driver does not check)."""
        check_flags("domain_screenshot", flags)
        self._get(dom)
        return "image/png", FileStream(SCREENSHOT)

    def domain_get_metadata(self, dom: DomainRef, type: int, uri: str | None,
                            flags: int = 0) -> str:
        """virDomainObjGetMetadata, for the title and the description."""
        _check_metadata_call("domain_get_metadata", type, flags)
        with self._state.lock:
            obj = self._get(dom)
            config = _impact(obj, flags)[1]
            d = obj.persistent_definition if config else obj.definition
            value = d.title if type == C.VIR_DOMAIN_METADATA_TITLE else d.description
        if value is None:
            raise QvirtError("Requested metadata element is not present",
                             code=ErrorNumber.NO_DOMAIN_METADATA, domain=ErrorDomain.DOMAIN)
        return str(value)

    def domain_set_metadata(self, dom: DomainRef, type: int, metadata: str | None,
                            key: str | None, uri: str | None, flags: int = 0) -> None:
        """virDomainObjSetMetadata: the running definition, the persistent one, or both."""
        _check_metadata_call("domain_set_metadata", type, flags)
        field_name = "title" if type == C.VIR_DOMAIN_METADATA_TITLE else "description"
        with self._state.lock:
            obj = self._get(dom)
            live, config = _impact(obj, flags)
            if obj.active and obj.persistent and obj.next_definition is None:
                # The running definition is a copy of the persistent one (libvirt's
                # virDomainObjSetDefTransient): what changes one leaves the other.
                obj.next_definition = obj.definition.copy()
            targets = ([obj.definition] if live else []) + \
                ([obj.persistent_definition] if config else [])
            for d in targets:
                setattr(d, field_name, metadata or None)

    def domain_get_os_type(self, dom: DomainRef) -> str:
        return OS_TYPE

    def domain_get_max_memory(self, dom: DomainRef) -> int:
        with self._state.lock:
            return int(self._get(dom).definition.memory)

    def domain_get_vcpus_flags(self, dom: DomainRef, flags: int = 0) -> int:
        check_flags("domain_get_vcpus_flags", flags)
        live, config = C.VIR_DOMAIN_AFFECT_LIVE, C.VIR_DOMAIN_AFFECT_CONFIG
        with self._state.lock:
            obj = self._get(dom)
            if flags & live and not obj.active:
                raise OperationInvalid("domain is not running", domain=ErrorDomain.DOMAIN)
            d = obj.persistent_definition if flags & config else obj.definition
            if flags & C.VIR_DOMAIN_VCPU_MAXIMUM:
                return int(d.vcpu)
            return _vcpus(d)

    def connect_get_domain_capabilities(self, emulator: str | None, arch: str | None,
                                        machine: str | None, virttype: str | None,
                                        flags: int = 0) -> str:
        raise NoSupport("virConnectGetDomainCapabilities", domain=ErrorDomain.DOMAIN)

    # Events --------------------------------------------------------------------------------

    def _callback_id(self) -> int:
        with self._state.lock:
            cid = self._state.next_callback
            self._state.next_callback += 1
            return cid

    def connect_domain_event_register_any(self, callback: LifecycleCallback) -> int:
        with self._state.lock:
            cid = self._callback_id()
            self._state.callbacks[cid] = callback
            self._my_callbacks.add(cid)
            return cid

    def connect_domain_event_deregister_any(self, callback_id: int) -> None:
        with self._state.lock:
            if callback_id not in self._my_callbacks:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.NONE)
            self._my_callbacks.discard(callback_id)
            self._state.callbacks.pop(callback_id, None)

    def _emit(self, ref: DomainRef, event: int, detail: int) -> None:
        with self._state.lock:
            callbacks = list(self._state.callbacks.values())
        for callback in callbacks:
            callback(ref, event, detail)


def _document(xml: str) -> str:
    """Documents leave libvirt's formatter ending in a newline."""
    return xml if xml.endswith("\n") else xml + "\n"


def _check_metadata_call(method: str, type: int, flags: int) -> None:
    check_flags(method, flags)
    if type == C.VIR_DOMAIN_METADATA_ELEMENT:
        raise NoSupport("metadata elements are not kept by qvirt's test driver",
                        domain=ErrorDomain.TEST)
    if type not in (C.VIR_DOMAIN_METADATA_TITLE, C.VIR_DOMAIN_METADATA_DESCRIPTION):
        raise InvalidArg(f"unknown metadata type '{type}'", domain=ErrorDomain.DOMAIN)


def _impact(obj: _Domain, flags: int) -> tuple[bool, bool]:
    """virDomainObjUpdateModificationImpact: (live, config) the flags come to."""
    live = bool(flags & C.VIR_DOMAIN_AFFECT_LIVE)
    config = bool(flags & C.VIR_DOMAIN_AFFECT_CONFIG)
    if not live and not config:
        live, config = obj.active, not obj.active
    if live and not obj.active:
        raise OperationInvalid("domain is not running", domain=ErrorDomain.DOMAIN)
    if config and not obj.persistent:
        raise OperationInvalid("transient domains do not have any persistent config",
                               domain=ErrorDomain.DOMAIN)
    return live, config


def _check_net(definition: Domain, device: str) -> None:
    """virDomainNetFind: a MAC-shaped name is compared as a MAC, anything else with the
    NICs' target devices."""
    mac = parse_mac(device)
    for nic in definition.devices.interfaces:
        if (mac is not None and parse_mac(str(nic.mac or "")) == mac) or \
                (mac is None and nic.target_dev == device):
            return
    raise InvalidArg(f"'{device}' is not a known interface", domain=ErrorDomain.DOMAIN)


def _check_active(obj: _Domain) -> None:
    """virDomainObjCheckActive."""
    if not obj.active:
        raise OperationInvalid("domain is not running", domain=ErrorDomain.DOMAIN)


def _vcpus(d: Domain) -> int:
    return int(d.vcpu_current if d.vcpu_current is not None else d.vcpu)


# listAllDomains filter groups: a domain passes a group when the group is not asked for or
# one of its asked-for flags matches (virDomainObjMatchFilter).
_FILTERS: tuple[tuple[tuple[int, Callable[[_Domain], bool]], ...], ...] = (
    ((C.VIR_CONNECT_LIST_DOMAINS_ACTIVE, lambda d: d.active),
     (C.VIR_CONNECT_LIST_DOMAINS_INACTIVE, lambda d: not d.active)),
    ((C.VIR_CONNECT_LIST_DOMAINS_PERSISTENT, lambda d: d.persistent),
     (C.VIR_CONNECT_LIST_DOMAINS_TRANSIENT, lambda d: not d.persistent)),
    ((C.VIR_CONNECT_LIST_DOMAINS_RUNNING, lambda d: d.state == C.VIR_DOMAIN_RUNNING),
     (C.VIR_CONNECT_LIST_DOMAINS_PAUSED, lambda d: d.state == C.VIR_DOMAIN_PAUSED),
     (C.VIR_CONNECT_LIST_DOMAINS_SHUTOFF, lambda d: d.state == C.VIR_DOMAIN_SHUTOFF),
     (C.VIR_CONNECT_LIST_DOMAINS_OTHER, lambda d: d.state not in (
         C.VIR_DOMAIN_RUNNING, C.VIR_DOMAIN_PAUSED, C.VIR_DOMAIN_SHUTOFF))),
    ((C.VIR_CONNECT_LIST_DOMAINS_AUTOSTART, lambda d: d.autostart),
     (C.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, lambda d: not d.autostart)),
    ((C.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE, lambda d: False),
     (C.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE, lambda d: True)),
    ((C.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT, lambda d: False),
     (C.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT, lambda d: True)),
    ((C.VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT, lambda d: False),
     (C.VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, lambda d: True)),
)


def _matches(dom: _Domain, flags: int) -> bool:
    for group in _FILTERS:
        asked = [test for flag, test in group if flags & flag]
        if asked and not any(test(dom) for test in asked):
            return False
    return True


# Shared default node -------------------------------------------------------------------------

def _new_state(node: Node) -> _State:
    """testParseDomains: each domain starts running unless its test:runstate says otherwise."""
    state = _State(node=node, storage=node_storage(node.pools),
                   networks=node_networks(node.networks))
    for xml in node.domains:
        element = etree.fromstring(xml.encode())
        definition = Domain.from_xml(xml)
        defaults.apply(definition)
        transient = element.find(f"{{{_TEST_NS}}}transient") is not None
        runstate_text = element.findtext(f"{{{_TEST_NS}}}runstate")
        try:
            runstate = int(runstate_text) if runstate_text else C.VIR_DOMAIN_RUNNING
        except ValueError:
            raise XMLError("invalid runstate", domain=ErrorDomain.TEST) from None
        if runstate > C.VIR_DOMAIN_PMSUSPENDED:
            raise XMLError(f"runstate '{runstate}' out of range'", domain=ErrorDomain.TEST)
        if transient and runstate == C.VIR_DOMAIN_SHUTOFF:
            raise XMLError("transient domain cannot have runstate 'shutoff'",
                           domain=ErrorDomain.TEST)
        dom = _Domain(definition=definition, persistent=not transient)
        state.domains.append(dom)
        if runstate != C.VIR_DOMAIN_SHUTOFF:
            dom.next_definition = definition.copy() if dom.persistent else None
            dom.id = state.next_id
            state.next_id += 1
        dom.state, dom.reason = runstate, 0
    return state


def _open_default() -> _State:
    global _default_state
    with _default_lock:
        if _default_state is None:
            _default_state = _new_state(default_node())
        _default_state.users += 1
        return _default_state


def _close_default() -> None:
    global _default_state
    with _default_lock:
        if _default_state is not None:
            _default_state.users -= 1
            if _default_state.users == 0:
                _default_state = None
