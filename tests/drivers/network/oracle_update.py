"""Run by Debian's /usr/bin/python3 (which has python3-libvirt): define one inactive network
in libvirtd, apply each update with AFFECT_CONFIG in turn, and print, for each, the inactive
XML after it or the error libvirt raised; then undefine the network. Never starts it."""

import json
import sys

import libvirt

req = json.load(sys.stdin)
conn = libvirt.open(req["uri"])
net = conn.networkDefineXML(req["xml"])
out = []
try:
    for command, section, index, xml, flags in req["updates"]:
        try:
            net.update(command, section, index, xml, flags)
            out.append({"xml": net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)})
        except libvirt.libvirtError as err:
            out.append({"error": [err.get_error_code(), err.get_error_domain(),
                                  err.get_error_message()]})
finally:
    net.undefine()
print(json.dumps(out))
