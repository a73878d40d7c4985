"""Interface changes to a domain's persistent config (attach, detach, update with
AFFECT_CONFIG; and AFFECT_LIVE refused on a domain that is not running) against libvirtd
9.0: the same inactive domain defined in both, the same changes in turn, after each the same
<interface> elements or the same error."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

from qvirt import constants as C
from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.errors import QvirtError
from tests.support.oracle import SYSTEM_PYTHON, URI, ensure_libvirtd

HELPER = Path(__file__).with_name("oracle_devices.py")
CONFIG, LIVE = C.VIR_DOMAIN_AFFECT_CONFIG, C.VIR_DOMAIN_AFFECT_LIVE
ATTACH, DETACH, UPDATE = "attachDeviceFlags", "detachDeviceFlags", "updateDeviceFlags"
CALLS = {ATTACH: "domain_attach_device_flags", DETACH: "domain_detach_device_flags",
         UPDATE: "domain_update_device_flags"}
NIC = "<interface type='network'><mac address='{mac}'/><source network='default'/>{extra}" \
      "</interface>"
CHANGES = [
    (ATTACH, NIC.format(mac="52:54:00:22:22:01", extra=""), CONFIG),
    (ATTACH, NIC.format(mac="52:54:00:22:22:02", extra="<model type='virtio'/>"), CONFIG),
    (ATTACH, "<interface type='bridge'><mac address='52:54:00:22:22:03'/>"
             "<source bridge='br0'/><model type='e1000'/></interface>", CONFIG),
    (UPDATE, NIC.format(mac="52:54:00:22:22:02", extra="<link state='down'/>"), CONFIG),
    (DETACH, NIC.format(mac="52:54:00:22:22:01", extra=""), CONFIG),
    (DETACH, NIC.format(mac="52:54:00:22:22:09", extra=""), CONFIG),
    (ATTACH, NIC.format(mac="52:54:00:22:22:02", extra=""), CONFIG),
    (DETACH, NIC.format(mac="52:54:00:22:22:02", extra=""), CONFIG),
    (UPDATE, NIC.format(mac="52:54:00:22:22:02", extra=""), CONFIG),
    (ATTACH, NIC.format(mac="52:54:00:22:22:04", extra=""), LIVE),
    (DETACH, NIC.format(mac="52:54:00:22:22:03", extra=""), LIVE),
]


def _domain(name: str) -> str:
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid.uuid4()}</uuid>"
            "<memory unit='MiB'>64</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            "<interface type='network'><mac address='52:54:00:22:22:00'/>"
            "<source network='default'/><model type='virtio'/></interface>"
            "</devices></domain>")


def _interfaces(xml: str) -> list[str]:
    return re.findall(r"<interface .*?</interface>", xml, re.S)


def _oracle(xml: str) -> list[dict[str, object]]:
    ensure_libvirtd()
    proc = subprocess.run([SYSTEM_PYTHON, str(HELPER)], input=json.dumps(
        {"uri": URI, "xml": xml, "changes": CHANGES}), capture_output=True, text=True,
        check=True)
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


def test_config_changes_match_libvirtd(tmp_path: Path) -> None:
    xml = _domain(f"qvt-dev-{uuid.uuid4().hex[:6]}")
    expected = [{"interfaces": _interfaces(str(r["xml"]))} if "xml" in r else r
                for r in _oracle(xml)]
    drv = QemuDriver(f"qemu:///embed?root={tmp_path}", tmp_path)
    try:
        ref = drv.domain_define_xml_flags(xml)
        got: list[dict[str, object]] = []
        for op, doc, flags in CHANGES:
            try:
                getattr(drv, CALLS[op])(ref, doc, flags)
                got.append({"interfaces": _interfaces(drv.domain_get_xml_desc(
                    ref, C.VIR_DOMAIN_XML_INACTIVE))})
            except QvirtError as err:
                got.append({"error": [err.code, err.domain, err.message]})
    finally:
        drv.connect_close()
    for step, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert have == want, f"change {step}: {CHANGES[step]}"
