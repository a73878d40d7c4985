"""libvirt's configuration file syntax (src/util/virconf.c), the syntax of libvirtd.conf and
so of qvirtd.conf: ``name = value`` statements separated by newlines or ``;``, values that are
integers, strings in single, double or triple double quotes, or lists ``[ v, v ]``, and
``#`` comments.

The parser follows virconf.c step by step, because its error texts name the line where it
stopped ("configuration file syntax error: FILE:3: expecting a value") and a user comparing
with libvirt sees the same line. As in libvirt, the first of two same-named entries wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError


class ConfType(Enum):
    """virConfType: a number is LLONG only when written with a minus sign."""

    LLONG = "long"
    ULLONG = "unsigned long"
    STRING = "string"
    LIST = "list"


@dataclass(frozen=True)
class ConfValue:
    type: ConfType
    value: int | str | tuple[ConfValue, ...]


def syntax_error(filename: str, line: int, info: str) -> QvirtError:
    return QvirtError(f"{filename}:{line}: {info}", code=ErrorNumber.CONF_SYNTAX,
                      domain=ErrorDomain.CONF)


_BLANK = " \t"
_EOL = "\n\r"
_TRIPLE = '"""'


class _Parser:
    """virConfParserCtxt: a cursor over the text and the line it is on."""

    def __init__(self, text: str, filename: str) -> None:
        self.text, self.filename = text, filename
        self.pos, self.line = 0, 1
        self.entries: dict[str, ConfValue] = {}

    @property
    def cur(self) -> str:
        # The C parser reads the buffer's terminating NUL at the end.
        return self.text[self.pos] if self.pos < len(self.text) else "\0"

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def error(self, info: str) -> QvirtError:
        return syntax_error(self.filename, self.line, info)

    def skip_blanks(self) -> None:
        while not self.at_end() and self.cur in _BLANK:
            self.pos += 1

    def skip_blanks_and_eol(self) -> None:
        while not self.at_end() and (self.cur in _BLANK or self.cur in _EOL):
            if self.cur == "\n":
                self.line += 1
            self.pos += 1

    def skip_to_eol(self) -> None:
        while not self.at_end() and self.cur not in _EOL:
            self.pos += 1

    def parse(self) -> dict[str, ConfValue]:
        while not self.at_end():
            self.statement()
            self.separator()
        return self.entries

    def statement(self) -> None:
        self.skip_blanks_and_eol()
        if self.cur == "#":
            self.skip_to_eol()
            return
        name = self.name()
        self.skip_blanks()
        if self.cur != "=":
            raise self.error("expecting an assignment")
        self.pos += 1
        self.skip_blanks()
        value = self.value()
        self.skip_blanks()
        if self.cur == "#":
            self.skip_to_eol()
        self.entries.setdefault(name, value)

    def separator(self) -> None:
        self.skip_blanks()
        if self.at_end():
            return
        if self.cur in _EOL:
            self.skip_blanks_and_eol()
        elif self.cur == ";":
            self.pos += 1
            self.skip_blanks_and_eol()
        else:
            raise self.error("expecting a separator")

    def name(self) -> str:
        self.skip_blanks()
        start = self.pos
        if not (self.cur.isascii() and self.cur.isalpha()):
            raise self.error("expecting a name")
        while not self.at_end() and self.cur.isascii() and (self.cur.isalnum() or self.cur == "_"):
            self.pos += 1
        return self.text[start:self.pos]

    def value(self) -> ConfValue:
        self.skip_blanks()
        if self.at_end():
            raise self.error("expecting a value")
        if self.cur in "\"'":
            return ConfValue(ConfType.STRING, self.string())
        if self.cur == "[":
            return ConfValue(ConfType.LIST, self.list())
        if (self.cur.isascii() and self.cur.isdigit()) or self.cur in "+-":
            kind = ConfType.LLONG if self.cur == "-" else ConfType.ULLONG
            return ConfValue(kind, self.number())
        raise self.error("expecting a value")

    def number(self) -> int:
        sign = -1 if self.cur == "-" else 1
        if self.cur in "+-":
            self.pos += 1
        start = self.pos
        while not self.at_end() and self.cur.isascii() and self.cur.isdigit():
            self.pos += 1
        if start == self.pos:
            raise self.error("unterminated number")
        return sign * int(self.text[start:self.pos])

    def string(self) -> str:
        if self.cur == '"' and self.pos + 6 < len(self.text) and self.text.startswith(
                _TRIPLE, self.pos):
            start = self.pos + 3
            end = self.text.find(_TRIPLE, start)
            if end < 0:
                # virconf.c stops looking two characters before the end.
                self.line += self.text.count("\n", start, len(self.text) - 2)
                raise self.error("unterminated string")
            self.line += self.text.count("\n", start, end)
            self.pos = end + 3
            return self.text[start:end]
        quote = self.cur
        self.pos += 1
        start = self.pos
        while not self.at_end() and self.cur != quote and self.cur not in _EOL:
            self.pos += 1
        if self.cur != quote:
            raise self.error("unterminated string")
        self.pos += 1
        return self.text[start:self.pos - 1]

    def list(self) -> tuple[ConfValue, ...]:
        self.pos += 1
        self.skip_blanks_and_eol()
        items: list[ConfValue] = []
        if not self.at_end() and self.cur != "]":
            items.append(self.value())
            self.skip_blanks_and_eol()
        while not self.at_end() and self.cur != "]":
            if self.cur != ",":
                raise self.error("expecting a separator in list")
            self.pos += 1
            self.skip_blanks_and_eol()
            if self.cur == "]":
                break
            items.append(self.value())
            self.skip_blanks_and_eol()
        if self.cur != "]":
            raise self.error("list is not closed with ]")
        self.pos += 1
        return tuple(items)


def parse_conf(text: str, filename: str) -> dict[str, ConfValue]:
    """The entries of one file's text, by name; ``filename`` is only for error texts."""
    return _Parser(text, filename).parse()


def read_conf(path: Path) -> dict[str, ConfValue]:
    """virConfReadFile: the file's entries, or libvirt's error for a file it cannot read."""
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise system_error(f"Failed to read file '{path}'", err) from err
    except OSError as err:
        raise system_error(f"Failed to open file '{path}'", err) from err
    return parse_conf(data.decode("utf-8", "surrogateescape"), str(path))


def system_error(what: str, err: OSError) -> QvirtError:
    """virReportSystemError: the text and the strerror of errno."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    return QvirtError(f"{what}: {reason}", code=ErrorNumber.SYSTEM_ERROR)
