"""The daemon's own packing of domain lists says exactly what the generic XDR codec says."""

from __future__ import annotations

import uuid as uuidlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qvirt.daemon.wire import to_wire, to_wire_list
from qvirt.drivers.base import DomainRef
from qvirt.rpc.errors import XDRError
from qvirt.rpc.remote import REMOTE_DOMAIN_LIST_MAX, NonnullDomain
from qvirt.rpc.xdr import EncodedItems, VarArray, pack

DOMAINS = VarArray(NonnullDomain, REMOTE_DOMAIN_LIST_MAX)

refs = st.builds(DomainRef, st.text(max_size=12),
                 st.uuids().map(str), st.integers(-(1 << 31), (1 << 31) - 1))


@given(st.lists(refs, max_size=8))
def test_packed_list_is_the_generic_encoding(domains: list[DomainRef]) -> None:
    assert pack(DOMAINS, to_wire_list(domains)) == pack(DOMAINS, [to_wire(r) for r in domains])


def test_packed_list_refuses_what_the_codec_refuses() -> None:
    with pytest.raises(XDRError, match="Unable to encode message payload"):
        to_wire_list([DomainRef("a", str(uuidlib.uuid4()), 1 << 31)])
    with pytest.raises(XDRError, match="Unable to encode message payload"):
        pack(VarArray(NonnullDomain, 1), EncodedItems(2, b""))
