"""The qvirt command: virsh's global options, then one command line (several words, or one
string holding ';'-separated commands) or, with none, the interactive shell (virsh.c main,
virshParseArgv, vshCommandRun)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from qvirt.cli.virsh import helptext, registry
from qvirt.cli.virsh.commands.host import dotted
from qvirt.cli.virsh.control import Abort, Control, strtol
from qvirt.cli.virsh.grammar import (
    Flag,
    Invocation,
    ParseError,
    argv_tokens,
    parse,
    string_tokens,
)
from qvirt.client.api import LIB_VERSION
from qvirt.errors import QvirtError

EXIT_SUCCESS, EXIT_FAILURE = 0, 1


@dataclass(frozen=True)
class GlobalOpt:
    """One of virsh's getopt_long options: short letter, long name, argument (no, yes,
    optional)."""

    short: str
    long: str
    arg: str


GLOBAL_OPTS = (
    GlobalOpt("c", "connect", "yes"), GlobalOpt("d", "debug", "yes"),
    GlobalOpt("e", "escape", "yes"), GlobalOpt("h", "help", "no"),
    GlobalOpt("k", "keepalive-interval", "yes"), GlobalOpt("K", "keepalive-count", "yes"),
    GlobalOpt("l", "log", "yes"), GlobalOpt("q", "quiet", "no"),
    GlobalOpt("r", "readonly", "no"), GlobalOpt("t", "timing", "no"),
    GlobalOpt("v", "version", "optional"), GlobalOpt("V", "", "no"),
)

USAGE_HEAD = """
{prog} [options]... [<command_string>]
{prog} [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -d | --debug=NUM        debug level [0-4]
    -e | --escape <char>    set escape sequence for console
    -h | --help             this help
    -k | --keepalive-interval=NUM
                            keepalive interval in seconds, 0 for disable
    -K | --keepalive-count=NUM
                            number of possible missed keepalive messages
    -l | --log=FILE         output logging to file
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -t | --timing           print timing information
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)
  commands (non interactive mode):

"""
USAGE_TAIL = """\
  (specify help <group> for details about the commands in the group)

  (specify help <command> for details about the command)

"""
LONG_VERSION = """\
Virsh command line tool of libvirt {version}
See web site at https://libvirt.org/

Compiled with support for:
 Hypervisors: QEMU/KVM Test
 Networking: Remote
 Storage:
 Miscellaneous: Daemon
"""


class Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _version() -> str:
    return dotted(LIB_VERSION)


def _usage(prog: str) -> str:
    parts = [USAGE_HEAD.format(prog=prog)]
    for group in registry.GROUPS:
        parts.append(helptext.group_help(group).replace("):\n", ")\n", 1) + "\n")
    parts.append(USAGE_TAIL)
    return "".join(parts)


def _find_long(name: str) -> GlobalOpt | None:
    """getopt_long: an exact long name, or an unambiguous prefix of one."""
    exact = [o for o in GLOBAL_OPTS if o.long and o.long == name]
    if exact:
        return exact[0]
    prefixed = [o for o in GLOBAL_OPTS if o.long and o.long.startswith(name)]
    return prefixed[0] if len(prefixed) == 1 else None


def parse_globals(ctl: Control, argv: list[str], prog: str) -> int:
    """virshParseArgv's option loop; the index of the first command word."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return i + 1
        if not word.startswith("-") or word == "-":
            return i
        i += 1
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            opt = _find_long(name)
            if opt is None:
                ctl.error(f"unsupported option '{word}'. See --help.")
                raise Exit(EXIT_FAILURE)
            arg: str | None = value if eq else None
            if opt.arg == "yes" and arg is None:
                if i >= len(argv):
                    ctl.error(f"option '-{opt.short}'/'--{opt.long}' requires an argument")
                    raise Exit(EXIT_FAILURE)
                arg = argv[i]
                i += 1
            _apply(ctl, opt, arg, f"--{opt.long}", prog)
            continue
        j = 1
        while j < len(word):
            letter = word[j]
            j += 1
            matches = [o for o in GLOBAL_OPTS if o.short == letter]
            if not matches:
                ctl.error(f"unsupported option '-{letter}'. See --help.")
                raise Exit(EXIT_FAILURE)
            opt = matches[0]
            arg = None
            if opt.arg == "yes":
                if j < len(word):
                    arg, j = word[j:], len(word)
                elif i < len(argv):
                    arg = argv[i]
                    i += 1
                else:
                    ctl.error(f"option '-{opt.short}'/'--{opt.long}' requires an argument")
                    raise Exit(EXIT_FAILURE)
            _apply(ctl, opt, arg, f"-{opt.short}", prog)
    return i


def _apply(ctl: Control, opt: GlobalOpt, arg: str | None, spelled: str, prog: str) -> None:
    letter = opt.short
    if letter == "c":
        ctl.uri = arg
    elif letter == "d":
        assert arg is not None
        level = strtol(arg)
        if level is None:
            ctl.error(f"option {spelled} takes a numeric argument")
            raise Exit(EXIT_FAILURE)
        if not 0 <= level <= 4:
            ctl.error(f"ignoring debug level {level} out of range [0-4]")
        else:
            ctl.debug = level
    elif letter == "e":
        assert arg is not None
        if (len(arg) == 2 and arg[0] == "^" and _escape_allowed(arg[1])) or \
                (len(arg) == 1 and arg != "^"):
            ctl.escape = arg
        else:
            ctl.error(f"Invalid string '{arg}' for escape sequence")
            raise Exit(EXIT_FAILURE)
    elif letter == "h":
        ctl.print(_usage(prog))
        raise Exit(EXIT_SUCCESS)
    elif letter in "kK":
        assert arg is not None
        number = _strtol_any_base(arg)
        if number is None:
            ctl.error(f"Invalid value for option {spelled}")
            raise Exit(EXIT_FAILURE)
        if number < 0:
            ctl.error(f"option {spelled} requires a positive integer argument")
            raise Exit(EXIT_FAILURE)
        if letter == "k":
            ctl.keepalive_interval = number
        else:
            ctl.keepalive_count = number
    elif letter == "l":
        pass   # qvirt logs through the logging module; the file name is accepted
    elif letter == "q":
        ctl.quiet = True
    elif letter == "r":
        ctl.readonly = True
    elif letter == "t":
        ctl.timing = True
    elif letter == "v" and arg != "long":
        ctl.print(_version() + "\n")
        raise Exit(EXIT_SUCCESS)
    else:   # -V, --version=long
        ctl.print(LONG_VERSION.format(version=_version()))
        raise Exit(EXIT_SUCCESS)


def _escape_allowed(c: str) -> bool:
    """vshAllowedEscapeChar: '^' followed by a character of @, A-Z, [, \\, ], ^, _."""
    return ("A" <= c <= "Z") or c in "@[\\]^_" or ("a" <= c <= "z")


def _strtol_any_base(text: str) -> int | None:
    """virStrToLong_i with base 0: 0x for hex, a leading 0 for octal, else decimal."""
    body = text.lstrip(" \t\n\v\f\r")
    sign = -1 if body[:1] == "-" else 1
    body = body[1:] if body[:1] in "+-" else body
    base = 16 if body[:2].lower() == "0x" else 8 if body[:1] == "0" and len(body) > 1 else 10
    digits = body[2:] if base == 16 else body
    try:
        number = int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        return None
    if number is None or not -(2**31) <= sign * number < 2**31:
        return None
    return sign * number


def run_commands(ctl: Control, invocations: list[Invocation]) -> bool:
    """vshCommandRun: each command in turn, whatever the last one did; the result is the last
    command's."""
    ok = True
    for inv in invocations:
        before = time.monotonic()
        ok = run_one(ctl, inv)
        after = time.monotonic()
        if not ok:
            ctl.report_error()
        if inv.command.name in ("quit", "exit"):
            return ok
        if ctl.timing:
            ctl.print(f"\n(Time: {(after - before) * 1000:.3f} ms)\n\n")
        else:
            ctl.print_extra("\n")
    return ok


def run_one(ctl: Control, inv: Invocation) -> bool:
    try:
        if Flag.NOCONNECT not in inv.command.flags and ctl.conn is None:
            ctl.connect(ctl.uri, ctl.readonly)
        return inv.command.handler(ctl, inv.args)
    except Abort:
        return False
    except QvirtError as err:
        ctl.last_error = err
        return False


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None, stdin: TextIO | None = None) -> int:
    """Run qvirt; the exit status. With streams given it runs in-process (tests)."""
    if stdout is None:
        # A closed pipe ends qvirt silently, as it ends virsh (the default SIGPIPE action).
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = list(sys.argv[1:] if argv is None else argv)
    prog = os.path.basename(sys.argv[0]) if argv is None else "qvirt"
    ctl = Control(out=stdout or sys.stdout, err=stderr or sys.stderr)
    ctl.uri = os.environ.get("VIRSH_DEFAULT_CONNECT_URI") or None
    try:
        return _run(ctl, args, prog, stdin or sys.stdin)
    except Exit as done:
        return done.status
    finally:
        ctl.disconnect()
        ctl.out.flush()


def _run(ctl: Control, args: list[str], prog: str, stdin: TextIO) -> int:
    first = parse_globals(ctl, args, prog)
    words = args[first:]
    invocations: list[Invocation] = []
    if words:
        tokens = string_tokens(words[0]) if len(words) == 1 else argv_tokens(words)
        try:
            invocations = parse(tokens, registry.find_command)
        except ParseError as err:
            for message in err.args:
                ctl.error(message)
            return EXIT_FAILURE
    if ctl.uri is not None:
        try:
            ctl.connect(ctl.uri, ctl.readonly)
        except Abort:
            ctl.report_error()
            return EXIT_FAILURE
    if words:
        return EXIT_SUCCESS if run_commands(ctl, invocations) else EXIT_FAILURE
    from qvirt.cli.virsh.shell import interactive

    interactive(ctl, prog, stdin)
    return EXIT_SUCCESS


if __name__ == "__main__":
    sys.exit(main())
