"""The QEMU command line of a domain, as libvirt 9.0 writes it for QEMU 7.2
(qemuBuildCommandLine): the same options in the same order, -device/-blockdev/-netdev/-object
in JSON, device ids from libvirt's aliases.

``build_command`` takes a domain after apply_domain_defaults, with its live id and every host
path filled in, and returns the whole argv. It assigns missing aliases in place first (as
libvirt does before it builds the command line), so that the caller's runtime state names
devices as QEMU knows them. Each option group is one function in SECTIONS, in output order.
"""

from __future__ import annotations

from collections.abc import Callable

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu import command_devices as devices
from qvirt.drivers.qemu import command_graphics as graphics
from qvirt.drivers.qemu import command_machine as machine
from qvirt.drivers.qemu.command_alias import assign_aliases
from qvirt.drivers.qemu.command_boot import boot_indexes
from qvirt.drivers.qemu.command_chardev import (
    channel_args,
    console_args,
    parallel_args,
    serial_args,
)
from qvirt.drivers.qemu.command_context import Context, RunPaths, Section
from qvirt.drivers.qemu.command_cpu import cpu
from qvirt.drivers.qemu.command_disk import disk_args, disk_layers, pr_helper
from qvirt.drivers.qemu.command_net import interface_args

__all__ = ["RunPaths", "build_command", "command_env"]


def _disks(ctx: Context) -> list[str]:
    argv: list[str] = []
    chains = disk_layers(ctx.dom)
    for pos, disk in enumerate(ctx.dom.devices.disks):
        argv += disk_args(ctx.dom, disk, chains[pos], ctx.bootindex(disk))
    return argv


def _pr_helper(ctx: Context) -> list[str]:
    return pr_helper(ctx.dom, str(ctx.paths.domain_dir))


def _interfaces(ctx: Context) -> list[str]:
    argv: list[str] = []
    for net in ctx.dom.devices.interfaces:
        argv += interface_args(ctx.dom, net, ctx.bootindex(net),
                               ctx.paths.net_fds.get(str(net.mac)))
    return argv


def _each(builder: Callable[..., list[str]], field: str) -> Section:
    def section(ctx: Context) -> list[str]:
        argv: list[str] = []
        for dev in getattr(ctx.dom.devices, field):
            argv += builder(ctx.dom, dev)
        return argv
    return section


def _commandline(ctx: Context) -> list[str]:
    """<qemu:commandline>: the user's own arguments, last, verbatim."""
    extra = ctx.dom.qemu_commandline
    return [str(arg.value) for arg in extra.args] if extra is not None else []


# libvirt's option groups, in the order qemuBuildCommandLine writes them.
SECTIONS: tuple[Section, ...] = (
    machine.name,
    machine.compat,
    machine.paused,
    _pr_helper,
    machine.pflash,
    machine.machine,
    machine.accel,
    machine.tseg,
    cpu,
    machine.bios,
    machine.memory,
    machine.smp,
    machine.iothreads,
    machine.numa,
    machine.uuid,
    machine.smbios,
    machine.fw_cfg,
    machine.vmgenid,
    graphics.nographic,
    machine.defaults,
    machine.monitor,
    machine.clock,
    machine.lifecycle,
    machine.pm,
    machine.boot,
    machine.kernel,
    devices.iommu,
    devices.controllers,
    devices.memory_devices,
    devices.hubs,
    _disks,
    devices.filesystems,
    _interfaces,
    devices.smartcards,
    _each(serial_args, "serials"),
    _each(parallel_args, "parallels"),
    _each(channel_args, "channels"),
    _each(console_args, "consoles"),
    devices.tpms,
    devices.inputs,
    graphics.audio,
    graphics.graphics,
    devices.videos,
    devices.sounds,
    devices.watchdogs,
    devices.redirdevs,
    devices.hostdevs,
    devices.memballoon,
    devices.rngs,
    devices.vmcoreinfo,
    _commandline,
    machine.sandbox,
    devices.panics,
    devices.shmems,
    devices.vsock,
    machine.msg,
)


def build_command(dom: Domain, paths: RunPaths, facts: GuestFacts) -> list[str]:
    """The full argv, argv[0] the emulator (the domain's, else the host's default one)."""
    assign_aliases(dom)
    ctx = Context(dom, paths, facts, boot_indexes(dom))
    argv = [str(dom.devices.emulator or facts.emulator)]
    for section in SECTIONS:
        argv += section(ctx)
    return argv


def command_env(dom: Domain) -> dict[str, str]:
    """Environment variables QEMU needs beyond the caller's own: an SDL window's X display,
    and <qemu:commandline>'s <qemu:env> entries (which win, as they come last in libvirt)."""
    env = graphics.graphics_env(dom)
    extra = dom.qemu_commandline
    if extra is not None:
        env.update({str(e.name): str(e.value or "") for e in extra.envs})
    return env
