"""Run one command line through real virsh (a subprocess) and through qvirt (in-process, as
main(argv) with captured streams), and put both results in one comparable form."""

from __future__ import annotations

import io
import os
import re
import subprocess
from dataclasses import dataclass

from qvirt.cli.virsh.main import main

URI = "test:///default"


@dataclass(frozen=True)
class Result:
    stdout: str
    stderr: str
    status: int


# What differs between two runs of the same program, normalized on both sides: the test
# driver's CPU time is the wall clock, and --timing measures.
_VOLATILE = (
    (re.compile(r"(?m)^(CPU time:\s+)\d+\.\d+s$"), r"\1N.Ns"),
    (re.compile(r"\(Time: \d+\.\d+ ms\)"), "(Time: N ms)"),
)


def normalize(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI")}
    env["LC_ALL"] = "C"
    return env


def run_virsh(args: list[str], stdin: str = "", cwd: str | None = None) -> Result:
    proc = subprocess.run(["virsh", *args], input=stdin, capture_output=True, text=True,
                          env=_env(), cwd=cwd, check=False, timeout=60)
    return Result(normalize(proc.stdout), normalize(proc.stderr), proc.returncode)


def run_qvirt(args: list[str], stdin: str = "") -> Result:
    out, err = io.StringIO(), io.StringIO()
    status = main(args, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return Result(normalize(out.getvalue()), normalize(err.getvalue()), status)
