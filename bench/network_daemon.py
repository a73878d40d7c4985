"""[network] wire row: net-start to the first guest's DHCP lease through qvirtd, the client
python3-libvirt (bench/network_client.py, in Debian's python3): it starts a NAT network and a
tiny guest on it and polls virNetworkGetDHCPLeases until the guest's lease shows, then
destroys both. qvirtd runs inside a network namespace the benchmark creates.

libvirtd's side is not run: the oracle libvirtd lives in the host's own namespace, where no
benchmark may start a network, and no second libvirtd may be started in a namespace of ours.
"""

from __future__ import annotations

import atexit
import contextlib
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

CLIENT = Path(__file__).with_name("network_client.py")
RUNS = 5
MAC = "52:54:00:be:0d:01"


def rows() -> list[Row]:
    stack = contextlib.ExitStack()
    work = Path(tempfile.mkdtemp(prefix="qd-bench-netd-"))
    stack.callback(shutil.rmtree, work, True)
    build("tiny", work / "image")
    xml, _ = _guest_xml(work / "image", work / "guest")
    xml = re.sub(r"(<interface type='network'>)", rf"\1<mac address='{MAC}'/>", xml)
    (work / "net.xml").write_text(NETWORK)
    (work / "dom.xml").write_text(xml)
    (ns,) = stack.enter_context(namespaces("benchd"))
    qvirtd = Qvirtd(netns=ns)
    stack.callback(qvirtd.close)
    client = subprocess.Popen([SYSTEM_PYTHON, str(CLIENT), qvirtd.uri, str(work / "net.xml"),
                               str(work / "dom.xml"), MAC], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)

    def ask(command: str) -> str:
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(f"{command}\n")
        client.stdin.flush()
        answer = client.stdout.readline().strip()
        if not answer:
            raise RuntimeError(f"network client: {command}: exited {client.wait()}")
        return answer

    def close() -> None:
        if client.poll() is None:
            with contextlib.suppress(Exception):
                ask("close")
            client.kill()
            client.wait()
        stack.close()

    stack.callback(atexit.unregister, close)
    atexit.register(close)
    done = [0]

    def start_to_lease() -> None:
        assert ask("cycle") == "ok"
        done[0] += 1
        if done[0] == RUNS + 1:   # the harness's warm-up call, then RUNS timed ones
            close()

    return [Row("qvirtd: net-start to the first guest's DHCP lease", "s", RUNS,
                {"qvirt": start_to_lease},
                goal="libvirtd: not run (its networks would start in the host namespace)")]
