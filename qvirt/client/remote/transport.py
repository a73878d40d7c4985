"""The transports of a remote URI (DESIGN.md contract 4), each opening a Channel as libvirt's
doRemoteOpen opens its virNetClient: unix (the socket= path, else the mode's qvirtd socket, with
the per-user daemon started on demand for session URIs), tcp, tls (x509 at libvirt's PKI paths),
ssh (the system's ssh client, running nc -U or qvirtd --stdio on the far side) and ext (any
command whose stdin and stdout are the stream).
"""

from __future__ import annotations

import errno
import fcntl
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from qvirt.client.remote.channel import Channel, TLSChannel, connect_command, system_error
from qvirt.client.uri import ConnectURI
from qvirt.errors import ErrorDomain, ErrorNumber, InternalError, QvirtError
from qvirt.util.sockets import SOCK_RO, SOCK_RW, SYSTEM_RUN_DIR, session_socket_dir

# The per-user daemon a session URI starts when nothing listens (libvirt starts
# ``libvirtd --timeout=120``); a list so the command can be swapped for another daemon.
_QVIRTD = Path(sys.executable).with_name("qvirtd")
SESSION_DAEMON = [str(_QVIRTD) if _QVIRTD.exists() else "qvirtd", "--session", "--timeout", "30"]
# How long a client waits for a daemon it started to listen.
SPAWN_WAIT = 30.0
SPAWN_POLL = 0.05

# libvirt's PKI paths for a client (virnettlsconfig.c).
PKI_CA = Path("/etc/pki/CA/cacert.pem")
PKI_CERT = Path("/etc/pki/libvirt/clientcert.pem")
PKI_KEY = Path("/etc/pki/libvirt/private/clientkey.pem")

# The ssh transport's far side (virNetClientSSHHelperCommand's shell snippets): nc -U the socket,
# with -q0 where that nc needs it to exit on EOF, or qvirtd's own stdio mode where it has one.
_NETCAT = ("if {nc} -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; then ARG=-q0;"
           "else ARG=;fi;{nc} $ARG -U {socket}")
_NATIVE = "qvirtd --stdio {uri}"
_AUTO = ("if qvirtd --help 2>/dev/null | grep -q -- --stdio; then     {native}; "
         "else    {netcat}; fi")
PROXY_MODES = ("auto", "netcat", "native")


def _flag(uri: ConnectURI, name: str) -> bool:
    """A numeric URI flag, non-zero meaning on (libvirt parses these with virStrToLong_i)."""
    value = uri.param(name)
    try:
        return value is not None and int(value) != 0
    except ValueError:
        return False


def _remote_arg(text: str) -> QvirtError:
    return QvirtError(text, code=ErrorNumber.INVALID_ARG, domain=ErrorDomain.REMOTE)


# unix ------------------------------------------------------------------------------------


def _is_session(uri: ConnectURI) -> bool:
    return uri.path.startswith("/session")


def unix_socket_path(uri: ConnectURI, read_only: bool) -> Path:
    """remoteGetUNIXSocket: socket= if given, else the session daemon's socket for a session
    URI, else the system daemon's read-write or read-only socket."""
    explicit = uri.param("socket")
    if explicit is not None:
        return Path(explicit)
    if _is_session(uri):
        return session_socket_dir() / SOCK_RW
    return SYSTEM_RUN_DIR / (SOCK_RO if read_only else SOCK_RW)


def _connect_unix(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def open_unix(uri: ConnectURI, read_only: bool) -> Channel:
    path = unix_socket_path(uri, read_only)
    spawn = uri.param("socket") is None and _is_session(uri)
    try:
        sock = _spawn_and_connect(path) if spawn else _connect_unix(path)
    except OSError as err:
        raise system_error(f"Failed to connect socket to '{path}'",
                           err.errno or errno.EIO) from None
    return Channel(sock, secure=True)


def _spawn_and_connect(path: Path) -> socket.socket:
    """virNetSocketNewConnectUNIX with spawnDaemon: under a lock beside the socket, so two
    clients never both start a daemon, connect; if nothing listens, start the per-user daemon
    detached and wait for its socket."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path.parent / "qvirtd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _connect_unix(path)
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        proc = subprocess.Popen(SESSION_DAEMON, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True)
        # Reaped whenever it exits, so it never lingers as our zombie (libvirt daemonizes it).
        threading.Thread(target=proc.wait, name="qvirt-session-reaper", daemon=True).start()
        deadline = time.monotonic() + SPAWN_WAIT
        while True:
            try:
                return _connect_unix(path)
            except (FileNotFoundError, ConnectionRefusedError):
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise
            time.sleep(SPAWN_POLL)


# tcp and tls -----------------------------------------------------------------------------


def _connect_tcp(host: str, port: int) -> socket.socket:
    """virNetSocketNewConnectTCP: every address the name resolves to, in order."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise QvirtError(f"Unable to resolve address '{host}' service '{port}': {err.strerror}",
                         code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.RPC) from None
    last = errno.ECONNREFUSED
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.connect(address)
        except OSError as err:
            sock.close()
            last = err.errno or last
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise system_error(f"unable to connect to server at '{host}:{port}'", last)


def open_tcp(uri: ConnectURI) -> Channel:
    port = uri.effective_port
    assert port is not None
    return Channel(_connect_tcp(uri.host or "localhost", port), secure=False)


def _pki_paths(uri: ConnectURI) -> tuple[Path, Path, Path]:
    """CA certificate, client certificate and key: under pkipath= if given (libvirt's file
    names), else libvirt's system paths."""
    pkipath = uri.param("pkipath")
    if pkipath is not None:
        base = Path(pkipath)
        return base / "cacert.pem", base / "clientcert.pem", base / "clientkey.pem"
    return PKI_CA, PKI_CERT, PKI_KEY


def _tls_context(uri: ConnectURI) -> ssl.SSLContext:
    """The client's credentials as virNetTLSContextNewClientPath loads them: the CA is required;
    a certificate and key are presented when both files exist."""
    cacert, cert, key = _pki_paths(uri)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(cafile=cacert)
    except OSError as err:
        raise system_error(f"Cannot read CA certificate '{cacert}'",
                           err.errno or errno.EIO) from None
    except ssl.SSLError as err:
        raise InternalError(f"Unable to set x509 CA certificate: {cacert}: {err.reason}",
                            domain=ErrorDomain.RPC) from None
    if cert.exists() and key.exists():
        try:
            ctx.load_cert_chain(cert, key)
        except ssl.SSLError as err:
            raise InternalError(f"Unable to set x509 key and certificate: {key}, {cert}: "
                                f"{err.reason}", domain=ErrorDomain.RPC) from None
        _check_own_certificate(cacert, cert, key)
    if _flag(uri, "no_verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


# OpenSSL's verify codes -> GnuTLS's reasons as libvirt words them.
_CERT_REASONS = {
    2: "The certificate hasn't got a known issuer.",    # unable to get issuer certificate
    20: "The certificate hasn't got a known issuer.",   # unable to get local issuer
    21: "The certificate hasn't got a known issuer.",   # unable to verify the first cert
    23: "The certificate has been revoked.",
}
_CERT_NOT_TRUSTED = "The certificate is not trusted."


def _check_own_certificate(cacert: Path, cert: Path, key: Path) -> None:
    """virNetTLSContextSanityCheckCredentials: our own certificate must chain to the CA we
    trust, or no daemon using that CA would take it. Checked by OpenSSL itself, in a TLS
    handshake held in memory between a server that demands this CA and a client presenting
    our certificate."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    server.load_verify_locations(cafile=cacert)
    server.verify_mode = ssl.CERT_REQUIRED
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.load_cert_chain(cert, key)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    ours = client.wrap_bio(c_in, c_out)
    theirs = server.wrap_bio(s_in, s_out, server_side=True)
    done = [False, False]
    for _ in range(8):
        for i, (end, out, peer_in) in enumerate(((ours, c_out, s_in), (theirs, s_out, c_in))):
            try:
                end.do_handshake()
                done[i] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as err:
                if i == 0:
                    raise
                reason = _CERT_REASONS.get(err.verify_code, _CERT_NOT_TRUSTED)
                raise QvirtError(f"Our own certificate {cert} failed validation against "
                                 f"{cacert}: {reason}", code=ErrorNumber.SYSTEM_ERROR,
                                 domain=ErrorDomain.RPC) from None
            peer_in.write(out.read())
        if all(done):
            return


def _auth_failed(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.AUTH_FAILED, domain=ErrorDomain.RPC)


def open_tls(uri: ConnectURI) -> Channel:
    """TLS to the daemon, the server's certificate checked against the CA and the URI's host
    unless no_verify=1; then libvirtd's one-byte verdict on our own certificate."""
    ctx = _tls_context(uri)
    host = uri.host or "localhost"
    port = uri.effective_port
    assert port is not None
    sock = _connect_tcp(host, port)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=host)
    try:
        _handshake(sock, tls, incoming, outgoing)
    except ssl.SSLCertVerificationError:
        sock.close()
        raise _auth_failed("Failed to verify peer's certificate") from None
    except (ssl.SSLError, OSError) as err:
        sock.close()
        raise _auth_failed(f"TLS handshake failed {err}") from None
    channel = TLSChannel(sock, tls, incoming, outgoing)
    try:
        verdict = channel.read_exact(1)
    except QvirtError:
        channel.close()
        raise system_error("Unable to read TLS confirmation", errno.EIO) from None
    if verdict != b"\1":
        channel.close()
        raise QvirtError("server verification (of our certificate or IP address) failed",
                         code=ErrorNumber.RPC, domain=ErrorDomain.RPC)
    return channel


def _handshake(sock: socket.socket, tls: ssl.SSLObject, incoming: ssl.MemoryBIO,
               outgoing: ssl.MemoryBIO) -> None:
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        if pending := outgoing.read():
            sock.sendall(pending)
        data = sock.recv(65536)
        if not data:
            raise ssl.SSLEOFError("The TLS connection was non-properly terminated.")
        incoming.write(data)
    if pending := outgoing.read():
        sock.sendall(pending)


# ssh and ext -----------------------------------------------------------------------------


def _shell_quote(text: str) -> str:
    """virBufferEscapeShell: always single-quoted, embedded quotes as '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def ssh_far_command(uri: ConnectURI, read_only: bool) -> str:
    """The shell command ssh runs on the far side, per the proxy= mode."""
    mode = uri.param("proxy") or "auto"
    if mode not in PROXY_MODES:
        raise _remote_arg(f"Unnkown proxy type '{mode}'")  # libvirt's spelling
    netcat = _NETCAT.format(nc=_shell_quote(uri.param("netcat") or "nc"),
                            socket=uri.param("socket") or unix_socket_path(uri, read_only))
    native = _NATIVE.format(uri=_shell_quote(uri.remote_name))
    script = {"netcat": netcat, "native": native,
              "auto": _AUTO.format(native=native, netcat=netcat)}[mode]
    return f"sh -c '{script}'"


def ssh_argv(uri: ConnectURI, read_only: bool) -> list[str]:
    """virNetSocketNewConnectSSH's command line, option for option."""
    argv = [uri.param("command") or "ssh"]
    if uri.port is not None:
        argv += ["-p", str(uri.port)]
    if uri.user:
        argv += ["-l", uri.user]
    keyfile = uri.param("keyfile")
    if keyfile:
        argv += ["-i", keyfile]
    argv += ["-T", "-e", "none"]
    if _flag(uri, "no_tty"):
        argv += ["-o", "BatchMode=yes"]
    if _flag(uri, "no_verify"):
        argv += ["-o", "StrictHostKeyChecking=no"]
    return [*argv, "--", uri.host or "localhost", ssh_far_command(uri, read_only)]


def open_ssh(uri: ConnectURI, read_only: bool) -> Channel:
    return connect_command(ssh_argv(uri, read_only))


def open_ext(uri: ConnectURI) -> Channel:
    command = uri.param("command")
    assert command is not None  # parse_uri refuses ext without it
    return connect_command([command])


def _unsupported(name: str) -> Callable[[ConnectURI, bool], Channel]:
    def refuse(uri: ConnectURI, read_only: bool) -> Channel:
        raise InternalError(f"{name} transport support was not enabled",
                            domain=ErrorDomain.REMOTE)
    return refuse


TRANSPORTS: dict[str, Callable[[ConnectURI, bool], Channel]] = {
    "unix": open_unix,
    "tcp": lambda uri, ro: open_tcp(uri),
    "tls": lambda uri, ro: open_tls(uri),
    "ssh": open_ssh,
    "ext": lambda uri, ro: open_ext(uri),
    "libssh2": _unsupported("libssh2"),
    "libssh": _unsupported("libssh"),
}


def open_channel(uri: ConnectURI, read_only: bool) -> Channel:
    return TRANSPORTS[uri.effective_transport](uri, read_only)

