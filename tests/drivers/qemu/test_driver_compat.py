"""The QEMU driver's errors against real libvirtd's: the same calls on both, the same code,
domain and message from each."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.errors import QvirtError
from tests.support.oracle import SYSTEM_PYTHON, ensure_libvirtd

pytestmark = pytest.mark.compat

PREFIX = f"qd-c{os.getpid()}-"
UUID1 = "5ad0f3e1-0c2c-4b1e-9c55-3c1f7f0a0001"
UUID2 = "5ad0f3e1-0c2c-4b1e-9c55-3c1f7f0a0002"
UUID_NONE = "5ad0f3e1-0c2c-4b1e-9c55-3c1f7f0a00ff"


def bare(name: str, uuid: str) -> str:
    return (f"<domain type='qemu'><name>{PREFIX}{name}</name><uuid>{uuid}</uuid>"
            "<memory>65536</memory><os><type arch='x86_64'>hvm</type></os></domain>")


# (operation, argument): run in order on both sides; "a" is defined by the first define.
SCENARIO: list[tuple[str, str]] = [
    ("lookup_name", PREFIX + "nosuch"),
    ("lookup_id", "99999"),
    ("lookup_uuid", UUID_NONE),
    ("define", bare("a", UUID1)),
    ("define", bare("b", UUID1)),
    ("define", bare("a", UUID2)),
    ("create", bare("a", UUID2)),
    ("suspend", ""),
    ("resume", ""),
    ("destroy", ""),
    ("shutdown", ""),
    ("reboot", ""),
    ("reset", ""),
    ("undefine", ""),
]

LIBVIRT_SIDE = """
import json, sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open("qemu:///system")
dom = None
out = []
for op, arg in json.load(sys.stdin):
    try:
        if op == "lookup_name": conn.lookupByName(arg)
        elif op == "lookup_id": conn.lookupByID(int(arg))
        elif op == "lookup_uuid": conn.lookupByUUIDString(arg)
        elif op == "define":
            d = conn.defineXML(arg)
            dom = dom or d
        elif op == "create": conn.createXML(arg, 0)
        else: getattr(dom, op)() if op != "reset" else dom.reset(0)
        out.append(None)
    except libvirt.libvirtError as e:
        out.append([e.get_error_code(), e.get_error_domain(), e.get_error_message()])
if dom is not None:
    try: dom.undefine()
    except libvirt.libvirtError: pass
print(json.dumps(out))
"""


def qvirt_side(drv: QemuDriver) -> list[list[object] | None]:
    out: list[list[object] | None] = []
    dom = None
    for op, arg in SCENARIO:
        try:
            if op == "lookup_name":
                drv.domain_lookup_by_name(arg)
            elif op == "lookup_id":
                drv.domain_lookup_by_id(int(arg))
            elif op == "lookup_uuid":
                drv.domain_lookup_by_uuid(arg)
            elif op == "define":
                ref = drv.domain_define_xml_flags(arg)
                dom = dom or ref
            elif op == "create":
                drv.domain_create_xml(arg)
            else:
                assert dom is not None
                method = {"suspend": drv.domain_suspend, "resume": drv.domain_resume,
                          "destroy": drv.domain_destroy_flags,
                          "shutdown": drv.domain_shutdown_flags, "reboot": drv.domain_reboot,
                          "reset": drv.domain_reset, "undefine": drv.domain_undefine_flags}[op]
                method(dom)
            out.append(None)
        except QvirtError as err:
            out.append([err.code, err.domain, err.message])
    return out


def test_errors_match_libvirtd(root: Path) -> None:
    ensure_libvirtd()
    proc = subprocess.run([SYSTEM_PYTHON, "-c", LIBVIRT_SIDE], input=json.dumps(SCENARIO),
                          capture_output=True, text=True, check=True)
    expected = json.loads(proc.stdout)
    drv = QemuDriver(f"qemu:///embed?root={root}", root)
    try:
        got = qvirt_side(drv)
    finally:
        drv.connect_close()
    for (op, _), want, have in zip(SCENARIO, expected, got, strict=True):
        assert have == want, op
