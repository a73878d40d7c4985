"""make bench: every benchmark row, side by side, printed as one table; or only the groups
named on the command line (python -m bench.run daemon)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench import conf, daemon, harness, network, network_daemon, qemu, storage
from bench.harness import Row

GROUPS: dict[str, Callable[[], list[Row]]] = {
    "conf": conf.rows, "qemu": qemu.rows, "daemon": daemon.rows, "storage": storage.rows,
    "network": network.rows, "network-daemon": network_daemon.rows,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("groups", nargs="*", choices=[*GROUPS, []], metavar="GROUP",
                        help=f"which rows to run: {', '.join(GROUPS)} (default: all)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for name in args.groups or GROUPS:
        rows += GROUPS[name]()
    print(harness.run(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
