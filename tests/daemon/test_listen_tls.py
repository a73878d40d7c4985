"""qemu+tls:// through Debian's virsh: a CA, server and client certificates made by the test
with the openssl command, laid out where libvirt looks for them (the server's at libvirt's PKI
paths under the daemon's root, the client's in a pkipath directory)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qvirt.daemon.config import DaemonConfig
from qvirt.daemon.layout import Layout, PKIPaths
from qvirt.daemon.tls import credentials
from qvirt.errors import QvirtError
from tests.daemon.conftest import QVIRTD, conf_text, free_port, start_qvirtd, stop_qvirtd, virsh

SERVER_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
"""
CLIENT_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
"""


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(work: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA: its key and certificate."""
    key, cert = work / f"{name}-key.pem", work / f"{name}.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, cert


def issue(ca: tuple[Path, Path], work: Path, name: str, ext: str) -> tuple[Path, Path]:
    """A certificate for ``name`` signed by ``ca``, with the extensions in ``ext``."""
    key, cert, csr, extfile = (work / f"{name}-key.pem", work / f"{name}.pem",
                               work / f"{name}.csr", work / f"{name}.ext")
    extfile.write_text(ext)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", f"/O=qvirt tests/CN={name}")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]),
            "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extfile))
    return key, cert


def pkipath(directory: Path, ca_cert: Path, client: tuple[Path, Path]) -> Path:
    """A client's pkipath= directory: cacert.pem, clientcert.pem, clientkey.pem."""
    directory.mkdir()
    (directory / "cacert.pem").write_bytes(ca_cert.read_bytes())
    (directory / "clientcert.pem").write_bytes(client[1].read_bytes())
    (directory / "clientkey.pem").write_bytes(client[0].read_bytes())
    return directory


def install_server(pki: PKIPaths, ca_cert: Path, server: tuple[Path, Path]) -> None:
    for path, source in ((pki.ca_file, ca_cert), (pki.cert_file, server[1]),
                         (pki.key_file, server[0])):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.read_bytes())


@pytest.mark.compat
def test_virsh_over_tls(tmp_path: Path) -> None:
    work = tmp_path / "pki"
    work.mkdir()
    ca = make_ca(work, "ca")
    other_ca = make_ca(work, "other-ca")
    good = pkipath(tmp_path / "good", ca[1], issue(ca, work, "client", CLIENT_EXT))
    # Signed by another CA; no_sanity=1 keeps libvirt's client from refusing its own
    # certificate first, so that the server is the one to refuse it.
    stranger = pkipath(tmp_path / "stranger", ca[1],
                       issue(other_ca, work, "stranger", CLIENT_EXT))

    root = tmp_path / "r"
    layout = Layout.under(root)
    install_server(layout.pki, ca[1], issue(ca, work, "localhost", SERVER_EXT))
    port = free_port()
    layout.config_file.write_text(conf_text(listen_tls=1, tls_port=str(port),
                                            listen_addr="127.0.0.1"))
    daemon = start_qvirtd(root)
    try:
        uri = f"qemu+tls://localhost:{port}/system?pkipath="
        listed = virsh(uri + str(good), "list", "--all")
        assert (listed.returncode, listed.stdout) == (0, HEADER), listed.stderr

        # As libvirtd refuses it: the handshake fails, the confirmation byte never comes.
        refused = virsh(uri + f"{stranger}&no_sanity=1", "list", "--all")
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            1, "", "error: failed to connect to the hypervisor\n"
                   "error: Unable to read TLS confirmation: Input/output error\n")

        # The daemon is still there, and serves the right client after the wrong one.
        assert daemon.proc.poll() is None
        assert virsh(uri + str(good), "uri").stdout == f"{uri}{good}\n\n"
    finally:
        out = stop_qvirtd(daemon)
    assert daemon.proc.returncode == 0, out


HEADER = " Id   Name   State\n--------------------\n\n"


def test_credentials_come_all_three_or_none(tmp_path: Path) -> None:
    defaults = PKIPaths.system(tmp_path)
    assert credentials(DaemonConfig(), defaults) == defaults
    given = DaemonConfig(ca_file="/c", cert_file="/s", key_file="/k")
    assert credentials(given, defaults) == PKIPaths(Path("/c"), defaults.crl_file, Path("/s"),
                                                    Path("/k"))
    for partial, message in (
            (DaemonConfig(cert_file="/s", key_file="/k"),
             "No CA certificate path set to match server key/cert"),
            (DaemonConfig(ca_file="/c", key_file="/k"),
             "No server certificate path set to match server key"),
            (DaemonConfig(ca_file="/c", cert_file="/s"),
             "No server key path set to match server cert")):
        with pytest.raises(QvirtError) as caught:
            credentials(partial, defaults)
        assert caught.value.message == f"unsupported configuration: {message}"


def test_missing_certificate_stops_startup(tmp_path: Path) -> None:
    conf = tmp_path / "tls.conf"
    conf.write_text(conf_text(listen_tls=1, tls_port=str(free_port())))
    root = tmp_path / "r"
    proc = subprocess.run([QVIRTD, "--root", str(root), "--config", str(conf)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert proc.stderr.endswith(
        f" : Cannot read CA certificate '{root}/etc/pki/CA/cacert.pem': "
        "No such file or directory\n"), proc.stderr
    layout = Layout.under(root)
    assert not layout.sock_rw.exists() and not layout.pid_file.exists()
