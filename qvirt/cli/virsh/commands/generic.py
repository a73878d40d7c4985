"""Virsh itself: help, quit/exit, echo, cd, pwd, connect (vsh.c and virsh.c)."""

from __future__ import annotations

import os

from qvirt.cli.virsh import helptext
from qvirt.cli.virsh.control import Control
from qvirt.cli.virsh.grammar import Args, Command, CommandGroup, Flag, Opt, OptType, split_commas

BOOL, STRING, ARGV = OptType.BOOL, OptType.STRING, OptType.ARGV
NOCONNECT = frozenset({Flag.NOCONNECT})

# Characters that make --shell quote a word (cmdEcho).
SHELL_SPECIAL = set("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")
XML_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;"}


def cmd_help(ctl: Control, args: Args) -> bool:
    from qvirt.cli.virsh.registry import GROUPS, find_command, find_group

    name = ctl.opt_str(args, "command")
    if name is None:
        ctl.print(helptext.overview(GROUPS))
        return True
    cmd = find_command(name)
    if cmd is not None:
        ctl.print(helptext.command_help(cmd))
        return True
    group = find_group(name)
    if group is not None:
        ctl.print(helptext.group_help(group))
        return True
    raise ctl.fail(f"command or command group '{name}' doesn't exist")


def cmd_quit(ctl: Control, args: Args) -> bool:
    ctl.interactive = False
    return True


def _shell_quote(word: str) -> str:
    if word and not SHELL_SPECIAL.intersection(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def _xml_escape(word: str) -> str:
    return "".join(XML_ESCAPES.get(c, c) for c in word)


def cmd_echo(ctl: Control, args: Args) -> bool:

    words = args.get("string", [])
    assert isinstance(words, list)
    out = []
    for word in words:
        pieces = split_commas(word) if args.get("split") else [word]
        shown = []
        for piece in pieces:
            if args.get("xml"):
                piece = _xml_escape(piece)
            elif args.get("shell"):
                piece = _shell_quote(piece)
            # Split pieces each end their line.
            shown.append(piece + "\n" if args.get("split") else piece)
        out.append("".join(shown))
    text = " ".join(out)
    if args.get("err"):
        ctl.error(text)
    else:
        ctl.print(text)
    return True


def cmd_cd(ctl: Control, args: Args) -> bool:
    if not ctl.interactive:
        raise ctl.fail("cd: command valid only in interactive mode")
    target = ctl.opt_str(args, "dir")
    if target is None:
        target = os.environ.get("HOME") or "/"
    try:
        os.chdir(target)
    except OSError as err:
        raise ctl.fail(f"cd: {os.strerror(err.errno or 0)}: {target}") from err
    return True


def cmd_pwd(ctl: Control, args: Args) -> bool:
    ctl.print(f"{os.getcwd()}\n")
    return True


def cmd_connect(ctl: Control, args: Args) -> bool:
    uri = ctl.opt_str(args, "name")
    ctl.connect(uri, bool(args.get("readonly")))
    return True


GROUP = CommandGroup("Virsh itself", "virsh", (
    Command("cd", cmd_cd, "change the current directory", "Change the current directory.",
            (Opt("dir", STRING, "directory to switch to (default: home or else root)"),),
            NOCONNECT),
    Command("echo", cmd_echo, "echo arguments. Used for internal testing.",
            "Echo back arguments, possibly with quoting. Used for internal testing.", (
                Opt("shell", BOOL, "escape for shell use"),
                Opt("xml", BOOL, "escape for XML use"),
                Opt("split", BOOL, "split each argument on ','; ',,' is an escape sequence"),
                Opt("err", BOOL, "output to stderr"),
                Opt("string", ARGV, "arguments to echo")), NOCONNECT),
    Command("exit", cmd_quit, "quit this interactive terminal", "", (), NOCONNECT),
    Command("help", cmd_help, "print help",
            "Prints global help, command specific help, or help for a\n"
            "    group of related commands",
            (Opt("command", STRING, "Prints global help, command specific help, or help for "
                 "a group of related commands"),), NOCONNECT),
    Command("pwd", cmd_pwd, "print the current directory", "Print the current directory.",
            (), NOCONNECT),
    Command("quit", cmd_quit, "quit this interactive terminal", "", (), NOCONNECT),
    Command("connect", cmd_connect, "(re)connect to hypervisor",
            "Connect to local hypervisor. This is built-in command after shell start up.", (
                Opt("name", STRING, "hypervisor connection URI"),
                Opt("readonly", BOOL, "read-only connection")), NOCONNECT),
))
