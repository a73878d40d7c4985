"""<secret>: round trips of libvirt 9.0's output, define-time defaults, error texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from qvirt.conf.secret import Secret, apply_defaults
from qvirt.errors import QvirtError

DATA = Path(__file__).parent.parent / "data" / "conf" / "secret"

CANONICAL = """<secret ephemeral='yes' private='yes'>
  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>
  <description>d &amp; e</description>
  <usage type='volume'>
    <volume>/var/lib/libvirt/images/a.img</volume>
  </usage>
</secret>
"""


def test_canonical_output_round_trips_byte_for_byte() -> None:
    secret = Secret.from_xml(CANONICAL)
    apply_defaults(secret)
    assert secret.to_xml() == CANONICAL
    assert secret.usage is not None and secret.usage.volume == "/var/lib/libvirt/images/a.img"


def test_define_writes_both_flags_and_a_uuid() -> None:
    secret = Secret.from_xml("<secret/>")
    apply_defaults(secret)
    assert re.fullmatch(r"<secret ephemeral='no' private='no'>\n  <uuid>[0-9a-f-]{36}</uuid>\n"
                        r"</secret>\n", secret.to_xml())


def test_children_of_other_usage_types_are_dropped() -> None:
    secret = Secret.from_xml("<secret><usage type='ceph'><name>n</name><target>t</target>"
                             "</usage></secret>")
    assert secret.usage is not None and secret.usage.target is None


@pytest.mark.parametrize("path", sorted(DATA.glob("net-*.xml")), ids=lambda p: p.stem)
def test_corpus_output_is_a_fixed_point(path: Path) -> None:
    secret = Secret.from_xml(path.read_text())
    apply_defaults(secret)
    first = secret.to_xml()
    assert Secret.from_xml(first).to_xml() == first
    schema = etree.RelaxNG(etree.parse("/usr/share/libvirt/schemas/secret.rng"))
    assert schema.validate(etree.fromstring(first.encode())), schema.error_log


@pytest.mark.parametrize("path", sorted((DATA / "invalid").glob("net-*.xml")),
                         ids=lambda p: p.stem)
def test_invalid_corpus_fails_with_libvirts_message(path: Path) -> None:
    text = path.read_text()
    expected = re.match(r"<!-- error: (.*) -->\n", text)
    assert expected is not None
    with pytest.raises(QvirtError) as caught:
        apply_defaults(Secret.from_xml(text))
    assert caught.value.message == expected.group(1)
