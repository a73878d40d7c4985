"""qvirtd's entry point: asyncio imported without ssl.

asyncio imports ssl, and with it OpenSSL's libraries (5 MB of a daemon's memory), for its
TLS transports; qvirtd never uses them (daemon/tls.py runs TLS on an ssl.SSLObject of its own),
so asyncio is loaded while ssl cannot be, and ssl loads later only for a TLS listener.
asyncio's modules then keep ``ssl = None``, which they read only when asked for TLS.
"""

from __future__ import annotations

import sys


def main() -> int:
    if "asyncio" not in sys.modules:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # import ssl: ImportError
        try:
            import asyncio  # noqa: F401
        finally:
            del sys.modules["ssl"]
    from qvirt.daemon.main import main as run
    return run()
