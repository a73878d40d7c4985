"""Run by Debian's /usr/bin/python3 (python3-libvirt), never imported: the client the
[network] wire row is timed with. argv: URI, the network's XML file, the guest's XML file,
the guest NIC's MAC.

It defines both, then serves one command per stdin line: "cycle" starts the network and the
guest, waits until the network reports the guest's DHCP lease (virNetworkGetDHCPLeases, as a
management application would poll it), destroys both and prints "ok"; "close" undefines both
and ends.

A lease counts only when granted in this cycle (its expiry later than the last cycle's):
libvirtd keeps a network's leases across net-destroy and net-start, so the previous boot's
lease shows as soon as the network is up again.
"""

import sys
import time

import libvirt  # python3-libvirt: the peer's client, benchmarks only

LEASE_WAIT = 120.0


def main():
    uri, net_xml, dom_xml, mac = sys.argv[1:5]
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open(uri)
    with open(net_xml) as f:
        net = conn.networkDefineXML(f.read())
    with open(dom_xml) as f:
        dom = conn.defineXML(f.read())
    last = 0
    for line in sys.stdin:
        if line.strip() == "cycle":
            net.create()
            dom.create()
            deadline = time.monotonic() + LEASE_WAIT
            while not (fresh := [lease["expirytime"] for lease in net.DHCPLeases(mac)
                                 if lease["expirytime"] > last]):
                if time.monotonic() > deadline:
                    raise RuntimeError("the guest got no lease")
                time.sleep(0.01)
            last = max(fresh)
            dom.destroy()
            net.destroy()
            print("ok", flush=True)
        else:
            break
    dom.undefine()
    net.undefine()
    print("closed", flush=True)


main()
