"""qvirt-builder: the command line of qvirt.builder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qvirt.builder import TEMPLATES, BuilderError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="qvirt-builder",
        description="Build a bootable guest from Debian packages.",
    )
    parser.add_argument("template", help=f"what to build ({', '.join(TEMPLATES)})")
    parser.add_argument("--output", "-o", required=True, type=Path, help="directory to write")
    parser.add_argument("--cache", type=Path, help="build cache (default ~/.cache/qvirt-builder)")
    parser.add_argument("--kvm", action="store_true", help="domain type kvm instead of qemu (TCG)")
    args = parser.parse_args(argv)
    try:
        build(args.template, args.output, cache=args.cache, kvm=args.kvm)
    except BuilderError as err:
        print(f"qvirt-builder: error: {err}", file=sys.stderr)
        return 1
    print(args.output.absolute())
    return 0


if __name__ == "__main__":
    sys.exit(main())
