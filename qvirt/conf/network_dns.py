"""A network's <dns>: what its dnsmasq answers and where it forwards the rest.

libvirt writes the children grouped by kind (forwarders, txt, srv, host) whatever their order
in the input, which is what the field order below gives.
"""

from __future__ import annotations

import ipaddress

from qvirt.conf.network_ip import check_address, spell
from qvirt.conf.network_port import YesNo
from qvirt.conf.xmlobject import Attr, Child, UInt, XMLObject
from qvirt.errors import XMLDetail, XMLError


class Forwarder(XMLObject):
    TAG = "forwarder"
    ORDER = ("domain", "addr")
    domain = Attr("@domain")
    addr = Attr("@addr")

    def post_parse(self) -> None:
        if self.domain is None and self.addr is None:
            raise XMLError("Invalid forwarder element, must contain at least one of addr or "
                           "domain")


class TXT(XMLObject):
    TAG = "txt"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr("@value")


class SRV(XMLObject):
    TAG = "srv"
    ORDER = ("service", "protocol", "domain", "target", "port", "priority", "weight")
    service = Attr("@service")
    protocol = Attr("@protocol")
    domain = Attr("@domain")
    target = Attr("@target")
    port = Attr("@port", UInt)
    priority = Attr("@priority", UInt)
    weight = Attr("@weight", UInt)


class DNSHost(XMLObject):
    TAG = "host"
    ORDER = ("ip", "hostnames")
    ip = Attr("@ip")
    hostnames = Attr("hostname", multi=True)


class DNS(XMLObject):
    TAG = "dns"
    ORDER = ("enable", "forward_plain_names", "forwarders", "txts", "srvs", "hosts")
    enable = Attr("@enable", YesNo)
    forward_plain_names = Attr("@forwardPlainNames", YesNo)
    forwarders = Child(Forwarder, single=False)
    txts = Child(TXT, single=False)
    srvs = Child(SRV, single=False)
    hosts = Child(DNSHost, single=False)

    def check(self, network: str) -> None:
        """Record checks of virNetworkDNSDefParseXML, whose messages name the network, and
        canonical spellings of the addresses."""
        for fwd in self.forwarders:
            if fwd.addr is not None:
                try:
                    fwd.addr = spell(ipaddress.ip_address(fwd.addr))
                except ValueError:
                    raise XMLError(f"Invalid forwarder IP address '{fwd.addr}' in network "
                                   f"'{network}'") from None
        for host in self.hosts:
            if host.ip is None:
                raise XMLDetail(f"Missing IP address in network '{network}' DNS HOST record")
            if not host.hostnames:
                raise XMLDetail(f"Missing hostname in network '{network}' DNS HOST record")
            host.ip = spell(check_address(host.ip, network))
        for srv in self.srvs:
            if srv.service is None:
                raise XMLDetail(f"missing required service attribute in DNS SRV record of "
                                f"network '{network}'")
            if srv.protocol is None:
                raise XMLDetail(f"missing required protocol attribute in DNS SRV record "
                                f"'{srv.service}' of network '{network}'")
            for attr in ("port", "priority", "weight"):
                if getattr(srv, attr) is not None and srv.target is None:
                    raise XMLDetail(f"DNS SRV {attr} attribute not permitted without target "
                                    f"for service '{srv.service}' in network '{network}'")
        if self.enable is False and (self.forwarders or self.hosts or self.srvs or self.txts
                                     or self.forward_plain_names is not None):
            raise XMLError(f"Extra data in disabled network '{network}'")
        for txt in self.txts:
            if txt.name is None:
                raise XMLDetail(f"missing required name attribute in DNS TXT record of "
                                f"network {network}")
            if txt.value is None:
                raise XMLDetail(f"missing required value attribute in DNS TXT record named "
                                f"'{txt.name}' of network '{network}'")
