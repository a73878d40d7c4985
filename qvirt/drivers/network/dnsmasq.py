"""One dnsmasq per network: the config file libvirt writes (networkDnsmasqConfContents), its
DHCP hosts and DNS hosts files, and the process, started, told to reread its hosts files
(SIGHUP) and stopped.

Unlike libvirt, which runs dnsmasq with --leasefile-ro and a lease helper, qvirt lets dnsmasq
keep its own lease file, which leases.py reads. dnsmasq runs as the daemon's own user: its
files live in the daemon's private directories."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from qvirt.conf.network import Network
from qvirt.conf.network_ip import IP, UNIT_SECONDS, DHCPHost, Lease
from qvirt.drivers.network.paths import NetworkPaths
from qvirt.errors import InternalError, QvirtError
from qvirt.util.fileio import atomic_write, remove

DNSMASQ = "dnsmasq"
PID_WAIT = 5.0
HEADER = """\
##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:
##    virsh net-edit {name}
## or other application using the libvirt API.
##
## dnsmasq conf file created by libvirt
"""


def needs_dnsmasq(net: Network) -> bool:
    """networkStartDhcpDaemon's test: a network of its own with an address (DHCP or DNS to
    serve); bridge, macvtap and hostdev networks have none."""
    return net.forward_mode in (None, "nat", "route", "open") and bool(net.ips)


def _subnet(ip: IP) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    bits: object = ip.prefix if ip.prefix is not None else ip.netmask
    if bits is None:
        bits = 64 if ip.version == 6 else 24
    return ipaddress.ip_network(f"{ip.address}/{bits}", strict=False)


def _lease_time(lease: Lease | None) -> str:
    if lease is None:
        return ""
    if not lease.expiry:
        return ",infinite"
    seconds = lease.expiry * UNIT_SECONDS[lease.unit or "minutes"]
    return f",{seconds}"


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def conf_contents(net: Network, paths: NetworkPaths) -> str:
    name = str(net.name)
    bridge = str(net.bridge.name) if net.bridge else ""
    lines = [HEADER.format(name=name) + "strict-order", f"pid-file={paths.pid(name)}",
             f"user={_user()}"]
    dns = net.dns
    if dns is not None:
        for fwd in dns.forwarders:
            target = fwd.addr or "#"
            lines.append(f"server=/{fwd.domain}/{target}" if fwd.domain else f"server={target}")
        if any(f.addr and not f.domain for f in dns.forwarders):
            lines.append("no-resolv")
    if dns is not None and dns.forward_plain_names is False:
        lines += ["domain-needed", "local=//"]
    if net.domain:
        if net.domain_local_only:
            lines.append(f"local=/{net.domain}/")
        lines += [f"domain={net.domain}", "expand-hosts"]
    if dns is not None and dns.enable is False:
        lines.append("port=0")
    else:
        lines += ["except-interface=lo", "bind-dynamic", f"interface={bridge}"]
    if net.forward_mode is None:
        # An isolated network's guests get no default route (it could not work), and no
        # answers from the host's own resolvers (a channel out).
        lines += ["dhcp-option=3", "no-resolv"]
    if dns is not None:
        for txt in dns.txts:
            lines.append(f"txt-record={txt.name},{txt.value}")
        for srv in dns.srvs:
            record = f"srv-host=_{srv.service}._{srv.protocol}"
            if srv.domain:
                record += f".{srv.domain}"
            if srv.target:
                # A later value needs the earlier ones, written as 0 when unset.
                record += f",{srv.target}"
                if srv.port or srv.priority or srv.weight:
                    record += f",{srv.port or 0}"
                if srv.priority or srv.weight:
                    record += f",{srv.priority or 0}"
                if srv.weight:
                    record += f",{srv.weight}"
            lines.append(record)
    lease_max = 0
    ipv4_dhcp = False
    ipv6_dhcp = False
    for ip in net.ips:
        subnet = _subnet(ip)
        dhcp = ip.dhcp
        if dhcp is None:
            continue
        ipv6_dhcp |= ip.version == 6
        for rng in dhcp.ranges:
            width = subnet.netmask if ip.version == 4 else subnet.prefixlen
            lines.append(f"dhcp-range={rng.start},{rng.end},{width}{_lease_time(rng.lease)}")
            lease_max += int(ipaddress.ip_address(str(rng.end))) \
                - int(ipaddress.ip_address(str(rng.start))) + 1
        if ip.version == 4 and not dhcp.ranges and dhcp.hosts:
            lines.append(f"dhcp-range={subnet.network_address},static")
        if ip.version == 6 and not dhcp.ranges and dhcp.hosts:
            lines.append(f"dhcp-range={subnet.network_address},static,{subnet.prefixlen}")
        if ip.version == 4:
            ipv4_dhcp = True
            lease_max += len(dhcp.hosts)
        if dhcp.bootp and dhcp.bootp.file:
            server = f",,{dhcp.bootp.server}" if dhcp.bootp.server else ""
            lines.append(f"dhcp-boot={dhcp.bootp.file}{server}")
        if ip.tftp_root:
            lines += ["enable-tftp", f"tftp-root={ip.tftp_root}"]
    if ipv4_dhcp:
        lines += ["dhcp-no-override", "dhcp-authoritative"]
    if lease_max:
        lines.append(f"dhcp-lease-max={lease_max}")
    if any(ip.dhcp for ip in net.ips):
        lines.append(f"dhcp-hostsfile={paths.dnsmasq(name, 'hostsfile')}")
    lines.append(f"addn-hosts={paths.dnsmasq(name, 'addnhosts')}")
    # IPv6 without DHCP: router advertisements only (SLAAC); with it, RA beside DHCPv6.
    lines += [f"dhcp-range={ip.address},ra-only" for ip in net.ips
              if ip.version == 6 and ip.dhcp is None]
    if ipv6_dhcp:
        lines.append("enable-ra")
    lines += [f"{opt}" for opt in net.dnsmasq_options]
    return "\n".join(lines) + "\n"


def _host_line(host: DHCPHost, ipv6: bool) -> str:
    """virNetworkDHCPHostsfile's entries: [mac|id:ID],[ip],[name][,leasetime]."""
    parts = []
    if host.mac:
        parts.append(host.mac)
    if host.id:
        parts.append(f"id:{host.id}")
    parts.append(f"[{host.ip}]" if ipv6 else str(host.ip))
    if host.name:
        parts.append(host.name)
    return ",".join(parts) + _lease_time(host.lease)


def hostsfile_contents(net: Network) -> str:
    return "".join(_host_line(h, ip.version == 6) + "\n"
                   for ip in net.ips if ip.dhcp for h in ip.dhcp.hosts)


def addnhosts_contents(net: Network) -> str:
    hosts = net.dns.hosts if net.dns else []
    return "".join(f"{h.ip}\t{' '.join(h.hostnames)}\n" for h in hosts)


def write_files(net: Network, paths: NetworkPaths) -> None:
    name = str(net.name)
    atomic_write(paths.dnsmasq(name, "conf"), conf_contents(net, paths))
    atomic_write(paths.dnsmasq(name, "hostsfile"), hostsfile_contents(net))
    atomic_write(paths.dnsmasq(name, "addnhosts"), addnhosts_contents(net))


def start(net: Network, paths: NetworkPaths) -> int:
    """dnsmasq daemonizes; its pid is in its pid file once it is ready."""
    binary = shutil.which(DNSMASQ) or shutil.which(DNSMASQ, path="/usr/sbin:/sbin")
    if binary is None:
        raise InternalError("Cannot find 'dnsmasq' in path: No such file or directory")
    name = str(net.name)
    write_files(net, paths)
    remove(paths.pid(name))
    argv = [binary, f"--conf-file={paths.dnsmasq(name, 'conf')}",
            f"--dhcp-leasefile={paths.dnsmasq(name, 'leases')}"]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise QvirtError(f"Child process ({' '.join(argv)}) unexpected exit status "
                         f"{done.returncode}: {done.stderr.strip()}",
                         code=1)  # VIR_ERR_INTERNAL_ERROR
    deadline = time.monotonic() + PID_WAIT
    while True:
        pid = read_pid(paths.pid(name))
        if pid is not None:
            return pid
        if time.monotonic() > deadline:
            raise InternalError(f"dnsmasq for network '{name}' wrote no pid file")
        time.sleep(0.01)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        return b"dnsmasq" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def reload(net: Network, paths: NetworkPaths) -> None:
    """networkRefreshDhcpDaemon: new hosts files, and SIGHUP makes dnsmasq reread them."""
    write_files(net, paths)
    pid = read_pid(paths.pid(str(net.name)))
    if pid is not None and running(pid):
        os.kill(pid, signal.SIGHUP)


def stop(name: str, paths: NetworkPaths) -> None:
    pid = read_pid(paths.pid(name))
    if pid is not None and running(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + PID_WAIT
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if running(pid):
            os.kill(pid, signal.SIGKILL)
    remove(paths.pid(name))
