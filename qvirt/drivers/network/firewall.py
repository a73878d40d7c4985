"""Each network's nftables rules, after libvirt 10's nftables backend (network_nftables.c):
guests' traffic out accepted from their own subnet only, traffic in accepted only for
connections they opened (nat) or for their subnet (route), traffic between guests of the same
bridge accepted, the rest of the bridge's forwarding rejected; masquerading for nat, except to
multicast 224.0.0.0/24 and broadcast; DHCP and DNS from guests accepted on input.

Where libvirt shares chains between networks, qvirt gives each network chains of its own in
the tables ``ip qvirt_network`` and ``ip6 qvirt_network`` (named after the bridge), so that a
network's rules go with its chains, and a table with no chains left goes too. nftables has no
CHECKSUM target, so no checksum fill (libvirt 10's nftables backend has none either)."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess

from qvirt.conf.network import NatPort, NatRange, Network
from qvirt.conf.network_ip import IP
from qvirt.errors import InternalError

TABLE = "qvirt_network"
NFT = "nft"
# mode -> whether traffic in is limited to connections the guests opened.
RULED_MODES = (None, "nat", "route")


def _nft(script: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which(NFT) or shutil.which(NFT, path="/usr/sbin:/sbin")
    if binary is None:
        raise InternalError("Cannot find 'nft' in path: No such file or directory")
    return subprocess.run([binary, "-f", "-"], input=script, capture_output=True, text=True,
                          check=False)


def _subnet(ip: IP) -> str:
    bits: object = ip.prefix if ip.prefix is not None else ip.netmask
    if bits is None:
        bits = 64 if ip.version == 6 else 24
    return str(ipaddress.ip_network(f"{ip.address}/{bits}", strict=False))


def nat_ports(net: Network) -> str:
    """The source ports NAT rewrites to. Like iptablesForwardMasquerade, a network without
    a <port> range gets 1024-65535 written into its live definition, which net-dumpxml of
    the running network then shows."""
    assert net.forward is not None
    if net.forward.nat is None:
        net.forward.nat = NatRange()
    if not net.forward.nat.ports:
        net.forward.nat.ports = [NatPort(start="1024", end="65535")]
    port = net.forward.nat.ports[0]
    return f"{port.start}-{port.end}"


def _chains(bridge: str) -> tuple[str, str, str]:
    return f"fwd_{bridge}", f"in_{bridge}", f"nat_{bridge}"


def rules(net: Network) -> dict[str, str]:
    """family -> the nft script that adds the network's chains (empty: none for it)."""
    mode = net.forward_mode
    if mode not in RULED_MODES or net.bridge is None:
        return {}
    bridge = f'"{net.bridge.name}"'
    fwd, inp, nat = _chains(str(net.bridge.name))
    scripts: dict[str, str] = {}
    for family, word in (("ip", "ip"), ("ip6", "ip6")):
        subnets = [_subnet(ip) for ip in net.ips if (ip.version == 4) == (family == "ip")]
        if family == "ip6" and not subnets:
            continue
        lines = [f"add table {family} {TABLE}",
                 f"add chain {family} {TABLE} {fwd} "
                 "{ type filter hook forward priority filter; policy accept; }"]
        add = f"add rule {family} {TABLE} {fwd} "
        lines.append(add + f"iif {bridge} oif {bridge} counter accept")
        if mode in ("nat", "route"):
            for subnet in subnets:
                lines.append(add + f"{word} saddr {subnet} iif {bridge} counter accept")
                state = "ct state related,established " if mode == "nat" else ""
                lines.append(add + f"oif {bridge} {word} daddr {subnet} {state}counter accept")
        lines.append(add + f"iif {bridge} counter reject")
        lines.append(add + f"oif {bridge} counter reject")
        lines.append(f"add chain {family} {TABLE} {inp} "
                     "{ type filter hook input priority filter; policy accept; }")
        dhcp = "67" if family == "ip" else "547"
        lines.append(f"add rule {family} {TABLE} {inp} iif {bridge} udp dport {{ 53, {dhcp} }}"
                     " counter accept")
        lines.append(f"add rule {family} {TABLE} {inp} iif {bridge} tcp dport 53 counter accept")
        if mode == "nat" and family == "ip":
            lines.append(f"add chain {family} {TABLE} {nat} "
                         "{ type nat hook postrouting priority srcnat; policy accept; }")
            natadd = f"add rule {family} {TABLE} {nat} "
            ports = nat_ports(net)
            for subnet in subnets:
                lines += [natadd + f"ip saddr {subnet} ip daddr 224.0.0.0/24 counter return",
                          natadd + f"ip saddr {subnet} ip daddr 255.255.255.255 counter return",
                          natadd + f"meta l4proto tcp ip saddr {subnet} ip daddr != {subnet} "
                          f"counter masquerade to :{ports}",
                          natadd + f"meta l4proto udp ip saddr {subnet} ip daddr != {subnet} "
                          f"counter masquerade to :{ports}",
                          natadd + f"ip saddr {subnet} ip daddr != {subnet} counter masquerade"]
        scripts[family] = "\n".join(lines) + "\n"
    return scripts


def add(net: Network) -> None:
    """networkAddFirewallRules: all or nothing."""
    for script in rules(net).values():
        done = _nft(script)
        if done.returncode != 0:
            remove(net)
            raise InternalError(f"Failed to apply firewall rules {script.strip()}: "
                                f"{done.stderr.strip()}")


def remove(net: Network) -> None:
    """The network's chains, and each table left without chains."""
    if net.bridge is None or net.bridge.name is None:
        return
    for family in ("ip", "ip6"):
        for chain in _chains(str(net.bridge.name)):
            _nft(f"delete chain {family} {TABLE} {chain}\n")
        listing = _nft_list(family)
        if listing is not None and "chain " not in listing:
            _nft(f"delete table {family} {TABLE}\n")


def _nft_list(family: str) -> str | None:
    binary = shutil.which(NFT) or shutil.which(NFT, path="/usr/sbin:/sbin") or NFT
    done = subprocess.run([binary, "list", "table", family, TABLE], capture_output=True,
                          text=True, check=False)
    return done.stdout if done.returncode == 0 else None
