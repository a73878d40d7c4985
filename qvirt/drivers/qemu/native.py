"""virConnectDomainXMLToNative for QEMU (qemuConnectDomainXMLToNative): the command line a
domain would start with, printed as virCommandToString prints it, the environment first.

libvirt builds it for a domain that never runs (id -1), so the per-domain directory, the
monitor socket and the channel sockets are where a domain with that id would have them.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.defaults.addresses import PCIAssigner, machine_of
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.devices.interface import Interface
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command import RunPaths, build_command, command_env
from qvirt.drivers.qemu.domain_setup import place_channel_sockets
from qvirt.errors import ErrorDomain, InvalidArg

# The one format QEMU's driver converts to (QEMU_CONFIG_FORMAT_ARGV).
ARGV_FORMAT = "qemu-argv"
# The id of a domain built only to be printed.
PRETEND_ID = -1
# virCommandAddEnvPassCommon: what QEMU inherits from the daemon, when the daemon has it.
_PASSED = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PATH")


def check_format(native_format: str) -> None:
    if native_format != ARGV_FORMAT:
        raise InvalidArg(f"unsupported config type {native_format}", domain=ErrorDomain.QEMU)


def native_env(home: Path, dom: Domain) -> dict[str, str]:
    """virCommandAddEnvPassCommon, then virCommandAddEnvXDG on the domain's directory, then
    what the domain itself asks for (an SDL display, <qemu:env>)."""
    env = {"LC_ALL": "C"}
    env.update({k: os.environ[k] for k in _PASSED if k in os.environ})
    env.update({"HOME": str(home), "XDG_DATA_HOME": f"{home}/.local/share",
                "XDG_CACHE_HOME": f"{home}/.cache", "XDG_CONFIG_HOME": f"{home}/.config"})
    env.update(command_env(dom))
    return env


def as_taps(dom: Domain, facts: GuestFacts) -> None:
    """What qemuConnectDomainXMLToNative does to NICs: libvirt cannot make a network's tap or
    macvtap for a command line it only prints, so every NIC but a hostdev one becomes an
    unmanaged "ethernet" keeping only its model, MAC and script, and gets its PCI address
    anew after every other device. (libvirt keeps the boot order in the definition, but no
    bootindex reaches this command line: it is dropped here too.)"""
    nets = dom.devices.interfaces
    for pos, net in enumerate(nets):
        if net.type == "hostdev":
            continue
        nets[pos] = Interface(type="ethernet", mac=net.mac, model=net.model,
                              script=net.script, target_managed=False)
    PCIAssigner(dom.devices, "q35" in machine_of(dom, facts)).run()


def xml_to_argv(xml: str, facts: GuestFacts, home_of: Callable[[str], Path],
                prepare: Callable[[Domain], object] | None = None) -> str:
    """The command line of ``xml`` as one shell line; ``home_of`` names the directory of a
    domain of that name, ``prepare`` does what the driver does to a domain it starts (its
    volume disks become files)."""
    dom = Domain.from_xml(xml)
    apply_domain_defaults(dom, facts)
    if prepare is not None:
        prepare(dom)
    as_taps(dom, facts)
    home = home_of(str(dom.name))
    place_channel_sockets(dom, home)
    argv = build_command(dom, RunPaths(home, home / "monitor.sock"), facts)
    env = native_env(home, dom)
    words = [f"{k}={shlex.quote(v)}" for k, v in env.items()] + [shlex.quote(a) for a in argv]
    return " ".join(words)
