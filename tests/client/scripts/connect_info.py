"""What a connection says about itself and its host."""

import libvirt  # type: ignore[import-not-found]

conn = libvirt.open("test:///default")
print("type", conn.getType())
print("version", conn.getVersion())
print("libversion", conn.getLibVersion())
print("uri", conn.getURI())
print("hostname", conn.getHostname())
print("info", conn.getInfo())
print("maxvcpus", conn.getMaxVcpus(None), conn.getMaxVcpus("test"))
print("security model", conn.getSecurityModel())
print(conn.getSysinfo(0), end="")
print("alive secure encrypted", conn.isAlive(), conn.isSecure(), conn.isEncrypted())
print("ids", conn.listDomainsID(), "defined", conn.listDefinedDomains())
print("counts", conn.numOfDomains(), conn.numOfDefinedDomains())
print("all", [(d.name(), d.ID(), d.UUIDString()) for d in conn.listAllDomains(0)])
for label, flag in [("active", libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE),
                    ("inactive", libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]:
    print(label, [d.name() for d in conn.listAllDomains(flag)])
print(conn.getCapabilities(), end="")
try:
    conn.getDomainCapabilities()
except libvirt.libvirtError as e:
    print("domcaps", e.get_error_code(), e.get_error_domain(), e.get_error_message())
print("close", conn.close())
