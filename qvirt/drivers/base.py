"""The driver interface: one Protocol per object kind, a method per public API entry point
(libvirt's src/driver-hypervisor.h, in snake_case), each taking ``flags`` from the start.

Objects cross the interface as references, not live objects: a ``DomainRef`` carries what
libvirt's remote_nonnull_domain carries (name, uuid, id), so the same calls serve the
in-process drivers, the daemon's dispatch and the remote driver alike. Documents cross as XML
text, as they do in libvirt's API.

What not every driver offers (consoles, security labels, managed save) is a Protocol of its
own, outside HypervisorDriver: the public API's entry.call answers NoSupport for a driver that
lacks the method, as libvirt does for a NULL driver entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class DomainRef(NamedTuple):
    """A tuple, not a frozen dataclass: a list of every domain makes thousands, and a frozen
    dataclass's __init__ costs ten times a tuple's."""

    name: str
    uuid: str          # canonical 36-character form
    id: int = -1       # -1 while the domain is not running


@dataclass(frozen=True)
class NodeInfo:
    """virNodeInfo: what `virsh nodeinfo` prints."""

    model: str
    memory: int        # KiB
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int


@dataclass(frozen=True)
class DomainInfo:
    """virDomainInfo: state (VIR_DOMAIN_*), max and current memory in KiB, vCPUs, CPU ns."""

    state: int
    max_mem: int
    memory: int
    nr_virt_cpu: int
    cpu_time: int


# callback(domain, event, detail): a VIR_DOMAIN_EVENT_* and its detail.
LifecycleCallback = Callable[[DomainRef, int, int], None]


class ConnectDriver(Protocol):
    """What every hypervisor connection answers about itself and its host."""

    def connect_get_type(self) -> str: ...
    def connect_get_version(self) -> int: ...
    def connect_get_hostname(self) -> str: ...
    def connect_get_uri(self) -> str: ...
    def connect_get_capabilities(self) -> str: ...
    def connect_get_domain_capabilities(self, emulator: str | None, arch: str | None,
                                        machine: str | None, virttype: str | None,
                                        flags: int = 0) -> str: ...
    def connect_get_max_vcpus(self, type: str | None) -> int: ...
    def node_get_info(self) -> NodeInfo: ...
    def connect_close(self) -> None: ...


class DomainDriver(Protocol):
    """Domains: look-up, definition, lifecycle, state and events."""

    def connect_list_all_domains(self, flags: int = 0) -> list[DomainRef]: ...
    def domain_lookup_by_name(self, name: str) -> DomainRef: ...
    def domain_lookup_by_uuid(self, uuid: str) -> DomainRef: ...
    def domain_lookup_by_id(self, id: int) -> DomainRef: ...
    def domain_define_xml_flags(self, xml: str, flags: int = 0) -> DomainRef: ...
    def domain_undefine_flags(self, dom: DomainRef, flags: int = 0) -> None: ...
    def domain_create_xml(self, xml: str, flags: int = 0) -> DomainRef: ...
    def domain_create_with_flags(self, dom: DomainRef, flags: int = 0) -> DomainRef: ...
    def domain_get_xml_desc(self, dom: DomainRef, flags: int = 0) -> str: ...
    def domain_suspend(self, dom: DomainRef) -> None: ...
    def domain_resume(self, dom: DomainRef) -> None: ...
    def domain_shutdown_flags(self, dom: DomainRef, flags: int = 0) -> None: ...
    def domain_reboot(self, dom: DomainRef, flags: int = 0) -> None: ...
    def domain_reset(self, dom: DomainRef, flags: int = 0) -> None: ...
    def domain_destroy_flags(self, dom: DomainRef, flags: int = 0) -> None: ...
    def domain_get_info(self, dom: DomainRef) -> DomainInfo: ...
    def domain_get_state(self, dom: DomainRef, flags: int = 0) -> tuple[int, int]: ...
    def domain_is_active(self, dom: DomainRef) -> bool: ...
    def domain_is_persistent(self, dom: DomainRef) -> bool: ...
    def domain_get_autostart(self, dom: DomainRef) -> bool: ...
    def domain_set_autostart(self, dom: DomainRef, autostart: bool) -> None: ...
    def domain_get_os_type(self, dom: DomainRef) -> str: ...
    def domain_get_max_memory(self, dom: DomainRef) -> int: ...
    def domain_get_vcpus_flags(self, dom: DomainRef, flags: int = 0) -> int: ...
    def connect_domain_event_register_any(self, callback: LifecycleCallback) -> int: ...
    def connect_domain_event_deregister_any(self, callback_id: int) -> None: ...


class HypervisorDriver(ConnectDriver, DomainDriver, Protocol):
    """A connection's hypervisor side: what qemu:///, test:/// and the remote driver offer."""


class DeviceStream(Protocol):
    """A character device a driver opened for one client (a domain's console pty), which the
    daemon relays as a stream: a non-blocking descriptor its loop waits on.

    The driver may take the device back while the client holds it (another client forced the
    console open): it then calls the handler given to ``on_revoke``, from any thread, and the
    holder is expected to close the stream."""

    def fileno(self) -> int: ...
    def read(self, size: int) -> bytes: ...     # b"" at the device's end; BlockingIOError if idle
    def write(self, data: bytes) -> int: ...    # bytes taken; BlockingIOError if full
    def close(self) -> None: ...                # releases the device; idempotent
    def on_revoke(self, handler: Callable[[], None]) -> None: ...


class ConsoleDriver(Protocol):
    """virDomainOpenConsole: ``dev_name`` is a device alias ("serial0", "console0"), None for
    the domain's first console; flags VIR_DOMAIN_CONSOLE_FORCE and _SAFE."""

    def domain_open_console(self, dom: DomainRef, dev_name: str | None,
                            flags: int = 0) -> DeviceStream: ...


class ScreenshotDriver(Protocol):
    """virDomainScreenshot: the image's MIME type and the stream that carries it; ``screen``
    counts the heads of the domain's video devices in order."""

    def domain_screenshot(self, dom: DomainRef, screen: int,
                          flags: int = 0) -> tuple[str, DeviceStream]: ...


class SecurityDriver(Protocol):
    """The host's primary security model (model, DOI) and a domain's process label (label,
    enforcing); empty strings where no model or label applies."""

    def node_get_security_model(self) -> tuple[str, str]: ...
    def domain_get_security_label(self, dom: DomainRef) -> tuple[str, bool]: ...


class ManagedSaveDriver(Protocol):
    def domain_has_managed_save_image(self, dom: DomainRef, flags: int = 0) -> bool: ...


class ControlInfoDriver(Protocol):
    """virDomainGetControlInfo: (state, details, stateTime in ms), VIR_DOMAIN_CONTROL_*."""

    def domain_get_control_info(self, dom: DomainRef,
                                flags: int = 0) -> tuple[int, int, int]: ...
