"""A libvirtd 9.0 of a test's (or benchmark's) own, where it may start networks: the installed
Debian binary run inside a fresh network namespace and a mount namespace of its own, so its
bridges, iptables rules and dnsmasqs never reach the host's namespace and its state never
reaches the shared oracle's.

``ip netns exec`` gives the daemon both namespaces (it unshares the mount namespace, mounts
slave: nothing mounted inside shows outside). Inside, tmpfs covers libvirt's run, state, cache
and log directories, and a copy of /etc/libvirt's configuration covers /etc/libvirt; the pid
files are named with -p (their defaults are in the host's /run). The sockets go to a directory
under /tmp that no private mount covers (unix_sock_dir), so the host's virsh reaches the
daemon there. Teardown kills every process of the namespace (libvirtd, virtlogd, dnsmasq,
QEMU) and deletes it; the mount namespace goes with its last process.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.drivers.network.netns import namespaces

START_WAIT = 60.0
PRIVATE_DIRS = ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")
ETC = Path("/etc/libvirt")

# Debian's files as shipped are all comments; only what this environment needs is set.
# No systemd or machined here: no cgroups; QEMU as root without a security driver, so the
# guest's files in the caller's directories need no relabelling.
LIBVIRTD_CONF = """unix_sock_dir = "{sockets}"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
"""
QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
"""

# Run by ``sh`` inside the namespaces: $1 the private /etc/libvirt, $2 the work directory.
LAUNCH = """set -e
for dir in {dirs}; do mount -t tmpfs -o mode=0755 tmpfs "$dir"; done
mount --bind "$1" /etc/libvirt
virtlogd -d -p "$2/virtlogd.pid"
exec libvirtd -p "$2/libvirtd.pid"
""".format(dirs=" ".join(PRIVATE_DIRS))


@dataclass
class PrivateLibvirtd:
    """A running private libvirtd: its namespace, work directory and socket."""

    ns: str
    work: Path
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.work / "sock" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.socket}"

    @property
    def log(self) -> Path:
        return self.work / "libvirtd.log"

    def inside(self, path: str) -> Path:
        """``path`` as the daemon sees it (its private mounts), through its /proc root: the
        launcher execs libvirtd, so the process started is the daemon."""
        return Path(f"/proc/{self.proc.pid}/root") / path.lstrip("/")


def _etc(target: Path, sockets: Path) -> None:
    """The configuration files only: no domains, networks or pools of the shared oracle's
    (its default network would autostart), nwfilter's shipped filters kept."""
    target.mkdir()
    for conf in ETC.glob("*.conf"):
        shutil.copy(conf, target / conf.name)
    shutil.copytree(ETC / "nwfilter", target / "nwfilter")
    (target / "libvirtd.conf").write_text(LIBVIRTD_CONF.format(sockets=sockets))
    (target / "qemu.conf").write_text(QEMU_CONF)


def _answers(uri: str) -> bool:
    done = subprocess.run(["virsh", "-c", uri, "version"], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def private_libvirtd(tag: str = "lv") -> Iterator[PrivateLibvirtd]:
    """A private libvirtd, answering, until the block ends; then nothing of it is left."""
    work = Path(tempfile.mkdtemp(prefix="qvt-privlv-"))
    work.chmod(0o755)
    try:
        (work / "sock").mkdir()
        _etc(work / "etc", work / "sock")
        with namespaces(tag) as (ns,), open(work / "libvirtd.log", "wb") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", LAUNCH, "launch",
                                     str(work / "etc"), str(work)],
                                    stdout=log, stderr=subprocess.STDOUT)
            daemon = PrivateLibvirtd(ns, work, proc)
            try:
                deadline = time.monotonic() + START_WAIT
                while not (daemon.socket.exists() and _answers(daemon.uri)):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("private libvirtd did not start:\n"
                                           + daemon.log.read_text(errors="replace"))
                    time.sleep(0.1)
                yield daemon
            finally:
                # namespaces() kills every process in the namespace as it deletes it.
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
