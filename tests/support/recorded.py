"""A Runner that plays back what host tools really printed: backends whose tools this kernel
cannot serve (device-mapper, the kernel iSCSI initiator, the SCSI disk layer) are tested by
asserting the exact argv sequence they run and answering each command with the tool's output
captured from the tool itself (tests/data/storage/*.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qvirt.drivers.storage.runner import Result, command_failed

DATA = Path(__file__).resolve().parent.parent / "data" / "storage"


@dataclass(frozen=True)
class Step:
    """One expected command and the answer it gets."""

    argv: tuple[str, ...]
    stdout: str = ""
    stderr: str = ""
    status: int = 0
    input: str | None = None
    # What the real command would leave behind (a device node udev would make), done when
    # the command is answered.
    effect: Callable[[], None] | None = None


def load(name: str) -> dict[str, Any]:
    """A capture file: {"source": how it was captured, "outputs": {key: {stdout, stderr,
    status}}}; tests name the outputs they replay by key."""
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def replay(capture: dict[str, Any], **subst: str) -> Step:
    """A captured command with its answer; ``subst`` fills in the placeholders ({DEVICE})
    the capture was normalized with, in the argv and the output alike."""
    def fill(text: str) -> str:
        for name, value in subst.items():
            text = text.replace("{" + name + "}", value)
        return text

    return Step(tuple(fill(a) for a in capture["argv"]), fill(str(capture.get("stdout", ""))),
                fill(str(capture.get("stderr", ""))), int(capture.get("status", 0)))


class UnexpectedCommand(AssertionError):
    """A backend ran something the test did not expect: never answered, always loud."""


class RecordedRunner:
    """Answers the expected commands in order; anything else fails the test at once."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.ran: list[tuple[str, ...]] = []

    def run(self, argv: list[str], *, input: str | None = None,
            check: bool = True) -> Result:
        got = tuple(argv)
        if not self.steps:
            raise UnexpectedCommand(f"unexpected command {list(got)}; ran {self.ran}")
        want = self.steps.pop(0)
        if got != want.argv:
            raise UnexpectedCommand(f"expected {list(want.argv)}, got {list(got)}; "
                                    f"ran {self.ran}")
        if want.input is not None and input != want.input:
            raise UnexpectedCommand(f"{list(got)}: expected input {want.input!r}, "
                                    f"got {input!r}")
        self.ran.append(got)
        if want.effect is not None:
            want.effect()
        result = Result(got, want.status, want.stdout, want.stderr)
        if check and result.status != 0:
            raise command_failed(result)
        return result

    def assert_done(self) -> None:
        if self.steps:
            raise AssertionError(f"commands never run: {[list(s.argv) for s in self.steps]}")


def said(message: str) -> str:
    """A failed command's message as libvirt's reads, compared with blanks collapsed (libvirt
    keeps the tool's output as it was; runner.command_failed strips it) and the prefix once
    (command_failed on main still writes "internal error: " into its detail too)."""
    text = " ".join(message.split())
    return text.replace("internal error: internal error: ", "internal error: ")
