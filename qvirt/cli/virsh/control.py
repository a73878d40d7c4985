"""The state one virsh session carries (vshControl and virshControl): the connection, the
global options, the output streams, and the last libvirt error, which virsh prints after the
command's own message when a command fails (vshReportError)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TextIO

import qvirt
from qvirt.cli.virsh.grammar import Args
from qvirt.errors import QvirtError


class Abort(Exception):
    """A command gives up: its messages are printed, it returns false."""


# How a domain argument may be resolved (virshLookupDomainBy's VIRSH_BYID/BYUUID/BYNAME).
BY_ID, BY_UUID, BY_NAME = 1, 2, 4
BY_ANY = BY_ID | BY_UUID | BY_NAME

UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1


@dataclass
class Control:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    uri: str | None = None
    readonly: bool = False
    quiet: bool = False
    timing: bool = False
    debug: int = -1
    escape: str = "^]"
    keepalive_interval: int = -1
    keepalive_count: int = -1
    interactive: bool = False
    conn: qvirt.virConnect | None = None
    last_error: QvirtError | None = None
    # The connection could not be opened: commands needing one are refused.
    use_default_uri: bool = True

    # Output ---------------------------------------------------------------------------------

    def print(self, text: str) -> None:
        """vshPrint: no newline of its own."""
        self.out.write(text)

    def print_extra(self, text: str) -> None:
        """vshPrintExtra: what --quiet silences."""
        if not self.quiet:
            self.out.write(text)

    def error(self, message: str) -> None:
        """vshError."""
        self.out.flush()
        self.err.write(f"error: {message}\n")
        self.err.flush()

    def report_error(self) -> None:
        """vshReportError: the saved libvirt error, once."""
        if self.last_error is not None:
            self.error(self.last_error.message)
        self.last_error = None

    @contextmanager
    def failing(self, message: str | None) -> Iterator[None]:
        """Run libvirt calls; on an error keep it, print the command's own message (if any)
        and abort the command, as a handler's `vshError(...); return false` does."""
        try:
            yield
        except QvirtError as err:
            self.last_error = err
            if message is not None:
                self.error(message)
            raise Abort from err

    def fail(self, message: str) -> Abort:
        self.error(message)
        return Abort()

    # Connection -----------------------------------------------------------------------------

    def connect(self, uri: str | None, readonly: bool) -> None:
        """virshReconnect/virshConnect: the old connection is closed first."""
        self.disconnect()
        open_ = qvirt.openReadOnly if readonly else qvirt.open
        with self.failing("failed to connect to the hypervisor"):
            self.conn = open_(uri)
        self.uri = uri
        self.readonly = readonly
        if self.keepalive_interval >= 0 or self.keepalive_count >= 0:
            # Keepalive asked for on the command line must work, or there is no connection.
            interval = self.keepalive_interval if self.keepalive_interval >= 0 else 5
            count = self.keepalive_count if self.keepalive_count >= 0 else 6
            with self.failing("failed to connect to the hypervisor"):
                try:
                    self.conn.setKeepAlive(interval, count)
                except QvirtError:
                    self.error("Cannot setup keepalive on connection as requested, "
                               "disconnecting")
                    self.disconnect()
                    raise

    def disconnect(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            with suppress(QvirtError):
                conn.close()

    def connection(self) -> qvirt.virConnect:
        if self.conn is None:
            raise self.fail("no valid connection")
        return self.conn

    # Options --------------------------------------------------------------------------------

    def opt_str(self, args: Args, name: str, empty_ok: bool = False) -> str | None:
        """vshCommandOptStringReq."""
        value = args.get(name)
        if value is None:
            return None
        assert isinstance(value, str)
        if not value and not empty_ok:
            raise self.fail(f"Failed to get option '{name}': Option argument is empty")
        return value

    def opt_req(self, args: Args, name: str) -> str:
        value = self.opt_str(args, name)
        assert value is not None, f"option {name} is required by the table"
        return value

    def opt_int(self, args: Args, name: str, lo: int = -INT_MAX - 1,
                hi: int = INT_MAX) -> int | None:
        """vshCommandOptInt and its unsigned siblings: base 10, whole string, in range."""
        value = args.get(name)
        if value is None:
            return None
        assert isinstance(value, str)
        number = strtol(value)
        if number is None or not lo <= number <= hi:
            raise self.fail(
                f"Numeric value '{value}' for <{name}> option is malformed or out of range")
        return number

    def exclusive(self, args: Args, first: str, second: str) -> None:
        """VSH_EXCLUSIVE_OPTIONS."""
        if args.get(first) and args.get(second):
            raise self.fail(f"Options --{first} and --{second} are mutually exclusive")

    # Look-up --------------------------------------------------------------------------------

    def lookup_domain(self, args: Args, name: str = "domain",
                      by: int = BY_ANY) -> qvirt.virDomain:
        """virshCommandOptDomainBy: an id, then a UUID, then a name; any libvirt error of the
        attempts is dropped, virsh says only that it failed."""
        text = self.opt_req(args, name)
        return self.domain_by(text, by)

    def domain_by(self, text: str, by: int = BY_ANY) -> qvirt.virDomain:
        conn = self.connection()
        dom: qvirt.virDomain | None = None
        if by & BY_ID:
            number = strtol(text)
            if number is not None and 0 <= number <= INT_MAX:
                dom = self._quiet(lambda: conn.lookupByID(number))
        if dom is None and by & BY_UUID and len(text) == 36:
            dom = self._quiet(lambda: conn.lookupByUUIDString(text))
        if dom is None and by & BY_NAME:
            dom = self._quiet(lambda: conn.lookupByName(text))
        self.last_error = None
        if dom is None:
            raise self.fail(f"failed to get domain '{text}'")
        return dom

    @staticmethod
    def _quiet(call: object) -> qvirt.virDomain | None:
        assert callable(call)
        try:
            result = call()
        except QvirtError:
            return None
        assert isinstance(result, qvirt.virDomain)
        return result

    # Files ----------------------------------------------------------------------------------

    def read_file(self, path: str) -> str:
        """virFileReadAll as virsh reads XML files: its errors are libvirt's, printed alone."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as err:
            raise self.fail(f"Failed to open file '{path}': {os.strerror(err.errno or 0)}") \
                from err
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
        except OSError as err:
            raise self.fail(f"Failed to read file '{path}': {os.strerror(err.errno or 0)}") \
                from err
        finally:
            os.close(fd)
        return b"".join(chunks).decode("utf-8", errors="surrogateescape")


def strtol(text: str) -> int | None:
    """virStrToLong_*: optional leading blanks and sign, digits, nothing after."""
    stripped = text.lstrip(" \t\n\v\f\r")
    body = stripped[1:] if stripped[:1] in "+-" else stripped
    if not body.isdigit() or not body.isascii():
        return None
    return int(stripped)
