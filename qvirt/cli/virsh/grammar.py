"""virsh's command grammar: commands and options as table rows (vshCmdDef, vshCmdOptDef) and
the one parser that reads a command line against them, for argv and for the interactive shell
alike (vshCommandParse). The error texts are virsh's, since scripts and users match on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qvirt.cli.virsh.control import Control


class OptType(Enum):
    BOOL = auto()      # --flag
    STRING = auto()    # --opt value; also filled by a bare word unless keyword_only
    INT = auto()       # as STRING, the handler converts it
    DATA = auto()      # required; given bare or as --opt value
    ARGV = auto()      # every remaining bare word; always last


@dataclass(frozen=True)
class Opt:
    name: str
    type: OptType
    help: str
    required: bool = False
    # VSH_OFLAG_REQ_OPT: a bare word never fills it, only --name does.
    keyword_only: bool = False
    # VSH_OFLAG_EMPTY_OK: an empty value is not refused.
    empty_ok: bool = False

    @property
    def takes_value(self) -> bool:
        return self.type is not OptType.BOOL

    @property
    def positional(self) -> bool:
        return self.takes_value and not self.keyword_only


ArgValue = str | bool | list[str]
Args = dict[str, ArgValue]
Handler = Callable[["Control", Args], bool]


class Flag(Enum):
    NOCONNECT = auto()   # runs without a connection (help, echo, connect, ...)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str
    desc: str = ""
    opts: tuple[Opt, ...] = ()
    flags: frozenset[Flag] = frozenset()

    def option(self, name: str) -> Opt | None:
        for opt in self.opts:
            if opt.name == name:
                return opt
        return None


@dataclass(frozen=True)
class CommandGroup:
    name: str
    keyword: str
    commands: tuple[Command, ...]


# Shared options, as virsh's VIRSH_COMMON_OPT_* macros share them.
DOMAIN_OPT = Opt("domain", OptType.DATA, "domain name, id or uuid", required=True)


def domain_opt(help: str) -> Opt:
    return Opt("domain", OptType.DATA, help, required=True)


def file_opt(help: str) -> Opt:
    return Opt("file", OptType.DATA, help, required=True)


def check_table(groups: tuple[CommandGroup, ...]) -> list[str]:
    """vshCmddefCheckInternals over every row: what is wrong with the table, if anything."""
    problems = []
    seen: set[str] = set()
    for group in groups:
        for cmd in group.commands:
            if cmd.name in seen:
                problems.append(f"command '{cmd.name}' is listed twice")
            seen.add(cmd.name)
            if not cmd.help:
                problems.append(f"command '{cmd.name}' lacks help")
            names = [o.name for o in cmd.opts]
            if len(set(names)) != len(names):
                problems.append(f"command '{cmd.name}' repeats an option")
            optional_seen = False
            for i, opt in enumerate(cmd.opts):
                if opt.type is OptType.BOOL and (opt.required or opt.keyword_only):
                    problems.append(f"command '{cmd.name}' misused a flag on --{opt.name}")
                if opt.type is OptType.DATA and not opt.required:
                    problems.append(f"command '{cmd.name}' has non-required data {opt.name}")
                if opt.type is OptType.ARGV and i != len(cmd.opts) - 1:
                    problems.append(f"command '{cmd.name}' does not list argv option last")
                if opt.required and optional_seen and opt.positional \
                        and opt.type is not OptType.ARGV:
                    problems.append(f"command '{cmd.name}' lists required {opt.name} late")
                if not opt.required:
                    optional_seen = True
    return problems


# Parsing -------------------------------------------------------------------------------------

class ParseError(Exception):
    """A command line virsh refuses before running anything; the message is virsh's."""


@dataclass
class Invocation:
    command: Command
    args: Args = field(default_factory=dict)


# A token stream yields words, None for a command separator.
Tokens = Iterator[str | None]


def string_tokens(line: str) -> Tokens:
    """vshCommandStringGetArg: shell-like words; ';' and newline end a command, '#' starts a
    comment, quotes and backslashes as in sh (a backslash is literal inside '')."""
    i, n = 0, len(line)
    while True:
        while i < n and (line[i] in " \t" or (line[i] == "\\" and line[i + 1:i + 2] == "\n")):
            i += 1 if line[i] != "\\" else 2
        if i >= n:
            return
        if line[i] in ";\n":
            i += 1
            yield None
            continue
        if line[i] == "#":
            while i < n and line[i] != "\n":
                i += 1
            i += 1
            yield None
            continue
        word: list[str] = []
        single = double = False
        while i < n:
            c = line[i]
            if not single and not double and c in " \t;\n":
                break
            if not double and c == "'":
                single = not single
                i += 1
                continue
            if not single and c == "\\":
                i += 1
                if i >= n:
                    raise ParseError("dangling \\")
                if line[i] == "\n":
                    i += 1
                    continue
            elif not single and c == '"':
                double = not double
                i += 1
                continue
            word.append(line[i])
            i += 1
        if double:
            raise ParseError('missing "')
        yield "".join(word)


def argv_tokens(argv: list[str]) -> Tokens:
    """vshCommandArgvGetArg: each argument is one word; there are no separators."""
    yield from argv


class _Seen:
    """What one command's options have taken so far (opts_seen, opts_need_arg)."""

    def __init__(self, cmd: Command) -> None:
        self.cmd = cmd
        self.seen: set[str] = set()
        self.pending = [o for o in cmd.opts if o.positional]

    def take(self, opt: Opt) -> None:
        self.seen.add(opt.name)
        if opt.type is not OptType.ARGV and opt in self.pending:
            self.pending.remove(opt)

    def next_positional(self) -> Opt | None:
        if not self.pending:
            return None
        opt = self.pending[0]
        self.take(opt)
        return opt


HELP_OPT = Opt("help", OptType.BOOL, "print help for this function")


def parse(tokens: Tokens, find: Callable[[str], Command | None]) -> list[Invocation]:
    """vshCommandParse: every command of the line, or ParseError on the first fault (nothing
    runs then)."""
    result: list[Invocation] = []
    current: Invocation | None = None
    state: _Seen | None = None
    data_only = False
    wants_help = False

    def finish() -> None:
        nonlocal current, state, data_only, wants_help
        if current is not None and state is not None:
            if wants_help:
                helper = find("help")
                assert helper is not None
                current = Invocation(helper, {"command": current.command.name})
            else:
                _check_required(current.command, state)
            result.append(current)
        current, state, data_only, wants_help = None, None, False, False

    for token in tokens:
        if token is None:
            finish()
            continue
        if current is None or state is None:
            cmd = find(token)
            if cmd is None:
                raise ParseError(f"unknown command: '{token}'")
            current, state = Invocation(cmd), _Seen(cmd)
            continue
        cmd = current.command
        is_help = cmd.name == "help"
        if not data_only and token.startswith("--") and token[2:3].isalnum():
            name, eq, value = token[2:].partition("=")
            if name == "help":
                wants_help = True
                continue
            opt = cmd.option(name)
            if opt is None:
                if is_help:
                    continue
                raise ParseError(f"command '{cmd.name}' doesn't support option --{name}")
            if opt.name in state.seen and opt.type is not OptType.ARGV:
                raise ParseError(f"option --{name} already seen")
            state.take(opt)
            if opt.type is OptType.BOOL:
                if eq:
                    raise ParseError(f"invalid '=' after option --{name}")
                current.args[name] = True
                continue
            if not eq:
                nxt = next(tokens, None)
                if nxt is None:
                    kind = "number" if opt.type is OptType.INT else "string"
                    raise ParseError(f"expected syntax: --{name} <{kind}>")
                value = nxt
            _store(current.args, opt, value)
            continue
        if not data_only and token == "--":
            data_only = True
            continue
        opt = state.next_positional()
        if opt is None:
            if is_help:
                continue
            raise ParseError(f"unexpected data '{token}'")
        _store(current.args, opt, token)
    finish()
    return result


def _store(args: Args, opt: Opt, value: str) -> None:
    if opt.type is OptType.ARGV:
        existing = args.setdefault(opt.name, [])
        assert isinstance(existing, list)
        existing.append(value)
    else:
        args[opt.name] = value


def _check_required(cmd: Command, state: _Seen) -> None:
    """vshCommandCheckOpts: every missing required option is reported."""
    missing = [f"command '{cmd.name}' requires <{opt.name}> option"
               if opt.type in (OptType.DATA, OptType.ARGV)
               else f"command '{cmd.name}' requires --{opt.name} option"
               for opt in cmd.opts if opt.required and opt.name not in state.seen]
    if missing:
        raise ParseError(*missing)


def split_commas(text: str) -> list[str]:
    """vshStringToArray: ',' separates, ',,' is a literal comma."""
    parts, current, i = [], [], 0
    while i < len(text):
        if text[i] == ",":
            if text[i + 1:i + 2] == ",":
                current.append(",")
                i += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts
