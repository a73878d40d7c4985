"""Defaults as libvirt's QEMU driver fills them at define time, in libvirt's order:
domain-level values first, then implicit devices, then controllers and addresses (which must
see every device)."""

from __future__ import annotations

from qvirt.conf.defaults import addresses, domain, implicit
from qvirt.conf.defaults.facts import GuestFacts
from qvirt.conf.domain import Domain
from qvirt.errors import ErrorDomain, QvirtError


def apply_domain_defaults(dom: Domain, facts: GuestFacts) -> None:
    try:
        domain.apply(dom, facts)
        implicit.apply(dom, facts)
        addresses.apply(dom, facts)
    except QvirtError as err:
        if err.domain == ErrorDomain.NONE:
            err.domain = ErrorDomain.DOMAIN
        raise
