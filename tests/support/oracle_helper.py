"""Run by Debian's /usr/bin/python3 (where python3-libvirt lives), never imported by qvirt.

Reads a JSON request on stdin: {"uri": ..., "kind": "domain"|"network"|..., "docs": [xml...],
"flags": int}; defines each document in real libvirt, reads it back inactive, undefines it, and
writes [{"xml": ...} | {"error": message, "code": n}] as JSON on stdout.
"""

import json
import sys

import libvirt  # python3-libvirt: the oracle, tests only


def _quiet(_ctx, _err):
    pass


def main():
    request = json.load(sys.stdin)
    libvirt.registerErrorHandler(_quiet, None)
    conn = libvirt.open(request.get("uri", "qemu:///system"))
    kind = request["kind"]
    flags = request.get("flags", 0)
    results = []
    for doc in request["docs"]:
        try:
            if kind == "domain":
                obj = conn.defineXMLFlags(doc, flags)
                xml = obj.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                obj.undefine()
            elif kind == "network":
                obj = conn.networkDefineXML(doc)
                xml = obj.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
                obj.undefine()
            elif kind == "pool":
                obj = conn.storagePoolDefineXML(doc, 0)
                xml = obj.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)
                obj.undefine()
            elif kind == "secret":
                obj = conn.secretDefineXML(doc, 0)
                xml = obj.XMLDesc(0)
                obj.undefine()
            elif kind == "nwfilter":
                obj = conn.nwfilterDefineXML(doc)
                xml = obj.XMLDesc(0)
                obj.undefine()
            else:
                raise ValueError("unknown kind " + kind)
            results.append({"xml": xml})
        except libvirt.libvirtError as err:
            results.append({"error": err.get_error_message(), "code": err.get_error_code()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
