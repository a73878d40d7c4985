"""The ``qvirtd`` command: serve one root's QEMU driver on its unix sockets, in the foreground.

The daemon opens the driver once (qemu:///embed?root=DIR) and shares it among its clients: the
driver holds the root's lock, and one driver is what makes "one modifying job per domain" hold
across clients. SIGTERM and SIGINT stop it cleanly; guests keep running, as under libvirtd.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from qvirt.client.uri import parse_uri
from qvirt.daemon.server import Server
from qvirt.drivers.registry import open_driver
from qvirt.errors import QvirtError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qvirtd", description=__doc__)
    parser.add_argument("--root", type=Path, required=True,
                        help="state root: the QEMU driver's files and run/qvirt/ sockets")
    parser.add_argument("--timeout", type=float, default=None, metavar="N",
                        help="exit after N seconds with no client connected")
    return parser


async def _serve(server: Server) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)
    await server.run()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="qvirtd: %(levelname)s: %(message)s")
    root: Path = args.root.resolve()
    try:
        driver = open_driver(parse_uri(f"qemu:///embed?root={root}"))
    except QvirtError as err:
        print(f"qvirtd: {err}", file=sys.stderr)
        return 1
    try:
        asyncio.run(_serve(Server(root, driver, args.timeout)))
    finally:
        driver.connect_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
