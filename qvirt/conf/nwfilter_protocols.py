"""The protocol elements of an nwfilter <rule> (<mac>, <arp>, <tcp>, ... and their -ipv6 forms),
built from one table: each protocol's attributes in the order libvirt 9.0 writes them, and each
attribute's data type, which decides how libvirt rewrites its value (symbolic protocol names,
prefix lengths for masks, true/false for booleans). Values that reference a variable ($IP,
$P[@1]) are kept as they are: they are only resolved when the filter is instantiated.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import ClassVar

from qvirt.conf.xmlobject import Attr, MacAddr, XMLObject
from qvirt.errors import InternalError

MAC_PROTOCOLS = {0x0806: "arp", 0x8035: "rarp", 0x0800: "ipv4", 0x86DD: "ipv6"}
ARP_OPCODES = {1: "Request", 2: "Reply", 3: "Request_Reverse", 4: "Reply_Reverse",
               5: "DRARP_Request", 6: "DRARP_Reply", 7: "DRARP_Error", 8: "InARP_Request",
               10: "ARP_NAK"}
IP_PROTOCOLS = {6: "tcp", 17: "udp", 136: "udplite", 50: "esp", 51: "ah", 1: "icmp", 2: "igmp",
                132: "sctp"}
IPV6_PROTOCOLS = {6: "tcp", 17: "udp", 136: "udplite", 50: "esp", 51: "ah", 58: "icmpv6",
                  132: "sctp"}
TCP_FLAGS = ("SYN", "ACK", "URG", "PSH", "FIN", "RST")
_ITERATOR_ZERO = re.compile(r"\[@0\]$")
# A variable reference: $NAME, $NAME[index] or $NAME[@iterator].
_VARIABLE = re.compile(r"\$[A-Za-z0-9_]+(\[@?[0-9]+\])?")


def _int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


def _format_int(text: str, value: int) -> str:
    """libvirt remembers whether a number came in hex and writes it back the same way."""
    return f"0x{value:x}" if text.lower().startswith("0x") else str(value)


def _uint(bits: int, maximum: int | None = None) -> Callable[[str], str]:
    top = (1 << bits) - 1 if maximum is None else maximum

    def convert(text: str) -> str:
        value = _int(text)
        if not 0 <= value <= top:
            raise ValueError(text)
        return _format_int(text, value)
    return convert


_uint8, _uint16, _uint32 = _uint(8), _uint(16), _uint(32)


def _symbolic(table: dict[int, str], bits: int) -> Callable[[str], str]:
    """A number libvirt knows a name for is written as that name; names are checked."""
    number = _uint(bits)

    def convert(text: str) -> str:
        if text in table.values():
            return text
        return table.get(_int(text), number(text))
    return convert


def _mac(text: str) -> str:
    return MacAddr.parse(text)


def _ip(version: int) -> Callable[[str], str]:
    """IPv4 as inet_aton reads it (so 010.0.0.1 is 8.0.0.1), IPv6 in canonical form."""
    def convert(text: str) -> str:
        if version == 4:
            try:
                return socket.inet_ntoa(socket.inet_aton(text))
            except OSError:
                raise ValueError(text) from None
        # inet_ntop's spelling, as libvirt's: ::10.1.2.3 stays so (Python would say ::a01:203).
        return socket.inet_ntop(socket.AF_INET6, ipaddress.IPv6Address(text).packed)
    return convert


def _mask(version: int) -> Callable[[str], str]:
    """Masks are written as prefix lengths, whichever way they were given."""
    bits = 32 if version == 4 else 128

    def convert(text: str) -> str:
        if text.isdigit():
            if int(text) > bits:
                raise ValueError(text)
            return str(int(text))
        value = int(ipaddress.ip_address(_ip(version)(text)))
        ones = bin(value).count("1")
        if value != ((1 << ones) - 1) << (bits - ones):
            raise ValueError(text)
        return str(ones)
    return convert


def _bool(text: str) -> str:
    """libvirt reads anything but true, yes or 1 as false."""
    return "true" if text in ("true", "yes", "1") else "false"


def _flag_set(text: str) -> str:
    names = set(text.split(",")) if text else set()
    if "ALL" in names:
        names = set(TCP_FLAGS)
    names.discard("NONE")
    if not names <= set(TCP_FLAGS):
        raise ValueError(text)
    if names == set(TCP_FLAGS):
        return "ALL"
    return ",".join(f for f in TCP_FLAGS if f in names) or "NONE"


def _tcp_flags(text: str) -> str:
    mask, sep, flags = text.partition("/")
    if not sep:
        raise ValueError(text)
    return f"{_flag_set(mask)}/{_flag_set(flags)}"


def _text(text: str) -> str:
    return text


CONN_STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "NONE")


def _state(text: str) -> str:
    """Connection states, written in libvirt's fixed order whatever the input order."""
    names = set(text.split(","))
    if not names <= set(CONN_STATES):
        raise ValueError(text)
    return ",".join(s for s in CONN_STATES if s in names)


MAC4 = {"srcmacaddr": _mac, "srcmacmask": _mac, "dstmacaddr": _mac, "dstmacmask": _mac}
COMMENT = {"comment": _text}
DSCP = _uint(8, 63)


def _ip_common(version: int) -> dict[str, Callable[[str], str]]:
    ip, mask = _ip(version), _mask(version)
    return {"srcmacaddr": _mac, "srcipaddr": ip, "srcipmask": mask, "dstipaddr": ip,
            "dstipmask": mask, "srcipfrom": ip, "srcipto": ip, "dstipfrom": ip, "dstipto": ip,
            "dscp": DSCP, "connlimit-above": _uint16, "state": _state}


PORTS = {"srcportstart": _uint16, "srcportend": _uint16, "dstportstart": _uint16,
         "dstportend": _uint16}
IPSET = {"ipset": _text, "ipsetflags": _text}

PROTOCOLS: dict[str, dict[str, Callable[[str], str]]] = {
    "mac": {**MAC4, "protocolid": _symbolic(MAC_PROTOCOLS, 16), **COMMENT},
    "vlan": {**MAC4, "vlanid": _uint(16, 4095), "encap-protocol": _symbolic(MAC_PROTOCOLS, 16),
             **COMMENT},
    "stp": {"srcmacaddr": _mac, "srcmacmask": _mac, "type": _uint8, "flags": _uint8,
            "root-priority": _uint16, "root-priority-hi": _uint16, "root-address": _mac,
            "root-address-mask": _mac, "root-cost": _uint32, "root-cost-hi": _uint32,
            "sender-priority": _uint16, "sender-priority-hi": _uint16,
            "sender-address": _mac, "sender-address-mask": _mac, "port": _uint16,
            "port-hi": _uint16, "max-age": _uint16, "max-age-hi": _uint16,
            "hello-time": _uint16, "hello-time-hi": _uint16, "forward-delay": _uint16,
            "forward-delay-hi": _uint16, **COMMENT},
    "ip": {**MAC4, "srcipaddr": _ip(4), "srcipmask": _mask(4), "dstipaddr": _ip(4),
           "dstipmask": _mask(4), "protocol": _symbolic(IP_PROTOCOLS, 8), **PORTS,
           "dscp": DSCP, **COMMENT},
    "ipv6": {**MAC4, "srcipaddr": _ip(6), "srcipmask": _mask(6), "dstipaddr": _ip(6),
             "dstipmask": _mask(6), "protocol": _symbolic(IPV6_PROTOCOLS, 8), **PORTS,
             "type": _uint8, "typeend": _uint8, "code": _uint8, "codeend": _uint8,
             **COMMENT},
}
for _name in ("arp", "rarp"):
    PROTOCOLS[_name] = {
        **MAC4, "hwtype": _uint16, "protocoltype": _uint16,
        "opcode": _symbolic(ARP_OPCODES, 16), "arpsrcmacaddr": _mac, "arpdstmacaddr": _mac,
        "arpsrcipaddr": _ip(4), "arpsrcipmask": _mask(4), "arpdstipaddr": _ip(4),
        "arpdstipmask": _mask(4), "gratuitous": _bool, **COMMENT}
for _suffix, _version in (("", 4), ("-ipv6", 6)):
    _common = _ip_common(_version)
    _tcp_extra = {"option": _uint8, "flags": _tcp_flags} if _version == 4 else \
        {"option": _uint8}
    PROTOCOLS["tcp" + _suffix] = {**_common, **PORTS, **_tcp_extra, **COMMENT}
    PROTOCOLS["udp" + _suffix] = {**_common, **PORTS, **COMMENT}
    PROTOCOLS["sctp" + _suffix] = {**_common, **PORTS, **COMMENT}
    PROTOCOLS["icmp" if _version == 4 else "icmpv6"] = {
        **_common, "type": _uint8, "code": _uint8, **COMMENT}
    for _name in ("esp", "ah", "udplite"):
        PROTOCOLS[_name + _suffix] = {**_common, **COMMENT}
    PROTOCOLS["all" + _suffix] = {**_common, **IPSET, **COMMENT}
PROTOCOLS["igmp"] = {**_ip_common(4), **COMMENT}


class ProtocolMatch(XMLObject):
    """Base of the generated protocol classes: ``match='no'`` negates the element's
    attributes, and every value is normalized by its data type after parsing."""

    CONVERT: ClassVar[dict[str, Callable[[str], str]]] = {}
    match = Attr("@match")

    def post_parse(self) -> None:
        # Only match='no' negates; any other value is the default, matching.
        self.match = "no" if self.match == "no" else None
        for attr, convert in self.CONVERT.items():
            field = attr.replace("-", "_")
            value = getattr(self, field)
            if value is None:
                continue
            if value.startswith("$") and _VARIABLE.fullmatch(value):
                # $X[@0] is the long form of $X, and libvirt writes the short one.
                setattr(self, field, _ITERATOR_ZERO.sub("", value))
                continue
            try:
                setattr(self, field, convert(value))
            except ValueError:
                raise InternalError(f"{attr} has illegal value {value}") from None
        self._check_ports()

    def _check_ports(self) -> None:
        """<ip> and <ipv6> take ports only with a protocol that has them."""
        if self.TAG not in ("ip", "ipv6"):
            return
        if any(getattr(self, p) is not None for p in PORTS) and \
                getattr(self, "protocol") not in ("tcp", "udp", "dccp", "sctp"):  # noqa: B009
            family = "IP" if self.TAG == "ip" else "IPv6"
            raise InternalError(f"{family} rule with port specification requires protocol "
                                f"specification with protocol to be either one of tcp(6), "
                                f"udp(17), dccp(33), or sctp(132)")


def _protocol_class(tag: str, attrs: dict[str, Callable[[str], str]]) -> type[ProtocolMatch]:
    fields = {a.replace("-", "_"): Attr(f"@{a}") for a in attrs}
    namespace = {"TAG": tag, "ORDER": ("match", *fields), "CONVERT": attrs, **fields,
                 "__doc__": f"<{tag}> in a filter rule."}
    name = "Match" + tag.title().replace("-", "")
    return type(name, (ProtocolMatch,), namespace)


MATCH_CLASSES: dict[str, type[ProtocolMatch]] = {
    tag: _protocol_class(tag, attrs) for tag, attrs in PROTOCOLS.items()}
