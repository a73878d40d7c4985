"""A read-only connection reads everything and changes nothing."""

from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        result = call(*args)
        print(label, "->", result if not isinstance(result, str) else len(result) > 0)
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


conn = libvirt.openReadOnly("test:///default")
dom = conn.lookupByName("test")
XML = "<domain type='test'><name>ro</name><memory>1024</memory><os><type>hvm</type></os></domain>"
attempt("state", dom.state)
attempt("info", lambda: dom.info()[:4])
attempt("xml", dom.XMLDesc, 0)
attempt("xml inactive", dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)
attempt("xml secure", dom.XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE)
attempt("define", conn.defineXML, XML)
attempt("define flags", conn.defineXMLFlags, XML, 0)
attempt("createXML", conn.createXML, XML, 0)
attempt("create", dom.create)
attempt("create flags", dom.createWithFlags, 0)
attempt("destroy", dom.destroy)
attempt("destroy flags", dom.destroyFlags, 0)
attempt("shutdown", dom.shutdown)
attempt("shutdown flags", dom.shutdownFlags, 0)
attempt("reboot", dom.reboot, 0)
attempt("reset", dom.reset, 0)
attempt("suspend", dom.suspend)
attempt("resume", dom.resume)
attempt("undefine", dom.undefine)
attempt("undefine flags", dom.undefineFlags, 0)
attempt("set autostart", dom.setAutostart, 1)
attempt("autostart", dom.autostart)
attempt("still running", dom.state)
attempt("type", conn.getType)
