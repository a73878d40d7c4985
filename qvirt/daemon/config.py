"""qvirtd.conf: the keys of libvirtd.conf that qvirtd honours, their types and defaults.

The dataclass below is the table: each field names a key, its kind (how libvirt's
virConfGetValue* reads it) and its default (daemonConfigNew's). Loading walks the fields in
libvirt's order (daemonConfigLoadOptions), so of two bad keys the same one is reported, with
libvirt's texts. Keys the table does not name are ignored, as libvirtd ignores them.

Authentication: only "none" is served. "sasl" and "polkit" are refused at startup with the
error libvirtd gives for an auth scheme it was built without, never silently dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from qvirt.daemon.conffile import ConfType, ConfValue, read_conf
from qvirt.errors import ConfigUnsupported, ErrorDomain, InternalError

INT_MIN, INT_MAX, UINT_MAX = -(1 << 31), (1 << 31) - 1, (1 << 32) - 1

AUTH_NONE = "none"


class Kind(Enum):
    """Which virConfGetValue* reads a key."""

    BOOL = "bool"
    INT = "int"
    UINT = "uint"
    STRING = "string"
    AUTH = "auth"


def _key(kind: Kind, default: Any) -> Any:
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class DaemonConfig:
    """libvirtd.conf's keys as qvirtd reads them; fields in daemonConfigLoadOptions' order."""

    listen_tcp: bool = _key(Kind.BOOL, False)
    listen_tls: bool = _key(Kind.BOOL, False)
    tls_port: str = _key(Kind.STRING, "16514")
    tcp_port: str = _key(Kind.STRING, "16509")
    listen_addr: str | None = _key(Kind.STRING, None)
    auth_unix_rw: str = _key(Kind.AUTH, AUTH_NONE)
    auth_unix_ro: str = _key(Kind.AUTH, AUTH_NONE)
    auth_tcp: str = _key(Kind.AUTH, AUTH_NONE)
    auth_tls: str = _key(Kind.AUTH, AUTH_NONE)
    unix_sock_group: str | None = _key(Kind.STRING, None)
    unix_sock_ro_perms: str = _key(Kind.STRING, "0777")
    unix_sock_rw_perms: str = _key(Kind.STRING, "0700")
    tls_no_verify_certificate: bool = _key(Kind.BOOL, False)
    key_file: str | None = _key(Kind.STRING, None)
    cert_file: str | None = _key(Kind.STRING, None)
    ca_file: str | None = _key(Kind.STRING, None)
    crl_file: str | None = _key(Kind.STRING, None)
    max_workers: int = _key(Kind.UINT, 20)
    max_clients: int = _key(Kind.UINT, 5000)
    max_client_requests: int = _key(Kind.UINT, 5)
    # 0: the default priority (warnings), as libvirt leaves an unset log_level.
    log_level: int = _key(Kind.UINT, 0)
    log_outputs: str | None = _key(Kind.STRING, None)
    keepalive_interval: int = _key(Kind.INT, 5)
    keepalive_count: int = _key(Kind.UINT, 5)


def _bad(filename: str, text: str) -> InternalError:
    return InternalError(f"{filename}: {text}", domain=ErrorDomain.CONF)


def _read(kind: Kind, name: str, value: ConfValue, filename: str) -> Any:
    """virConfGetValueBool/Int/UInt/String on one present entry."""
    number = value.value if isinstance(value.value, int) else 0
    if kind is Kind.BOOL:
        if value.type is not ConfType.ULLONG:
            raise _bad(filename, f"expected a bool for '{name}' parameter")
        if number > 1:
            raise _bad(filename, f"value for '{name}' parameter must be 0 or 1")
        return number == 1
    if kind is Kind.INT:
        if value.type not in (ConfType.LLONG, ConfType.ULLONG):
            raise _bad(filename, f"expected a signed integer for '{name}' parameter")
        if not INT_MIN <= number <= INT_MAX:
            raise _bad(filename, f"value for '{name}' parameter must be in range "
                                 f"{INT_MIN}:{INT_MAX}")
        return number
    if kind is Kind.UINT:
        if value.type is not ConfType.ULLONG:
            raise _bad(filename, f"expected an unsigned integer for '{name}' parameter")
        if number > UINT_MAX:
            raise _bad(filename, f"value for '{name}' parameter must be in range 0:{UINT_MAX}")
        return number
    if value.type is not ConfType.STRING:
        raise _bad(filename, f"expected a string for '{name}' parameter")
    if kind is Kind.AUTH and value.value != AUTH_NONE:
        # remoteConfigGetAuth's refusal of a scheme the daemon cannot do.
        raise ConfigUnsupported(f"{filename}: {name}: unsupported auth {value.value}",
                                domain=ErrorDomain.CONF)
    return value.value


def config_from(entries: dict[str, ConfValue], filename: str) -> DaemonConfig:
    """The configuration ``entries`` give, checked in libvirt's order."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(DaemonConfig):
        if f.name in entries:
            values[f.name] = _read(f.metadata["kind"], f.name, entries[f.name], filename)
        if f.name == "max_workers" and values.get(f.name, 1) < 1:
            raise InternalError("'max_workers' must be greater than 0",
                                domain=ErrorDomain.CONF)
    return DaemonConfig(**values)


def load_config(path: Path | None, default: Path) -> DaemonConfig:
    """``path`` (from --config) must exist; without it, ``default`` is read if it exists,
    as daemonConfigLoadFile allows the implicit file to be missing."""
    if path is None:
        if not default.exists():
            return DaemonConfig()
        path = default
    return config_from(read_conf(path), str(path))
