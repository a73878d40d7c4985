"""Captures what the LVM tools print for the commands the logical backend runs, into
logical.json (run as root: python3 tests/data/storage/capture_logical.py). This kernel has no
device-mapper: pvcreate, vgcreate, vgscan, pvs, vgs, vgchange, vgremove and pvremove run for
real on a loop device; lvcreate cannot (its real refusal is captured too), so two logical
volumes are written into the group's metadata with vgcfgrestore and lvs reports them for
real (as "-wi-XX----": state unknown without device-mapper)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VG = "qvirtvg"
LVS = ["/sbin/lvs", "--separator", "#", "--noheadings", "--units", "b", "--unbuffered",
       "--nosuffix", "--options",
       "lv_name,origin,uuid,devices,segtype,stripes,seg_size,vg_extent_size,size,lv_attr", VG]
VGS = ["/sbin/vgs", "--separator", ":", "--noheadings", "--units", "b", "--unbuffered",
       "--nosuffix", "--options", "vg_size,vg_free", VG]
LOGICAL_VOLUMES = """
\tlogical_volumes {
\t\tlv1 {
\t\t\tid = "Q1vb1a-aaaa-bbbb-cccc-dddd-eeee-ffff01"
\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]
\t\t\tflags = []
\t\t\tsegment_count = 1
\t\t\tsegment1 {
\t\t\t\tstart_extent = 0
\t\t\t\textent_count = 2
\t\t\t\ttype = "striped"
\t\t\t\tstripe_count = 1
\t\t\t\tstripes = ["pv0", 0]
\t\t\t}
\t\t}
\t\tlv2 {
\t\t\tid = "Q1vb2a-aaaa-bbbb-cccc-dddd-eeee-ffff02"
\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]
\t\t\tflags = []
\t\t\tsegment_count = 2
\t\t\tsegment1 {
\t\t\t\tstart_extent = 0
\t\t\t\textent_count = 1
\t\t\t\ttype = "striped"
\t\t\t\tstripe_count = 1
\t\t\t\tstripes = ["pv0", 5]
\t\t\t}
\t\t\tsegment2 {
\t\t\t\tstart_extent = 1
\t\t\t\textent_count = 2
\t\t\t\ttype = "striped"
\t\t\t\tstripe_count = 1
\t\t\t\tstripes = ["pv0", 10]
\t\t\t}
\t\t}
\t}
"""


def main() -> None:
    os.environ["LVM_SUPPRESS_FD_WARNINGS"] = "1"
    outputs: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "pv.img"
        with open(image, "wb") as f:
            f.truncate(128 * 1024 * 1024)
        dev = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                             capture_output=True, text=True).stdout.strip()

        def run(key: str, argv: list[str]) -> None:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            outputs[key] = {"argv": [a.replace(dev, "{DEVICE}") for a in argv],
                            "stdout": done.stdout.replace(dev, "{DEVICE}"),
                            "stderr": done.stderr.replace(dev, "{DEVICE}"),
                            "status": done.returncode}

        try:
            run("blkid_empty", ["blkid", "-p", "-o", "export", dev])
            run("pvcreate", ["/sbin/pvcreate", dev])
            run("vgcreate", ["/sbin/vgcreate", VG, dev])
            run("vgcreate_again", ["/sbin/vgcreate", VG, dev])
            run("blkid_pv", ["blkid", "-p", "-o", "export", dev])
            run("vgscan", ["/sbin/vgscan"])
            run("pvs", ["/sbin/pvs", "--noheadings", "-o", "pv_name,vg_name"])
            run("vgchange_on", ["/sbin/vgchange", "-aly", VG])
            run("lvs_empty", LVS)
            run("vgs_empty", VGS)
            run("lvcreate_nodm", ["/sbin/lvcreate", "--name", "lv1", "-L", "8192K", VG,
                                  "--yes"])
            backup = Path(tmp) / "vg.txt"
            subprocess.run(["/sbin/vgcfgbackup", "-f", str(backup), VG], check=True,
                           capture_output=True)
            text = backup.read_text().replace("seqno = 1", "seqno = 2")
            end = text.rindex("}")
            backup.write_text(text[:end] + LOGICAL_VOLUMES + text[end:])
            subprocess.run(["/sbin/vgcfgrestore", "-f", str(backup), VG], check=True,
                           capture_output=True)
            run("lvs", LVS)
            run("vgs", VGS)
            run("lvremove_missing", ["/sbin/lvremove", "-f", f"/dev/{VG}/nosuch"])
            run("vgchange_off", ["/sbin/vgchange", "-aln", VG])
            run("vgremove", ["/sbin/vgremove", "-f", VG])
            run("pvremove", ["/sbin/pvremove", dev])
            run("pvs_none", ["/sbin/pvs", "--noheadings", "-o", "pv_name,vg_name"])
        finally:
            subprocess.run(["/sbin/vgremove", "-f", VG], capture_output=True, check=False)
            subprocess.run(["/sbin/pvremove", dev], capture_output=True, check=False)
            subprocess.run(["losetup", "-d", dev], check=False)
    version = subprocess.run(["/sbin/lvm", "version"], capture_output=True, text=True,
                             check=False).stdout
    data = {"source": "captured live by capture_logical.py on a loop device",
            "tool": version.splitlines()[0].strip() if version else "", "outputs": outputs}
    (HERE / "logical.json").write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
