"""Corners of the test driver and of the API's own argument checks."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        print(label, "->", call(*args))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message(),
              e.get_str1(), e.get_str2())


DISK = ("<devices><disk type='file' device='disk'><source file='/guest/q.img'/>"
        "<target dev='vda'/></disk>{more}</devices>")
DOMAIN = ("<domain type='{type}'><name>{name}</name><uuid>{uuid}</uuid><memory>1024</memory>"
          "<os><type{arch}>{os}</type></os>" + DISK + "</domain>")


def xml(name: str, uuid_tail: str, type: str = "test", arch: str = "", os: str = "hvm",
        more: str = "") -> str:
    uuid = f"8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e{uuid_tail}"
    return DOMAIN.format(type=type, name=name, uuid=uuid, arch=arch, os=os, more=more)


conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
attempt("vcpus live and config", dom.vcpusFlags, 3)
attempt("xml update-cpu", lambda: len(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_UPDATE_CPU)))
attempt("negative id", conn.lookupByID, -1)
attempt("empty xml", conn.defineXML, "")
attempt("slash in name", conn.defineXML, xml("a/b", "30"))
attempt("kvm type", lambda: conn.defineXML(xml("k1", "31", type="kvm")).XMLDesc(0))
attempt("x86_64", lambda: conn.defineXML(xml("k2", "32", arch=" arch='x86_64'")).XMLDesc(0))
attempt("xen guest", lambda: conn.defineXML(
    xml("k3", "33", os="xen", more="<graphics type='vnc'/>")).XMLDesc(0))
attempt("two videos", lambda: conn.defineXML(xml(
    "k4", "34", more="<video><model type='vga'/></video><video/>")).XMLDesc(0))
attempt("console only", lambda: conn.defineXML(xml(
    "k5", "35", more="<console type='pty'/>")).XMLDesc(0))
