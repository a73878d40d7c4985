"""x509 material for TLS tests, made with the openssl command line as the guide's certtool
templates describe it (ca: CA:TRUE + keyCertSign; tls_www_server: serverAuth; tls_www_client:
clientAuth; encryption_key and signing_key: keyEncipherment and digitalSignature)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# P-256 keys: quick to make on a loaded machine, and accepted by libvirt's GnuTLS.
NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
_LEAF_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = {purpose}
"""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class CA:
    cert: Path
    key: Path

    def issue(self, out: Path, stem: str, cn: str, purpose: str) -> tuple[Path, Path]:
        """A certificate for ``cn`` signed by this CA, for ``purpose`` (serverAuth or
        clientAuth): the PEM certificate and key, as <stem>cert.pem and <stem>key.pem."""
        key, csr, cert = out / f"{stem}key.pem", out / f"{stem}.csr", out / f"{stem}cert.pem"
        ext = out / f"{stem}.ext"
        ext.write_text(_LEAF_EXT.format(purpose=purpose))
        _openssl("req", "-new", *NEW_KEY, "-keyout", str(key), "-subj",
                 f"/O=qvirt tests/CN={cn}", "-out", str(csr))
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey",
                 str(self.key), "-CAcreateserial", "-days", "2", "-extfile", str(ext),
                 "-out", str(cert))
        return cert, key


def make_ca(out: Path, name: str) -> CA:
    out.mkdir(parents=True, exist_ok=True)
    cert, key = out / "cacert.pem", out / "cakey.pem"
    _openssl("req", "-x509", *NEW_KEY, "-keyout", str(key), "-subj",
             f"/O=qvirt tests/CN={name}", "-days", "2",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(cert))
    return CA(cert, key)
