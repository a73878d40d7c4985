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


def _forget_leftovers(conn):
    """Undefine corpus objects a crashed earlier run left behind (their names start with
    "corpus-"), so that defining them again is not refused as a duplicate."""
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE):
        if dom.name().startswith("corpus-"):
            dom.undefine()
    for net in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_INACTIVE):
        if net.name().startswith("corpus-"):
            net.undefine()
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE):
        if pool.name().startswith("corpus-"):
            pool.undefine()


def main():
    request = json.load(sys.stdin)
    libvirt.registerErrorHandler(_quiet, None)
    conn = libvirt.open(request.get("uri", "qemu:///system"))
    kind = request["kind"]
    flags = request.get("flags", 0)
    _forget_leftovers(conn)
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
            if err.get_error_domain() in (libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE):
                # libvirtd went away (it crashes now and then): the caller restarts it and
                # asks again, rather than taking a dead daemon's error for libvirt's answer.
                sys.exit(75)
            results.append({"error": err.get_error_message(), "code": err.get_error_code()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
