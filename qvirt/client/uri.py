"""Connection URIs: ``driver[+transport]://[user@][host][:port]/path[?params]``.

A URI names a driver (the scheme before ``+``) and, when it carries a transport or a host, the
way to reach a remote daemon. Parsing is pure: it says what the URI asks for and rejects what
libvirt rejects (virURIParse, then remote_open's checks), with libvirt's error texts; opening is
the registry's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, InvalidArg, QvirtError

# Transports and the port each uses when the URI names none (None: not a network port).
TRANSPORTS: dict[str, int | None] = {
    "tls": 16514,
    "tcp": 16509,
    "unix": None,
    "ssh": 22,
    "ext": None,
    "libssh2": 22,
    "libssh": 22,
}
# The transport of a URI that names a host but no transport (the guide's "default is TLS").
DEFAULT_REMOTE_TRANSPORT = "tls"

# Extra parameters the remote driver reads (doRemoteOpen); the rest pass through to the remote
# side's URI untouched, as libvirt passes them.
REMOTE_PARAMS = frozenset({
    "name", "command", "socket", "auth", "netcat", "keyfile", "sshauth", "known_hosts",
    "known_hosts_verify", "no_sanity", "no_verify", "no_tty", "pkipath", "tls_priority",
    "mode", "proxy", "tls",
})
REMOTE_MODES = ("auto", "legacy", "direct")

# scheme://authority/path?query#fragment, as RFC 3986's appendix B splits it; the authority's
# [user@]host[:port] is split afterwards so that a bad port is an error, not a silent None.
_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?://(?P<authority>[^/?#]*))?"
                  r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?$")
_AUTHORITY = re.compile(r"^(?:(?P<user>[^@]*)@)?(?P<host>\[[^\]]*\]|[^:]*)(?::(?P<port>.*))?$")


def _unparsable(text: str) -> InternalError:
    return InternalError(f"Unable to parse URI {text}", domain=ErrorDomain.URI)


def _remote_arg(detail: str) -> InvalidArg:
    return InvalidArg(detail, domain=ErrorDomain.REMOTE)


@dataclass(frozen=True)
class ConnectURI:
    """One parsed URI. ``params`` keep their order and repeats, values unescaped."""

    text: str
    driver: str
    transport: str | None = None
    user: str | None = None
    host: str | None = None
    port: int | None = None
    path: str = ""
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def is_remote(self) -> bool:
        """Whether the URI asks for a daemon reached over a transport rather than a local
        driver (remote_open claims URIs with a transport or a host)."""
        return self.transport is not None or bool(self.host) or self.driver == "remote"

    @property
    def effective_transport(self) -> str:
        """The transport used: the named one, else TLS to a named host, else the local socket."""
        if self.transport is not None:
            return self.transport
        return DEFAULT_REMOTE_TRANSPORT if self.host else "unix"

    @property
    def effective_port(self) -> int | None:
        return self.port if self.port is not None else TRANSPORTS[self.effective_transport]

    def param(self, name: str) -> str | None:
        """The last value given for ``name`` (libvirt keeps the last of repeated params)."""
        found = None
        for key, value in self.params:
            if key == name:
                found = value
        return found

    @property
    def remote_name(self) -> str:
        """The URI the remote daemon opens: ``name=`` if given, else this URI without its
        transport, user, host, port and the remote driver's own parameters."""
        explicit = self.param("name")
        if explicit is not None:
            return explicit
        kept = [f"{k}={v}" for k, v in self.params if k not in REMOTE_PARAMS]
        query = "?" + "&".join(kept) if kept else ""
        return f"{self.driver}://{self.path}{query}"


def parse_uri(text: str) -> ConnectURI:
    """Parse ``text`` or raise libvirt's error for it."""
    match = _URI.match(text)
    if match is None:  # a fragment is allowed, and ignored, as libvirt ignores it
        raise _unparsable(text)
    scheme = match["scheme"]
    driver, _, transport = scheme.partition("+")
    user = host = None
    port: int | None = None
    authority = match["authority"]
    if authority:
        parts = _AUTHORITY.match(authority)
        if parts is None:
            raise _unparsable(text)
        user = unquote(parts["user"]) if parts["user"] is not None else None
        host = parts["host"].strip("[]") or None
        if parts["port"]:
            if not parts["port"].isdigit():
                raise _unparsable(text)
            port = int(parts["port"])
    params = tuple(_split_query(match["query"] or ""))
    uri = ConnectURI(text=text, driver=driver, transport=transport or None, user=user,
                     host=host, port=port, path=unquote(match["path"]), params=params)
    if uri.is_remote:
        _check_remote(uri)
    return uri


def _split_query(query: str) -> list[tuple[str, str]]:
    """virURIParseParams: ``&`` or ``;`` separate params, ``+`` is a space, values unescaped."""
    out = []
    for item in re.split(r"[&;]", query):
        if not item:
            continue
        name, _, value = item.partition("=")
        out.append((unquote(name.replace("+", " ")), unquote(value.replace("+", " "))))
    return out


def _check_remote(uri: ConnectURI) -> None:
    """remote_open's checks of a URI, before any connection is tried."""
    transport = uri.effective_transport
    if transport not in TRANSPORTS:
        raise _remote_arg("remote_open: transport in URL not recognised "
                          "(should be tls|unix|ssh|ext|tcp|libssh2|libssh)")
    if transport == "unix" and uri.host:
        raise _remote_arg(f"using unix socket and remote server '{uri.host}' is not supported.")
    if transport == "ext" and uri.param("command") is None:
        raise _remote_arg("remote_open: for 'ext' transport, command is required")
    mode = uri.param("mode")
    if mode is not None and mode not in REMOTE_MODES:
        raise _remote_arg(f"Unknown remote mode '{mode}'")


def no_driver(text: str) -> QvirtError:
    """What virConnectOpen says when no driver takes the URI."""
    return QvirtError(text, code=ErrorNumber.NO_CONNECT, domain=ErrorDomain.NONE)
