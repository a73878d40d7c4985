"""The sysfs and /dev layout SCSI and iSCSI pools walk, as a Debian host lays it out, built
under a test directory: a SATA controller's scsi_host (PCI 0000:00:1f.2, ata3) with a disk and
a CD-ROM, and an iSCSI session's host with tgtd's controller LUN 0 and disk LUN 1. Names,
links and file contents follow the kernel's (class/scsi_host/hostN -> the PCI device path,
bus/scsi/devices/H:B:T:L/{type,block/NAME}, class/iscsi_session/sessionN/device/targetH:0:0,
class/fc_host/hostN/{node_name,port_name}); device nodes are files of the devices' sizes."""

from __future__ import annotations

import os
from pathlib import Path

MiB = 1024 * 1024
SATA_PCI = "devices/pci0000:00/0000:00:1f.2"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _link(link: Path, target: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def _lun(sys: Path, device_dir: str, hctl: str, kind: int, block: str | None) -> None:
    real = sys / device_dir / hctl
    _write(real / "type", f"{kind}\n")
    if block is not None:
        (real / "block" / block).mkdir(parents=True)
    _link(sys / "bus/scsi/devices" / hctl, os.path.relpath(real, sys / "bus/scsi/devices"))


def _node(dev: Path, name: str, size: int) -> None:
    with open(dev / name, "wb") as f:
        f.truncate(size)


def build(root: Path, iqn: str, port: int) -> tuple[Path, Path]:
    """Returns (sys, dev)."""
    sys, dev = root / "sys", root / "dev"
    dev.mkdir(parents=True)
    # SATA: host2 with 2:0:0:0 disk sdb, 2:0:1:0 CD-ROM sr0, 2:0:2:0 an enclosure (type 13).
    host2 = f"{SATA_PCI}/ata3/host2"
    _write(sys / host2 / "scsi_host/host2/unique_id", "3\n")
    _write(sys / host2 / "scsi_host/host2/scan", "")
    _link(sys / "class/scsi_host/host2",
          os.path.relpath(sys / host2 / "scsi_host/host2", sys / "class/scsi_host"))
    _lun(sys, f"{host2}/target2:0:0", "2:0:0:0", 0, "sdb")
    _lun(sys, f"{host2}/target2:0:1", "2:0:1:0", 5, "sr0")
    _lun(sys, f"{host2}/target2:0:2", "2:0:2:0", 13, None)
    _node(dev, "sdb", 64 * MiB)
    _node(dev, "sr0", 2 * MiB)
    by_path = dev / "disk/by-path"
    _link(by_path / "pci-0000:00:1f.2-ata-3", "../../sdb")
    _link(by_path / "pci-0000:00:1f.2-ata-3.0-cd", "../../sr0")
    # iSCSI: session1 on host3, tgtd's LUN 0 (controller, type 12) and LUN 1 (disk sdc).
    host3 = "devices/platform/host3"
    session = f"{host3}/session1"
    (sys / session / "target3:0:0").mkdir(parents=True)
    _link(sys / "class/iscsi_session/session1/device",
          os.path.relpath(sys / session, sys / "class/iscsi_session/session1"))
    _write(sys / host3 / "scsi_host/host3/scan", "")
    _link(sys / "class/scsi_host/host3",
          os.path.relpath(sys / host3 / "scsi_host/host3", sys / "class/scsi_host"))
    _lun(sys, f"{session}/target3:0:0", "3:0:0:0", 12, None)
    _lun(sys, f"{session}/target3:0:0", "3:0:0:1", 0, "sdc")
    _node(dev, "sdc", 16 * MiB)
    _link(by_path / f"ip-127.0.0.1:{port}-iscsi-{iqn}-lun-1", "../../sdc")
    # Fibre Channel: host5, an NPIV-capable HBA port.
    _write(sys / "class/fc_host/host5/node_name", "0x20000000c9831b4b\n")
    _write(sys / "class/fc_host/host5/port_name", "0x10000000c9831b4b\n")
    return sys, dev
