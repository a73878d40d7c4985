"""Captures iscsiadm's and libiscsi's outputs against a real tgtd on 127.0.0.1 into
iscsi.json (run as root: python3 tests/data/storage/capture_iscsi.py). iscsiadm's discovery,
login and sessions need the kernel's iSCSI initiator, which this kernel lacks: what it prints
instead is captured as is, and the target's real answers are taken through libiscsi
(iscsi-ls, iscsi-inq), which talks to tgtd from userspace."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.support.iscsi_target import tgtd  # noqa: E402

IQN = "iqn.2026-11.org.qvirt:capture"
INITIATOR = "iqn.2026-11.org.qvirt:initiator"
ISCSIADM = "/usr/bin/iscsiadm"


def main() -> None:
    outputs: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp, tgtd(Path(tmp), IQN, 16 * 1024 * 1024) as t:
        def run(key: str, argv: list[str]) -> None:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            port = str(t.port)

            def norm(text: str) -> str:
                return text.replace(f":{port}", ":{PORT}").replace(f",{port}", ",{PORT}")

            outputs[key] = {"argv": [norm(a) for a in argv], "stdout": norm(done.stdout),
                            "stderr": norm(done.stderr), "status": done.returncode}

        portal = f"{t.host}:{t.port},1"
        run("session_none", [ISCSIADM, "--mode", "session"])
        run("iface", [ISCSIADM, "--mode", "iface"])
        run("discovery_nodriver", [ISCSIADM, "--mode", "discovery", "--type", "sendtargets",
                                   "--portal", portal, "--op", "nonpersistent"])
        run("node_new", [ISCSIADM, "--mode", "node", "--portal", portal, "--targetname", IQN,
                         "--op", "new"])
        run("login_nodriver", [ISCSIADM, "--mode", "node", "--portal", portal,
                               "--targetname", IQN, "--login"])
        run("node_delete", [ISCSIADM, "--mode", "node", "--portal", portal, "--targetname",
                            IQN, "--op", "delete"])
        run("iscsi_ls", ["iscsi-ls", "-i", INITIATOR, f"iscsi://{t.host}:{t.port}"])
        run("iscsi_ls_luns", ["iscsi-ls", "-i", INITIATOR, "-s", f"iscsi://{t.host}:{t.port}"])
        run("inquiry_lun1_page83", ["iscsi-inq", "-i", INITIATOR, "-e", "1", "-c", "131",
                                    f"iscsi://{t.host}:{t.port}/{IQN}/1"])
        run("readcapacity16_lun1", ["iscsi-readcapacity16", "-i", INITIATOR,
                                    f"iscsi://{t.host}:{t.port}/{IQN}/1"])
    version = subprocess.run([ISCSIADM, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    data = {"source": "captured live by capture_iscsi.py against tgtd on 127.0.0.1",
            "tool": version, "target": IQN, "initiator": INITIATOR, "outputs": outputs}
    (HERE / "iscsi.json").write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
