"""Compare qvirt's reading of documents with real libvirt's, for development and tests.

    .venv/bin/python -m tests.support.compare [--kind domain] FILE...

prints, for each file, "same" or a unified diff of libvirtd's `dumpxml --inactive` (after
normalizing generated UUIDs and MACs) against qvirt's parse + defaults + format.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.domain import Domain
from qvirt.errors import QvirtError
from tests.support import oracle
from tests.support.facts import qemu_facts
from tests.support.kinds import KINDS


def qvirt_output(kind: str, text: str) -> str:
    """qvirt's answer: the formatted document, or "error: MESSAGE" as virsh would print it."""
    spec = KINDS[kind]
    module = importlib.import_module(spec.module)
    defaults: Callable[[Any], None] | None = (
        getattr(module, spec.defaults, None) if spec.defaults else None)
    try:
        obj = spec.load().from_xml(text)
        if isinstance(obj, Domain):
            apply_domain_defaults(obj, qemu_facts())
        elif defaults is not None:
            defaults(obj)
        return str(obj.to_xml())
    except QvirtError as err:
        return f"error: {err.message}\n"


def libvirt_outputs(kind: str, texts: list[str]) -> list[str]:
    results = oracle.define_and_dump(KINDS[kind].oracle, texts)
    return [str(r["xml"]) if "xml" in r else f"error: {r['error']}\n" for r in results]


def diff(kind: str, text: str, libvirt: str) -> list[str]:
    ours = oracle.normalize(qvirt_output(kind, text))
    theirs = oracle.normalize(libvirt)
    return list(difflib.unified_diff(theirs.splitlines(True), ours.splitlines(True),
                                     "libvirt", "qvirt"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="domain",
                        choices=sorted(k for k, v in KINDS.items() if v.oracle))
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    texts = [f.read_text() for f in args.files]
    differing = 0
    for path, text, libvirt in zip(args.files, texts, libvirt_outputs(args.kind, texts),
                                   strict=True):
        lines = diff(args.kind, text, libvirt)
        print(f"== {path}: {'same' if not lines else 'DIFFERS'}")
        sys.stdout.writelines(lines)
        differing += bool(lines)
    print(f"{len(texts) - differing} same, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
