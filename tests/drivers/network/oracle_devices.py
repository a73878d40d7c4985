"""Run by Debian's /usr/bin/python3 (python3-libvirt): define an inactive domain in
libvirtd, apply device changes with AFFECT_CONFIG in turn, print the XML or the error after
each, undefine the domain. Never starts it."""

import json
import sys

import libvirt

req = json.load(sys.stdin)
conn = libvirt.open(req["uri"])
dom = conn.defineXML(req["xml"])
out = []
try:
    for op, xml, flags in req["changes"]:
        try:
            getattr(dom, op)(xml, flags)
            out.append({"xml": dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)})
        except libvirt.libvirtError as err:
            out.append({"error": [err.get_error_code(), err.get_error_domain(),
                                  err.get_error_message()]})
finally:
    dom.undefine()
print(json.dumps(out))
