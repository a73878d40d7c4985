"""make bench: every benchmark row, side by side, printed as one table."""

from __future__ import annotations

import sys

from bench import conf, harness, qemu


def main() -> int:
    rows = conf.rows() + qemu.rows()
    print(harness.run(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
