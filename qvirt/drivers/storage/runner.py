"""How pool backends run the host's storage tools (parted, mkfs, mount, lvm, iscsiadm, ...):
argv lists only, never a shell. A backend is handed a Runner, so the tools this kernel cannot
serve (device-mapper, the SCSI disk layer, the NFS client) are exercised in tests by a runner
that records each argv and answers with the tool's real output, captured from the tool itself
(tests/data/storage/)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Protocol

from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    status: int
    stdout: str
    stderr: str


class Runner(Protocol):
    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result: ...


def command_failed(result: Result) -> QvirtError:
    """virCommandRun's error for a tool that exited non-zero: its argv and its stderr."""
    detail = result.stderr.strip()
    return QvirtError(f"Child process ({' '.join(result.argv)}) unexpected "
                      f"exit status {result.status}" + (f": {detail}" if detail else ""),
                      code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.NONE)


class HostRunner:
    """The real thing: the tool runs with stdin from ``input`` (or /dev/null)."""

    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result:
        try:
            done = subprocess.run(argv, input=input, capture_output=True, text=True,
                                  stdin=None if input is not None else subprocess.DEVNULL,
                                  check=False)
        except FileNotFoundError as err:
            raise QvirtError(f"Cannot find '{argv[0]}' in path: No such file or directory",
                             code=ErrorNumber.SYSTEM_ERROR, domain=ErrorDomain.NONE) from err
        result = Result(tuple(argv), done.returncode, done.stdout, done.stderr)
        if check and result.status != 0:
            raise command_failed(result)
        return result
