"""The ``qvirtd`` command, started as libvirtd starts (src/remote/remote_daemon.c main()).

Modes pick the directories (layout.py): system by default, ``--session`` for a user's own
daemon (usually with ``--timeout``), ``--root DIR`` for everything under DIR. Start-up runs in
libvirtd's order: configuration (``--config`` or the mode's qvirtd.conf if present), logging,
``--daemon``'s fork, the pid file, the QEMU driver, the listeners; then the daemon serves
until SIGTERM or SIGINT, or the idle timeout. Guests keep running when it stops.

The daemon opens the driver once and shares it among its clients: the driver holds the
state directory's lock, and one driver is what makes "one modifying job per domain" hold
across clients. ``--stdio`` runs no daemon: it relays stdin/stdout to the running daemon's
socket, for the far end of an ssh connection (with ``--session`` it starts the user's daemon
first if none runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from qvirt.daemon.config import DaemonConfig, load_config
from qvirt.daemon.daemonize import DaemonErr, StartupReport, fork_into_background
from qvirt.daemon.heap import M_MMAP_THRESHOLD, MMAP_THRESHOLD
from qvirt.daemon.layout import Layout
from qvirt.daemon.logs import check_priority, default_outputs, setup_logging
from qvirt.daemon.pidfile import PidFile
from qvirt.daemon.server import Server
from qvirt.daemon.stdio import connect, relay
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import QvirtError

PROG = "qvirtd"
# glibc's M_ARENA_MAX (malloc.h) and the daemon's value: see _limit_malloc_arenas.
M_ARENA_MAX = -8
MALLOC_ARENAS = 2
# libvirt's remote driver starts session daemons with --timeout=120.
SESSION_TIMEOUT = 120
log = logging.getLogger("qvirt.daemon")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="qvirt's daemon: libvirt's remote protocol for the QEMU driver")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--root", type=Path,
                       help="keep everything under this directory (sockets in run/qvirt/)")
    where.add_argument("--session", action="store_true",
                       help="a per-user daemon in the XDG directories")
    parser.add_argument("-f", "--config", type=Path, metavar="FILE",
                        help="qvirtd.conf to read (default: the mode's, if it exists)")
    parser.add_argument("-t", "--timeout", type=float, default=None, metavar="N",
                        help="exit after N seconds with no client connected")
    parser.add_argument("-d", "--daemon", action="store_true",
                        help="run in the background once the sockets are ready")
    parser.add_argument("-p", "--pid-file", type=Path, metavar="FILE",
                        help="pid file (default: qvirtd.pid in the runtime directory)")
    parser.add_argument("--stdio", action="store_true",
                        help="relay stdin/stdout to the running daemon's socket (for ssh)")
    parser.add_argument("uri", nargs="?",
                        help="with --stdio: the URI the client opened, as virt-ssh-helper "
                             "takes it; a qemu:///session URI means --session")
    return parser


def _layout(args: argparse.Namespace) -> Layout:
    if args.root is not None:
        return Layout.under(args.root.resolve())
    return Layout.session() if args.session else Layout.system()


def _stdio_session(args: argparse.Namespace) -> bool:
    """The mode a --stdio relay serves: --session, or the path of the URI ssh passed on."""
    if args.session:
        return True
    return args.uri is not None and urlsplit(args.uri).path.startswith("/session")


def _error(text: str) -> int:
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return 1


def _stdio(layout: Layout, session: bool) -> int:
    try:
        sock = connect(layout.sock_rw)
    except QvirtError as err:
        if not session:
            return _error(str(err))
        # A session daemon is started on demand, as virt-ssh-helper's connection starts one.
        subprocess.run([sys.executable, "-m", "qvirt.daemon.main", "--session", "--timeout",
                        str(SESSION_TIMEOUT), "--daemon"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, check=False)
        try:
            sock = connect(layout.sock_rw)
        except QvirtError as again:
            return _error(str(again))
    with sock, contextlib.suppress(ConnectionError):
        relay(sock)
    return 0


def _setup_logging(config: DaemonConfig, layout: Layout, daemon: bool) -> None:
    level = check_priority(config.log_level)
    outputs = config.log_outputs
    if not outputs:
        outputs = default_outputs(level, daemon, layout.log_file)
        if daemon:
            layout.log_file.parent.mkdir(parents=True, exist_ok=True)
    setup_logging(level, outputs)


async def _serve(layout: Layout, driver: HypervisorDriver, config: DaemonConfig,
                 timeout: float | None, report: StartupReport) -> bool:
    server = Server(layout, driver, config, timeout)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)
    try:
        await server.start()
    except QvirtError as err:
        log.error("%s", err)
        report.send(DaemonErr.NETWORK)
        return False
    report.send(DaemonErr.NONE)
    await server.serve_until_stopped()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.uri is not None and not args.stdio:
        parser.error("a URI is taken only with --stdio")
    if args.stdio:
        args.session = _stdio_session(args)
        return _stdio(_layout(args), args.session)
    layout = _layout(args)
    config_path = args.config.resolve() if args.config else None
    try:
        config = load_config(config_path, layout.config_file)
    except QvirtError as err:
        return _error(f"Can't load config file: {err}: {config_path or layout.config_file}")
    try:
        _setup_logging(config, layout, args.daemon)
    except QvirtError as err:
        return _error(str(err))
    pid_path = args.pid_file.resolve() if args.pid_file else layout.pid_file
    report = StartupReport(None)
    if args.daemon:
        os.chdir("/")
        report = StartupReport(fork_into_background(PROG))
    try:
        pid_path.parent.mkdir(parents=True, exist_ok=True)
        pidfile = PidFile.acquire(pid_path, os.getpid())
    except (QvirtError, OSError) as err:
        log.error("%s", err)
        report.send(DaemonErr.PIDFILE)
        return 1
    try:
        return _run(layout, config, args.timeout, report)
    finally:
        pidfile.release()


def _limit_malloc_arenas() -> None:
    """glibc gives each thread that allocates while another holds an arena an arena of its
    own, up to 8 per core, each keeping freed memory for itself. The daemon's threads (the
    driver's loop, the workers) run Python under one lock anyway, so two arenas lose no speed
    and keep megabytes of RSS from spreading (MALLOC_ARENA_MAX, as daemons set it). The mmap
    threshold is fixed too: by default glibc raises it to the size of each large block freed,
    so after one multi-megabyte message every later one lands in the heap, which keeps the
    high-water mark of the busiest moment; fixed, large messages are mapped and unmapped
    (but while volume streams run: heap.py).
    Called before the first thread starts; a libc without mallopt is left as it is."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _trim_heap() -> None:
    """Hand the pages start-up freed (the driver's first reads, the caps cache's JSON) back
    to the system: glibc returns only the top of its heap by itself. Once, at start: the
    daemon's RSS then starts from what it holds."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _run(layout: Layout, config: DaemonConfig, timeout: float | None,
         report: StartupReport) -> int:
    # Imported only here: --stdio, the far end of every ssh connection, starts without it.
    from qvirt.drivers.qemu.driver import QemuDriver

    _limit_malloc_arenas()
    try:
        # Only the system daemon ships the default network, as libvirt's packages do.
        driver: HypervisorDriver = QemuDriver(
            layout.uri, layout.driver, layout.storage, network_paths=layout.network,
            ship_default_network=layout.uri == "qemu:///system")
    except QvirtError as err:
        log.error("%s", err)
        report.send(DaemonErr.DRIVER)
        return 1
    # Probe the emulator before serving (cached on disk after the first run): version queries
    # are answered on the daemon's loop, which must never wait on a QEMU probe. A host without
    # QEMU still gets a daemon, as libvirtd starts without one.
    with contextlib.suppress(QvirtError):
        driver.connect_get_version()
    _trim_heap()
    try:
        served = asyncio.run(_serve(layout, driver, config, timeout, report))
    finally:
        driver.connect_close()
    return 0 if served else 1


if __name__ == "__main__":
    sys.exit(main())
