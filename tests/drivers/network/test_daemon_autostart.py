"""qvirtd run inside a network namespace (``ip netns exec NS qvirtd --root DIR``) starts the
networks marked autostart as it starts, and they outlive it, as libvirtd's do."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from qvirt.drivers.network.driver import LocalNetworkDriver
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.util.sockets import SOCK_RO, root_socket_dir
from tests.daemon.conftest import QVIRTD, START_WAIT
from tests.drivers.network.conftest import network_xml
from tests.drivers.network.netns import entered, ip, namespaces


def test_qvirtd_starts_autostart_networks(tmp_path: Path) -> None:
    root = tmp_path / "r"
    with namespaces("daemon") as (ns,):
        with entered(ns):
            drv = LocalNetworkDriver(NetworkPaths.under(root))
            ref = drv.network_define_xml_flags(network_xml("boot", "192.168.230", "nat",
                                                           "qvtboot0"))
            drv.network_set_autostart(ref, True)
            drv.close()
        assert "qvtboot0" not in ip("-br", "link", ns=ns)
        log = tmp_path / "qvirtd.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", ns, QVIRTD, "--root", str(root)],
                                    stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_WAIT
            while not (root_socket_dir(root) / SOCK_RO).exists():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            assert "192.168.230.1/24" in ip("-br", "addr", "show", "qvtboot0", ns=ns)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        # The daemon is gone; its network runs on, found running by the next driver.
        assert "qvtboot0" in ip("-br", "link", ns=ns)
        with entered(ns):
            drv = LocalNetworkDriver(NetworkPaths.under(root))
            assert drv.network_is_active(drv.network_lookup_by_name("boot"))
            drv.network_destroy(drv.network_lookup_by_name("boot"))
            drv.close()
        assert "qvtboot0" not in ip("-br", "link", ns=ns)
