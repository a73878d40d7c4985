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

# kind -> (module, root class, name of the module's defaults function or "")
KINDS: dict[str, tuple[str, str, str]] = {
    "domain": ("qvirt.conf.domain", "Domain", ""),
    "network": ("qvirt.conf.network", "Network", "apply_defaults"),
    "pool": ("qvirt.conf.storage_pool", "StoragePool", "apply_defaults"),
    "secret": ("qvirt.conf.secret", "Secret", "apply_defaults"),
    "nwfilter": ("qvirt.conf.nwfilter", "NWFilter", "apply_defaults"),
}


def qvirt_output(kind: str, text: str) -> str:
    """qvirt's answer: the formatted document, or "error: MESSAGE" as virsh would print it."""
    module_name, class_name, defaults_name = KINDS[kind]
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    defaults: Callable[[Any], None] | None = (
        getattr(module, defaults_name, None) if defaults_name else None)
    try:
        obj = cls.from_xml(text)
        if isinstance(obj, Domain):
            apply_domain_defaults(obj, qemu_facts())
        elif defaults is not None:
            defaults(obj)
        return str(obj.to_xml())
    except QvirtError as err:
        return f"error: {err.message}\n"


def libvirt_outputs(kind: str, texts: list[str]) -> list[str]:
    results = oracle.define_and_dump(kind, texts)
    return [str(r["xml"]) if "xml" in r else f"error: {r['error']}\n" for r in results]


def diff(kind: str, text: str, libvirt: str) -> list[str]:
    ours = oracle.normalize(qvirt_output(kind, text))
    theirs = oracle.normalize(libvirt)
    return list(difflib.unified_diff(theirs.splitlines(True), ours.splitlines(True),
                                     "libvirt", "qvirt"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="domain", choices=sorted(KINDS))
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
