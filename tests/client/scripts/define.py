"""Defining, starting, redefining and undefining domains; transient domains; their errors."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]

XML = """<domain type='test'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu current='1'>2</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/{name}.img'/>
      <target dev='hda'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/guest/{name}-2.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
    </interface>
  </devices>
</domain>
"""
U1 = "8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e01"
U2 = "8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e02"


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        result = call(*args)
        if isinstance(result, libvirt.virDomain):
            result = (result.name(), result.ID())
        print(label, "->", result)
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


conn = libvirt.open("test:///default")
dom = conn.defineXML(XML.format(name="api1", uuid=U1))
print(dom.name(), dom.ID(), dom.isActive(), dom.isPersistent(), dom.state())
print(dom.XMLDesc(0), end="")
print("info", dom.info()[:4], "vcpus", dom.vcpusFlags(0),
      dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM))
print("defined", sorted(conn.listDefinedDomains()), conn.numOfDefinedDomains())
attempt("same name other uuid", conn.defineXML, XML.format(name="api1", uuid=U2))
attempt("same uuid other name", conn.defineXML, XML.format(name="api9", uuid=U1))
attempt("define flags", conn.defineXMLFlags, XML.format(name="api1", uuid=U1), 2)
attempt("redefine", conn.defineXML, XML.format(name="api1", uuid=U1).replace(
    "<vcpu current='1'>2</vcpu>", "<vcpu>3</vcpu>"))
attempt("start", dom.create)
print("id", dom.ID(), conn.lookupByUUIDString(U1).ID(), conn.lookupByUUID(dom.UUID()).name())
attempt("redefine running", conn.defineXML, XML.format(name="api1", uuid=U1))
print(dom.XMLDesc(0), end="")
print(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), end="")
attempt("createXML existing", conn.createXML, XML.format(name="api1", uuid=U1), 0)
attempt("undefine running", dom.undefine)
print("persistent", dom.isPersistent(), dom.isActive(), dom.state())
attempt("autostart transient", dom.setAutostart, 1)
attempt("destroy", dom.destroy)
attempt("lookup gone", conn.lookupByName, "api1")
attempt("info gone", dom.info)
attempt("createXML flags", conn.createXML, XML.format(name="api2", uuid=U2), 1)
attempt("createXML", conn.createXML, XML.format(name="api2", uuid=U2), 0)
t = conn.lookupByName("api2")
print("transient", t.isPersistent(), t.isActive(), t.state(), t.ID())
print(t.XMLDesc(0), end="")
attempt("shutdown transient", t.shutdown)
attempt("lookup transient", conn.lookupByUUIDString, U2)
attempt("define for undefine", conn.defineXML, XML.format(name="api3", uuid=U2))
attempt("undefine flags", conn.lookupByName("api3").undefineFlags, 0x10000)
attempt("undefine", conn.lookupByName("api3").undefineFlags,
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
print("defined", conn.listDefinedDomains(), conn.listDomainsID())
attempt("no name", conn.defineXML,
        "<domain type='test'><memory>1</memory><os><type>hvm</type></os></domain>")
attempt("not xml", conn.defineXML, "junk")
attempt("wrong root", conn.defineXML, "<network/>")
