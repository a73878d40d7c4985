"""virsh -c test:///default against qvirt -c test:///default: every case of cases.py gives
the same stdout, stderr and exit status, byte for byte, except the differences listed in
known.py (which must still differ)."""

from __future__ import annotations

import pytest

from tests.compat.cases import CASES, GLOBAL_CASES
from tests.compat.conftest import expand
from tests.compat.harness import URI, run_qvirt, run_virsh
from tests.compat.known import KNOWN

pytestmark = pytest.mark.compat

ALL = [(name, ["-c", URI, *args]) for name, args in CASES] + GLOBAL_CASES


@pytest.mark.parametrize(("name", "args"), ALL, ids=[name for name, _ in ALL])
def test_same_as_virsh(name: str, args: list[str], case_files: dict[str, str]) -> None:
    argv = expand(args, case_files)
    expected = run_virsh(argv)
    got = run_qvirt(argv)
    if name in KNOWN:
        assert got != expected, f"{name} no longer differs: drop it from known.py"
    else:
        assert got == expected
