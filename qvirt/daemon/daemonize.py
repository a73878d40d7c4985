"""``qvirtd --daemon``: into the background as virDaemonForkIntoBackground does it.

Fork, a new session, fork again, stdio on /dev/null. The first process waits until the
daemon reports, through a pipe, that it serves its sockets (status 0) or why it could not
start (virDaemonErr's number), and exits accordingly: a caller's ``qvirtd --daemon`` returns
when the daemon is ready, with libvirt's text when it is not.
"""

from __future__ import annotations

import os
import sys
from enum import IntEnum


class DaemonErr(IntEnum):
    """virDaemonErr: what the daemon tells its starter through the status pipe."""

    NONE = 0
    PIDFILE = 1
    RUNDIR = 2
    INIT = 3
    SIGNAL = 4
    PRIVS = 5
    NETWORK = 6
    CONFIG = 7
    HOOKS = 8
    REEXEC = 9
    AUDIT = 10
    DRIVER = 11


DAEMON_ERR_TEXT: dict[int, str] = {
    DaemonErr.NONE: "Initialization successful",
    DaemonErr.PIDFILE: "Unable to obtain pidfile",
    DaemonErr.RUNDIR: "Unable to create rundir",
    DaemonErr.INIT: "Unable to initialize libvirt",
    DaemonErr.SIGNAL: "Unable to setup signal handlers",
    DaemonErr.PRIVS: "Unable to drop privileges",
    DaemonErr.NETWORK: "Unable to initialize network sockets",
    DaemonErr.CONFIG: "Unable to load configuration file",
    DaemonErr.HOOKS: "Unable to look for hook scripts",
    DaemonErr.REEXEC: "Unable to re-execute daemon",
    DaemonErr.AUDIT: "Unable to initialize audit system",
    DaemonErr.DRIVER: "Unable to initialize driver",
}


def fork_into_background(prog: str) -> int:
    """Return, in the daemon, the write end of the status pipe; the starting process never
    returns (it exits with the daemon's verdict)."""
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.close(read_end)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.setsid()
        if os.fork() == 0:
            return write_end
        os._exit(0)
    os.close(write_end)
    os.wait()
    status = os.read(read_end, 1)
    if not status:
        print(f"{prog}: error: unable to determine if daemon is running: "
              "daemon exited before reporting", file=sys.stderr)
        sys.exit(1)
    if status[0] != DaemonErr.NONE:
        text = DAEMON_ERR_TEXT.get(status[0], "unknown error")
        print(f"{prog}: error: {text}. Check /var/log/messages or run without --daemon "
              "for more info.", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


class StartupReport:
    """The daemon's end of the status pipe (none in the foreground): one verdict, sent once."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def send(self, status: DaemonErr) -> None:
        if self.fd is not None:
            os.write(self.fd, bytes([status]))
            os.close(self.fd)
            self.fd = None
