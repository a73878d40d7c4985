"""virsh's help pages, made from the command table (vshCmddefHelp, vshCmdGrpHelp)."""

from __future__ import annotations

from qvirt.cli.virsh.grammar import Command, CommandGroup, OptType


def group_help(group: CommandGroup) -> str:
    lines = [f" {group.name} (help keyword '{group.keyword}'):\n"]
    lines += [f"    {cmd.name:<30} {cmd.help}\n" for cmd in group.commands]
    return "".join(lines)


def overview(groups: tuple[CommandGroup, ...]) -> str:
    return "Grouped commands:\n\n" + "".join(group_help(g) + "\n" for g in groups)


def _synopsis_word(cmd: Command, index: int) -> str:
    opt = cmd.opts[index]
    # An ARGV option can be named with --name when a bare word could fill an earlier option
    # (virsh's 'shortopt').
    shortopt = any(o.positional and o.type is not OptType.ARGV for o in cmd.opts[:index])
    if opt.type is OptType.BOOL:
        return f"[--{opt.name}]"
    if opt.type is OptType.INT:
        return f"<{opt.name}>" if opt.required else f"[--{opt.name} <number>]"
    if opt.type is OptType.STRING:
        return f"[--{opt.name} <string>]"
    if opt.type is OptType.DATA:
        return f"<{opt.name}>" if opt.required else f"[<{opt.name}>]"
    if shortopt:
        return (f"{{[--{opt.name}] <string>}}..." if opt.required
                else f"[[--{opt.name}] <string>]...")
    return f"<{opt.name}>..." if opt.required else f"[<{opt.name}>]..."


def _option_label(cmd: Command, index: int) -> str:
    opt = cmd.opts[index]
    shortopt = any(o.positional and o.type is not OptType.ARGV for o in cmd.opts[:index])
    if opt.type is OptType.BOOL:
        return f"--{opt.name}"
    if opt.type is OptType.INT:
        return f"[--{opt.name}] <number>" if opt.required else f"--{opt.name} <number>"
    if opt.type is OptType.STRING:
        return f"--{opt.name} <string>"
    if opt.type is OptType.DATA:
        return f"[--{opt.name}] <string>"
    return f"[--{opt.name}] <string>" if shortopt else f"<{opt.name}>"


def command_help(cmd: Command) -> str:
    out = ["  NAME\n", f"    {cmd.name} - {cmd.help}\n", "\n  SYNOPSIS\n", f"    {cmd.name}"]
    out += [" " + _synopsis_word(cmd, i) for i in range(len(cmd.opts))]
    out.append("\n")
    if cmd.desc:
        out += ["\n  DESCRIPTION\n", f"    {cmd.desc}\n"]
    if cmd.opts:
        out.append("\n  OPTIONS\n")
        out += [f"    {_option_label(cmd, i):<15}  {cmd.opts[i].help}\n"
                for i in range(len(cmd.opts))]
    out.append("\n")
    return "".join(out)
