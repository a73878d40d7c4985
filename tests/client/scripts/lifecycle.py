"""The default domain through every lifecycle call, and the errors of calls that do not fit."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        print(label, "->", call(*args))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
print(dom.name(), dom.ID(), dom.UUIDString(), dom.UUID().hex())
print(dom.XMLDesc(0), end="")
print("inactive xml same", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == dom.XMLDesc(0))
print("info", dom.info()[:4], "state", dom.state())
print("active persistent autostart", dom.isActive(), dom.isPersistent(), dom.autostart())
print("ostype", dom.OSType(), "maxmem", dom.maxMemory())
print("label", dom.securityLabel(), "managed save", dom.hasManagedSaveImage(0))
attempt("managed save flags", dom.hasManagedSaveImage, 1)
print("vcpus", dom.vcpusFlags(0), dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM),
      dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG))
attempt("create running", dom.create)
attempt("resume running", dom.resume)
attempt("suspend", dom.suspend)
print("state", dom.state(), dom.info()[0])
attempt("suspend paused", dom.suspend)
attempt("resume", dom.resume)
print("state", dom.state())
attempt("reset", dom.reset, 0)
attempt("reboot", dom.reboot, 0)
print("state", dom.state(), dom.ID())
attempt("shutdown", dom.shutdown)
print("state", dom.state(), dom.ID(), conn.listDomainsID(), conn.listDefinedDomains())
attempt("shutdown off", dom.shutdown)
attempt("destroy off", dom.destroy)
attempt("suspend off", dom.suspend)
attempt("resume off", dom.resume)
attempt("reboot off", dom.reboot, 0)
attempt("reset off", dom.reset, 0)
attempt("vcpus live off", dom.vcpusFlags, libvirt.VIR_DOMAIN_AFFECT_LIVE)
attempt("create flags", dom.createWithFlags, 99)
attempt("create", dom.createWithFlags, 0)
print("state", dom.state(), dom.ID(), conn.lookupByID(dom.ID()).name())
attempt("destroy flags", dom.destroyFlags, 4)
attempt("destroy", dom.destroyFlags, libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
print("state", dom.state(), dom.ID(), dom.isActive())
print("label off", dom.securityLabel())
attempt("autostart", dom.setAutostart, 1)
print("autostart", dom.autostart())
attempt("shutdown flags", dom.shutdownFlags, 1)
attempt("start", dom.create)
print("state", dom.state(), dom.ID())
