"""(Skeleton, to be completed.)"""

from __future__ import annotations

from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain


def apply(dom: Domain, facts: GuestFacts) -> None:
    """Fill this stage's defaults in place."""
