"""The TLS listener: its credentials, the handshake, and the encrypted session.

The files are the config's key_file, cert_file, ca_file and crl_file, or libvirt's PKI paths
for the daemon's mode when none of the first three is set (daemonSetupNetworking: setting
some but not all is an error). Client certificates are required and verified against the CA
unless tls_no_verify_certificate = 1. Once the handshake is done, libvirt's server sends one
byte, 1, to tell the client its certificate passed (virNetServerClientCheckAccess).

The handshake runs here on an ssl.SSLObject rather than in asyncio's SSL transport, because
asyncio drops a connection whose handshake failed at once, unread data and all: the kernel
answers with a reset, and libvirt's client, still sending the last records of its handshake,
dies of SIGPIPE. Here a refused client gets the TLS alert and an orderly close. The session
is then relayed through a socket pair, so the connection.Client on the other end has plain
asyncio streams with their flow control.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from qvirt.daemon.conffile import system_error
from qvirt.daemon.config import DaemonConfig
from qvirt.daemon.layout import PKIPaths
from qvirt.errors import ConfigUnsupported, ErrorDomain, ErrorNumber, QvirtError

log = logging.getLogger("qvirt.daemon.tls")

# What the server writes, encrypted, after checking the client (virnetserverclient.c).
CONFIRM = b"\x01"
CHUNK = 65536
# asyncio's own default for a TLS handshake; a refused client gets as long to hang up.
HANDSHAKE_TIMEOUT = 60.0

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def credentials(config: DaemonConfig, defaults: PKIPaths) -> PKIPaths:
    """The files to load: the config's, all three or none, else the mode's defaults."""
    chosen = (config.ca_file, config.cert_file, config.key_file)
    if not any(chosen):
        return defaults
    if not config.ca_file:
        raise ConfigUnsupported("No CA certificate path set to match server key/cert")
    if not config.cert_file:
        raise ConfigUnsupported("No server certificate path set to match server key")
    if not config.key_file:
        raise ConfigUnsupported("No server key path set to match server cert")
    return PKIPaths(Path(config.ca_file), Path(config.crl_file or defaults.crl_file),
                    Path(config.cert_file), Path(config.key_file))


def _check_file(kind: str, path: Path) -> None:
    """virNetTLSContextCheckCertFile."""
    try:
        path.stat()
    except OSError as err:
        raise system_error(f"Cannot read {kind} '{path}'", err) from err


def server_context(config: DaemonConfig, defaults: PKIPaths) -> ssl.SSLContext:
    files = credentials(config, defaults)
    _check_file("CA certificate", files.ca_file)
    _check_file("certificate", files.cert_file)
    _check_file("private key", files.key_file)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=str(files.ca_file))
    except ssl.SSLError as err:
        raise _tls_error(f"Unable to set x509 CA certificate: {files.ca_file}: {err}") from err
    # A missing CRL is skipped, as libvirt skips it.
    if files.crl_file.exists():
        try:
            context.load_verify_locations(cafile=str(files.crl_file))
        except ssl.SSLError as err:
            raise _tls_error("Unable to set x509 certificate revocation list: "
                             f"{files.crl_file}: {err}") from err
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    try:
        context.load_cert_chain(str(files.cert_file), str(files.key_file))
    except ssl.SSLError as err:
        raise _tls_error(f"Unable to set x509 key and certificate: {files.key_file}, "
                         f"{files.cert_file}: {err}") from err
    context.verify_mode = (ssl.CERT_NONE if config.tls_no_verify_certificate
                           else ssl.CERT_REQUIRED)
    # No session tickets, as libvirt's gnutls server sends none: libvirt's client reads the
    # confirmation byte with a single record read, and a TLS 1.3 ticket arriving first makes
    # that read fail ("Unable to read TLS confirmation: Resource temporarily unavailable").
    context.num_tickets = 0
    context.options |= ssl.OP_NO_TICKET
    return context


def _tls_error(text: str) -> QvirtError:
    return QvirtError(text, code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.RPC)


async def serve_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    context: ssl.SSLContext, serve: Serve) -> None:
    """Handshake with a client accepted on the TLS port; if it passes, confirm it and run
    ``serve`` on the decrypted streams until either side ends."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=True)
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            accepted = await _handshake(tls, incoming, outgoing, reader, writer)
    except (TimeoutError, ConnectionError):
        accepted = False
    if not accepted:
        writer.close()
        return
    tls.write(CONFIRM)
    writer.write(outgoing.read())
    inner, outer = socket.socketpair()
    client_reader, client_writer = await asyncio.open_connection(sock=inner)
    plain_reader, plain_writer = await asyncio.open_connection(sock=outer)
    pumps = [asyncio.create_task(_decrypt(tls, incoming, outgoing, reader, writer,
                                          plain_writer)),
             asyncio.create_task(_encrypt(tls, outgoing, plain_reader, writer))]
    try:
        await serve(client_reader, client_writer)
    finally:
        client_writer.close()
        await asyncio.gather(*pumps, return_exceptions=True)
        plain_writer.close()
        writer.close()


async def _handshake(tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    while True:
        try:
            tls.do_handshake()
            return True
        except ssl.SSLWantReadError:
            writer.write(outgoing.read())
            data = await reader.read(CHUNK)
            if not data:
                return False
            incoming.write(data)
        except ssl.SSLError as err:
            log.warning("TLS handshake failed %s", err.reason or err)
            # The alert, then read whatever the client still sends until it hangs up: a
            # close with data unread would reset the connection under the client's writes.
            writer.write(outgoing.read())
            writer.write_eof()
            while await reader.read(CHUNK):
                pass
            return False


async def _decrypt(tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                   reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   plain: asyncio.StreamWriter) -> None:
    """Client to daemon: records in, plaintext out, until the client's end or close_notify."""
    try:
        while data := await reader.read(CHUNK):
            incoming.write(data)
            while True:
                try:
                    chunk = tls.read(CHUNK)
                except ssl.SSLWantReadError:
                    break
                if not chunk:
                    return
                plain.write(chunk)
            # TLS 1.3 may owe the peer an answer (a key update) after reading.
            writer.write(outgoing.read())
            await plain.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        plain.close()


async def _encrypt(tls: ssl.SSLObject, outgoing: ssl.MemoryBIO, plain: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
    """Daemon to client: plaintext in, records out; close_notify when the daemon is done."""
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await plain.read(CHUNK):
            tls.write(data)
            writer.write(outgoing.read())
            await writer.drain()
        with contextlib.suppress(ssl.SSLWantReadError):
            tls.unwrap()
        writer.write(outgoing.read())
    writer.close()
