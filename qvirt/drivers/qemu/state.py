"""libvirt's domain states, reasons and lifecycle events, with the numbers of
include/libvirt/libvirt-domain.h (they travel on the wire and reach libvirt-python unchanged)."""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7


class Running(IntEnum):
    UNKNOWN = 0
    BOOTED = 1
    MIGRATED = 2
    RESTORED = 3
    FROM_SNAPSHOT = 4
    UNPAUSED = 5
    MIGRATION_CANCELED = 6
    SAVE_CANCELED = 7
    WAKEUP = 8
    CRASHED = 9
    POSTCOPY = 10
    POSTCOPY_FAILED = 11


class Paused(IntEnum):
    UNKNOWN = 0
    USER = 1
    MIGRATION = 2
    SAVE = 3
    DUMP = 4
    IOERROR = 5
    WATCHDOG = 6
    FROM_SNAPSHOT = 7
    SHUTTING_DOWN = 8
    SNAPSHOT = 9
    CRASHED = 10
    STARTING_UP = 11
    POSTCOPY = 12
    POSTCOPY_FAILED = 13


class Shutdown(IntEnum):
    UNKNOWN = 0
    USER = 1


class Shutoff(IntEnum):
    UNKNOWN = 0
    SHUTDOWN = 1
    DESTROYED = 2
    CRASHED = 3
    MIGRATED = 4
    SAVED = 5
    FAILED = 6
    FROM_SNAPSHOT = 7
    DAEMON = 8


class Crashed(IntEnum):
    UNKNOWN = 0
    PANICKED = 1


# State -> its reason enum: the names libvirt writes in status XML (state='running'
# reason='booted') come from these, lower-cased.
REASONS: dict[State, type[IntEnum]] = {
    State.RUNNING: Running,
    State.PAUSED: Paused,
    State.SHUTDOWN: Shutdown,
    State.SHUTOFF: Shutoff,
    State.CRASHED: Crashed,
}

STATE_NAMES: dict[State, str] = {
    State.NOSTATE: "nostate", State.RUNNING: "running", State.BLOCKED: "blocked",
    State.PAUSED: "paused", State.SHUTDOWN: "shutdown", State.SHUTOFF: "shutoff",
    State.CRASHED: "crashed", State.PMSUSPENDED: "pmsuspended",
}


def reason_name(state: State, reason: int) -> str:
    enum = REASONS.get(state)
    return enum(reason).name.lower().replace("_", "-") if enum is not None else "unknown"


def parse_state(state_name: str, reason_text: str) -> tuple[State, int]:
    state = next((s for s, n in STATE_NAMES.items() if n == state_name), State.NOSTATE)
    enum = REASONS.get(state)
    if enum is None:
        return state, 0
    key = reason_text.upper().replace("-", "_")
    return state, int(enum[key]) if key in enum.__members__ else 0


class Event(IntEnum):
    """virDomainEventType."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    SUSPENDED = 3
    RESUMED = 4
    STOPPED = 5
    SHUTDOWN = 6
    PMSUSPENDED = 7
    CRASHED = 8


class Defined(IntEnum):
    ADDED = 0
    UPDATED = 1
    RENAMED = 2
    FROM_SNAPSHOT = 3


class Undefined(IntEnum):
    REMOVED = 0
    RENAMED = 1


class Started(IntEnum):
    BOOTED = 0
    MIGRATED = 1
    RESTORED = 2
    FROM_SNAPSHOT = 3
    WAKEUP = 4


class Suspended(IntEnum):
    PAUSED = 0
    MIGRATED = 1
    IOERROR = 2
    WATCHDOG = 3
    RESTORED = 4
    FROM_SNAPSHOT = 5
    API_ERROR = 6
    POSTCOPY = 7
    POSTCOPY_FAILED = 8


class Resumed(IntEnum):
    UNPAUSED = 0
    MIGRATED = 1
    FROM_SNAPSHOT = 2
    POSTCOPY = 3
    POSTCOPY_FAILED = 4


class Stopped(IntEnum):
    SHUTDOWN = 0
    DESTROYED = 1
    CRASHED = 2
    MIGRATED = 3
    SAVED = 4
    FAILED = 5
    FROM_SNAPSHOT = 6


class ShutdownDetail(IntEnum):
    FINISHED = 0
    GUEST = 1
    HOST = 2


class CrashedDetail(IntEnum):
    PANICKED = 0
    CRASHLOADED = 1


class CreateFlags(IntEnum):
    """virDomainCreateFlags."""

    START_PAUSED = 1
    START_AUTODESTROY = 2
    START_BYPASS_CACHE = 4
    START_FORCE_BOOT = 8
    START_VALIDATE = 16
    START_RESET_NVRAM = 32


class UndefineFlags(IntEnum):
    MANAGED_SAVE = 1
    SNAPSHOTS_METADATA = 2
    NVRAM = 4
    KEEP_NVRAM = 8
    CHECKPOINTS_METADATA = 16
    TPM = 32
    KEEP_TPM = 64


class ShutdownFlags(IntEnum):
    """virDomainShutdownFlagValues (virDomainRebootFlagValues has the same numbers)."""

    DEFAULT = 0
    ACPI_POWER_BTN = 1
    GUEST_AGENT = 2
    INITCTL = 4
    SIGNAL = 8
    PARAVIRT = 16


class DestroyFlags(IntEnum):
    DEFAULT = 0
    GRACEFUL = 1
    REMOVE_LOGS = 2


class XMLFlags(IntEnum):
    SECURE = 1
    INACTIVE = 2
    UPDATE_CPU = 4
    MIGRATABLE = 8


class DefineFlags(IntEnum):
    VALIDATE = 1


class ListFlags(IntEnum):
    """virConnectListAllDomainsFlags."""

    ACTIVE = 1
    INACTIVE = 2
    PERSISTENT = 4
    TRANSIENT = 8
    RUNNING = 16
    PAUSED = 32
    SHUTOFF = 64
    OTHER = 128
    MANAGEDSAVE = 256
    NO_MANAGEDSAVE = 512
    AUTOSTART = 1024
    NO_AUTOSTART = 2048
    HAS_SNAPSHOT = 4096
    NO_SNAPSHOT = 8192
    HAS_CHECKPOINT = 16384
    NO_CHECKPOINT = 32768
