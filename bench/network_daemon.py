"""[network] wire row: net-start to the first guest's DHCP lease, through qvirtd and through
libvirtd 9.0, the client python3-libvirt (bench/network_client.py, in Debian's python3): it
starts a NAT network and a tiny guest on it and polls virNetworkGetDHCPLeases until the
guest's lease shows, then destroys both.

Each daemon runs in namespaces of its own: qvirtd inside a network namespace the benchmark
creates, libvirtd as a private one (tests/support/private_libvirtd.py: its own network and
mount namespaces, never the shared oracle), so neither starts a network in the host's
namespace. Both get the same network (name, bridge, subnet) and the same guest, each on its
own disk overlay; the harness alternates them run by run.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.daemon import Qvirtd
from bench.harness import Row
from bench.network import NETWORK, _guest_xml
from qvirt.builder import build
from tests.drivers.network.netns import namespaces
from tests.support.oracle import SYSTEM_PYTHON
from tests.support.private_libvirtd import private_libvirtd

CLIENT = Path(__file__).with_name("network_client.py")
RUNS = 5
MAC = "52:54:00:be:0d:01"


class NetClient:
    """The python3-libvirt helper of one daemon, the network and guest defined in it."""

    def __init__(self, uri: str, net_xml: Path, dom_xml: Path) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(CLIENT), uri, str(net_xml),
                                      str(dom_xml), MAC], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{command}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"network client: {command}: exited {self.proc.wait()}")
        return answer

    def cycle(self) -> None:
        assert self.ask("cycle") == "ok"

    def close(self) -> None:
        """Undefine both, then end."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.ask("close")
            self.proc.kill()
            self.proc.wait()


def _files(work: Path, side: str) -> tuple[Path, Path]:
    xml, _ = _guest_xml(work / "image", work / side)
    xml = re.sub(r"(<interface type='network'>)", rf"\1<mac address='{MAC}'/>", xml)
    (work / side / "net.xml").write_text(NETWORK)
    (work / side / "dom.xml").write_text(xml)
    return work / side / "net.xml", work / side / "dom.xml"


def rows() -> list[Row]:
    stack = contextlib.ExitStack()
    work = Path(tempfile.mkdtemp(prefix="qd-bench-netd-"))
    work.chmod(0o755)
    stack.callback(shutil.rmtree, work, True)
    build("tiny", work / "image")
    (ns,) = stack.enter_context(namespaces("benchd"))
    qvirtd = Qvirtd(netns=ns)
    stack.callback(qvirtd.close)
    libvirtd = stack.enter_context(private_libvirtd("benchlv"))
    clients = {"qvirt": NetClient(qvirtd.uri, *_files(work, "qvirt")),
               "libvirtd": NetClient(libvirtd.uri, *_files(work, "libvirtd"))}
    for client in clients.values():
        stack.callback(client.close)   # before its daemon goes: the stack runs backwards

    def close() -> None:
        stack.close()

    stack.callback(atexit.unregister, close)
    atexit.register(close)
    done = {side: 0 for side in clients}

    def start_to_lease(side: str) -> None:
        clients[side].cycle()
        done[side] += 1
        if all(count == RUNS + 1 for count in done.values()):  # warm-up, then RUNS timed
            close()

    return [Row("daemon: net-start to the first guest's DHCP lease", "s", RUNS,
                {side: functools.partial(start_to_lease, side) for side in clients},
                goal="<= 1.0x libvirtd")]
