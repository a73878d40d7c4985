"""domifstat on test:///default: libvirt's test driver makes its counters up from the clock,
so virsh and qvirt are compared with the numbers taken out, by the NIC's name and its MAC."""

from __future__ import annotations

import re

import pytest

from tests.compat.harness import URI, run_qvirt, run_virsh

pytestmark = pytest.mark.compat


@pytest.mark.parametrize("device", ["testnet0", "AA:BB:CC:DD:EE:FF"])
def test_domifstat_lines_as_virsh(device: str) -> None:
    argv = ["-c", URI, "domifstat", "test", device]
    expected, got = run_virsh(argv), run_qvirt(argv)
    assert (re.sub(r"\d+\n", "N\n", got.stdout), got.stderr, got.status) == \
        (re.sub(r"\d+\n", "N\n", expected.stdout), expected.stderr, expected.status)
    assert f"{device} tx_drop N\n" in re.sub(r"\d+\n", "N\n", got.stdout)
