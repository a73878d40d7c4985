"""qvirt's public API over every transport to a real qvirtd: its unix sockets, its own TCP and
TLS listeners (TLS with a CA, server and client certificates the test makes), ssh through an
sshd the test starts, and ext. Connection failures carry libvirt's own
texts: each is checked against what python3-libvirt says for the same URI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import qvirt
from qvirt.client.remote.transport import ssh_argv
from qvirt.client.uri import parse_uri
from qvirt.errors import ErrorDomain, ErrorNumber
from tests.client.pki import make_ca
from tests.daemon.conftest import Daemon, conf_text, free_port, guest_xml, start_qvirtd, stop_qvirtd
from tests.support.oracle import SYSTEM_PYTHON

# Opens each URI with libvirt-python and prints its error as JSON (or "OK").
LIBVIRT_OPEN = """
import json, sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
out = []
for uri in sys.argv[1:]:
    try:
        libvirt.open(uri).close()
        out.append("OK")
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
print(json.dumps(out))
"""


def libvirt_open(*uris: str) -> list[object]:
    done = subprocess.run([SYSTEM_PYTHON, "-c", LIBVIRT_OPEN, *uris], capture_output=True,
                          text=True, timeout=120, check=True)
    result: list[object] = json.loads(done.stdout)
    return result


def qvirt_open(uri: str) -> object:
    try:
        qvirt.open(uri).close()
    except qvirt.libvirtError as e:
        return [e.get_error_code(), e.get_error_domain(), e.get_error_message()]
    return "OK"


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def exercise(uri: str, tiny_image: Path, work: Path, name: str) -> None:
    """The API's round trip over one connection: define, look up, read back, refuse a
    duplicate name with the daemon's text, undefine."""
    conn = qvirt.open(uri)
    try:
        assert conn.getType() == "QEMU"
        xml = guest_xml(tiny_image, work, name).read_text()
        dom = conn.defineXML(xml)
        assert conn.lookupByName(name).UUIDString() == dom.UUIDString()
        assert name in [d.name() for d in conn.listAllDomains()]
        assert f"<name>{name}</name>" in dom.XMLDesc(0)
        assert dom.info()[0] == qvirt.VIR_DOMAIN_SHUTOFF
        dom.undefine()
        with pytest.raises(qvirt.libvirtError) as caught:
            conn.lookupByName(name)
        assert caught.value.get_error_message() == \
            f"Domain not found: no domain with matching name '{name}'"
        assert caught.value.get_error_code() == ErrorNumber.NO_DOMAIN
    finally:
        conn.close()


def test_unix(qvirtd: Daemon, tiny_image: Path, tmp_path: Path) -> None:
    exercise(qvirtd.uri, tiny_image, tmp_path / "g", "qd5-unix")
    ro = qvirt.openReadOnly(qvirtd.ro_uri)
    with pytest.raises(qvirt.libvirtError) as caught:
        ro.defineXML(guest_xml(tiny_image, tmp_path / "ro", "qd5-ro").read_text())
    assert caught.value.get_error_message() == \
        "operation forbidden: read only access prevents virDomainDefineXML"
    assert (ro.isSecure(), ro.isEncrypted(), ro.isAlive()) == (1, 0, 1)
    ro.close()


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """A qvirtd with its TCP and TLS listeners on loopback (a server certificate for
    "localhost" from a test CA), and client PKI directories (pkipath=): good/ from the same
    CA, foreign/ from another CA. Yields the TCP port, the TLS port and the PKI root."""
    ca, other = make_ca(tmp_path / "ca", "qvirt test CA"), make_ca(tmp_path / "other", "other")
    server_cert, server_key = ca.issue(tmp_path / "ca", "server", "localhost", "serverAuth")
    for kind, issuer in (("good", ca), ("foreign", other)):
        pki = tmp_path / kind
        pki.mkdir()
        (pki / "cacert.pem").write_bytes(ca.cert.read_bytes())
        cert, key = issuer.issue(pki, "client", f"{kind} client", "clientAuth")
        assert (cert, key) == (pki / "clientcert.pem", pki / "clientkey.pem")
    tcp_port, tls_port = free_port(), free_port()
    conf = tmp_path / "qvirtd.conf"
    conf.write_text(conf_text(listen_tcp=1, listen_tls=1, tcp_port=str(tcp_port),
                              tls_port=str(tls_port), listen_addr="127.0.0.1",
                              auth_tcp="none", ca_file=str(ca.cert),
                              cert_file=str(server_cert), key_file=str(server_key)))
    daemon = start_qvirtd(tmp_path / "r", "--config", str(conf))
    try:
        yield tcp_port, tls_port, tmp_path
    finally:
        out = stop_qvirtd(daemon)
    assert daemon.proc.returncode == 0, out


def test_tcp(listening: tuple[int, int, Path], tiny_image: Path, tmp_path: Path) -> None:
    tcp_port, _, _ = listening
    uri = f"qemu+tcp://127.0.0.1:{tcp_port}/system"
    exercise(uri, tiny_image, tmp_path / "g", "qd5-tcp")
    conn = qvirt.open(uri)
    assert (conn.isSecure(), conn.isEncrypted()) == (0, 0)
    conn.close()


def test_tls(listening: tuple[int, int, Path], tiny_image: Path) -> None:
    _, port, pki = listening
    base = f"qemu+tls://localhost:{port}/system?pkipath="
    exercise(base + str(pki / "good"), tiny_image, pki / "g", "qd5-tls")
    conn = qvirt.open(base + str(pki / "good"))
    assert (conn.isSecure(), conn.isEncrypted()) == (1, 1)
    conn.close()
    # The server's certificate names localhost, not 127.0.0.1: refused unless no_verify=1.
    by_ip = f"qemu+tls://127.0.0.1:{port}/system?pkipath={pki / 'good'}"
    assert qvirt_open(by_ip) == libvirt_open(by_ip)[0] == [
        ErrorNumber.AUTH_FAILED, ErrorDomain.RPC,
        "authentication failed: Failed to verify peer's certificate"]
    assert qvirt_open(by_ip + "&no_verify=1") == "OK"


def test_tls_refuses_a_foreign_client_certificate(listening: tuple[int, int, Path]) -> None:
    """Checked before connecting (libvirt's sanity check of its own credentials), and, when
    that check is passed by a client trusting the foreign CA too, refused by qvirtd."""
    _, port, pki = listening
    foreign = pki / "foreign"
    uri = f"qemu+tls://localhost:{port}/system?pkipath={foreign}"
    assert qvirt_open(uri) == libvirt_open(uri)[0] == [
        ErrorNumber.SYSTEM_ERROR, ErrorDomain.RPC,
        f"Our own certificate {foreign}/clientcert.pem failed validation against "
        f"{foreign}/cacert.pem: The certificate hasn't got a known issuer."]
    (foreign / "cacert.pem").write_bytes((pki / "ca" / "cacert.pem").read_bytes()
                                         + (pki / "other" / "cacert.pem").read_bytes())
    assert qvirt_open(uri) == libvirt_open(uri + "&no_sanity=1")[0] == [
        ErrorNumber.SYSTEM_ERROR, ErrorDomain.RPC,
        "Unable to read TLS confirmation: Input/output error"]
    # The daemon is still there for the right client.
    assert qvirt_open(f"qemu+tls://localhost:{port}/system?pkipath={pki / 'good'}") == "OK"


def test_tls_without_a_ca() -> None:
    uri = "qemu+tls://localhost:1/system?pkipath=/nonexistent"
    assert qvirt_open(uri) == libvirt_open(uri)[0] == [
        ErrorNumber.SYSTEM_ERROR, ErrorDomain.RPC,
        "Cannot read CA certificate '/nonexistent/cacert.pem': No such file or directory"]


def test_ext(qvirtd: Daemon, tiny_image: Path, tmp_path: Path) -> None:
    command = script(tmp_path / "tunnel", f"exec nc -U {qvirtd.rw}\n")
    exercise(f"qemu+ext:///system?command={command}", tiny_image, tmp_path / "g", "qd5-ext")


def test_keepalive_closes_a_dead_peer(qvirtd: Daemon, tmp_path: Path) -> None:
    """The far end stops (SIGSTOP of the ext command): after interval x count seconds without
    a frame the connection is closed, and calls say why."""
    pidfile = tmp_path / "pid"
    command = script(tmp_path / "tunnel", f"echo $$ > {pidfile}\nexec nc -U {qvirtd.rw}\n")
    conn = qvirt.open(f"qemu+ext:///system?command={command}")
    assert conn.setKeepAlive(1, 1) == 0
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 60
        while conn.isAlive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not conn.isAlive()
        with pytest.raises(qvirt.libvirtError) as caught:
            conn.getType()
        assert caught.value.get_error_message() == \
            "internal error: connection closed due to keepalive timeout"
    finally:
        os.kill(pid, signal.SIGCONT)
        conn.close()


@pytest.mark.parametrize("command", [
    "sleep 0.3; echo 'ssh: connect to host nowhere port 22: Connection refused' >&2; exit 255",
    "head -c 28 >/dev/null; echo 'nc: unix connect failed: No such file' >&2",
])
def test_command_failures_quote_stderr(tmp_path: Path, command: str) -> None:
    """A command that dies before or after reading our first call: libvirt's texts, with
    its stderr."""
    uri = f"qemu+ext:///system?command={script(tmp_path / 'cmd', command + chr(10))}"
    assert qvirt_open(uri) == libvirt_open(uri)[0]


@pytest.mark.parametrize("uri", [
    "qemu+unix:///system?socket=/nonexistent/sock",
    "qemu+tcp://127.0.0.1:1/system",
    "qemu+ssh://h/system?proxy=bogus",
])
def test_connection_errors_match_libvirt(uri: str) -> None:
    assert qvirt_open(uri) == libvirt_open(uri)[0]


def test_missing_command() -> None:
    """libvirt's usual text (its child's exec error read from the pipe; it says "Broken pipe"
    instead when the child is gone before libvirt's first write)."""
    assert qvirt_open("qemu+ext:///system?command=/nonexistent/cmd") == [
        ErrorNumber.SYSTEM_ERROR, ErrorDomain.RPC,
        "Cannot recv data: libvirt:  error : cannot execute binary /nonexistent/cmd: "
        "No such file or directory: Connection reset by peer"]


def test_ssh_command_line_matches_libvirt(tmp_path: Path) -> None:
    """libvirt's and qvirt's ssh command lines for the same URI, from a fake ssh that logs
    its argv, are the same word for word."""
    log = tmp_path / "argv"
    fake = script(tmp_path / "fakessh", f"printf '%s\\n' \"$@\" >> {log}\necho --- >> {log}\n")
    uris = [f"qemu+ssh://bob@host2:2222/system?command={fake}&keyfile=/k&no_tty=1&no_verify=1"
            "&proxy=netcat&socket=/run/x/sock",
            f"qemu+ssh://host2/system?command={fake}&netcat=/opt/nc&socket=/s/x&proxy=netcat"]
    libvirt_open(*uris)
    expected = log.read_text()
    log.unlink()
    for uri in uris:
        qvirt_open(uri)
    assert log.read_text() == expected
    assert ssh_argv(parse_uri(uris[1]), False)[-1] == (
        "sh -c 'if '/opt/nc' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; "
        "then ARG=-q0;else ARG=;fi;'/opt/nc' $ARG -U /s/x'")
