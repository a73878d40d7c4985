"""The command groups in virsh's order, and the look-ups over them (vshCmddefSearch,
vshCmdGrpSearch). Groups are listed here, not registered by import side effects."""

from __future__ import annotations

from qvirt.cli.virsh.commands import domain, generic, host, monitor, network, pool, volume
from qvirt.cli.virsh.grammar import Command, CommandGroup

GROUPS: tuple[CommandGroup, ...] = (domain.GROUP, monitor.GROUP, host.GROUP, network.GROUP,
                                    pool.GROUP, volume.GROUP, generic.GROUP)

_COMMANDS: dict[str, Command] = {c.name: c for g in GROUPS for c in g.commands}


def find_command(name: str) -> Command | None:
    return _COMMANDS.get(name)


def find_group(name: str) -> CommandGroup | None:
    for group in GROUPS:
        if name in (group.name, group.keyword):
            return group
    return None


def all_commands() -> list[Command]:
    return list(_COMMANDS.values())
