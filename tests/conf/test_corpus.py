"""The conf corpus against libvirt itself: every document round-trips, everything qvirt emits
validates against libvirt's RelaxNG schemas, and a live libvirtd given the same documents
prints what qvirt prints (or fails with the same message). A difference passes only while
docs/compat.md lists it with its reason."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from lxml import etree

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.domain import Domain
from qvirt.errors import QvirtError
from tests.support import compare, oracle
from tests.support.facts import qemu_facts
from tests.support.kinds import CORPUS, KINDS, SCHEMAS, corpus

COMPAT = Path(__file__).resolve().parents[2] / "docs" / "compat.md"

VALID = [(kind, path) for kind in KINDS for path in corpus(kind)]
INVALID = [(kind, path) for kind in KINDS for path in corpus(kind, invalid=True)]
ORACLE_VALID = [(k, p) for k, p in VALID if KINDS[k].oracle]
ORACLE_INVALID = [(k, p) for k, p in INVALID if KINDS[k].oracle]


def ident(case: tuple[str, Path]) -> str:
    return str(case[1].relative_to(CORPUS))


def expected_error(path: Path) -> str:
    match = re.match(r"\s*<!--\s*error:\s*(.*?)\s*-->", path.read_text(), re.DOTALL)
    assert match, f"{path} does not start with <!-- error: MESSAGE -->"
    return match.group(1)


@functools.cache
def listed(section: str) -> frozenset[str]:
    """Corpus files named in the first column of the table under a docs/compat.md heading."""
    text = COMPAT.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end > 0 else len(text)]
    return frozenset(re.findall(r"^\| `([^`]+\.xml)` \|", body, re.MULTILINE))


def known_differences() -> frozenset[str]:
    return listed("XML documents (the conf corpus)")


@functools.cache
def schema(name: str) -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / name)))


@functools.cache
def libvirt_answers(kind: str) -> dict[Path, str]:
    """libvirtd's output for every document of a kind, asked once per test process."""
    cases = [p for k, p in ORACLE_VALID + ORACLE_INVALID if k == kind]
    return dict(zip(cases, compare.libvirt_outputs(kind, [p.read_text() for p in cases]),
                    strict=True))


def test_corpus_is_large_and_covers_every_kind() -> None:
    assert len(VALID) + len(INVALID) >= 300
    assert {k for k, _ in VALID} == set(KINDS)


@pytest.mark.parametrize("case", VALID, ids=ident)
def test_round_trip_is_stable(case: tuple[str, Path]) -> None:
    """Output read back gives itself: nothing libvirt keeps is lost on the way. (Input-only
    forms, such as a volume's <nocow/>, are read and not written, as libvirt does.)"""
    kind, path = case
    cls = KINDS[kind].load()
    text = cls.from_xml(path.read_text()).to_xml()
    again = cls.from_xml(text)
    assert again.to_xml() == text
    assert cls.from_xml(again.to_xml()) == again


@pytest.mark.compat
@pytest.mark.parametrize("case", VALID, ids=ident)
def test_output_validates_against_libvirt_schema(case: tuple[str, Path]) -> None:
    kind, path = case
    out = compare.qvirt_output(kind, path.read_text())
    assert not out.startswith("error:"), out
    rng = schema(KINDS[kind].schema)
    valid = rng.validate(etree.fromstring(out.encode()))
    if ident(case) in listed("libvirt output that fails libvirt's own schemas"):
        assert not valid, f"{ident(case)} now validates: remove it from docs/compat.md"
    else:
        assert valid, str(rng.error_log.last_error)


@pytest.mark.compat
@pytest.mark.parametrize("case", ORACLE_VALID, ids=ident)
def test_same_as_libvirtd(case: tuple[str, Path]) -> None:
    kind, path = case
    lines = compare.diff(kind, path.read_text(), libvirt_answers(kind)[path])
    name = ident(case)
    if name in known_differences():
        assert lines, f"{name} now matches libvirt: remove it from docs/compat.md"
    else:
        assert not lines, "".join(lines)


@pytest.mark.parametrize("case", INVALID, ids=ident)
def test_invalid_document_gets_libvirts_message(case: tuple[str, Path]) -> None:
    kind, path = case
    with pytest.raises(QvirtError) as caught:
        obj = KINDS[kind].load().from_xml(path.read_text())
        if isinstance(obj, Domain):
            apply_domain_defaults(obj, qemu_facts())
    message = caught.value.message
    if ident(case) in known_differences():
        assert message != expected_error(path)
    else:
        assert message == expected_error(path)


@pytest.mark.compat
@pytest.mark.parametrize("case", ORACLE_INVALID, ids=ident)
def test_libvirtd_rejects_invalid_document_with_that_message(case: tuple[str, Path]) -> None:
    kind, path = case
    assert libvirt_answers(kind)[path] == f"error: {expected_error(path)}\n"


def test_oracle_normalizes_only_generated_values() -> None:
    assert oracle.normalize("<uuid>a1db6843-891f-4a81-a8a8-7dead3162260</uuid>") == (
        "<uuid>UUID</uuid>")
    assert oracle.normalize("52:54:00:45:ef:85 52:54:01:45:ef:85") == (
        "52:54:00:XX:XX:XX 52:54:01:45:ef:85")


@pytest.mark.parametrize(("doc", "code", "domain"), [
    # Error domains as libvirtd reported them for the same documents.
    ("<domain type='qemu'><name>a/b</name><memory>1024</memory><os><type>hvm</type></os>"
     "</domain>", 27, 20),
    ("<domain type='qemu'><memory>1024</memory><os><type>hvm</type></os></domain>", 21, 20),
    ("<domain type='qemu'><name>x</domain>", 35, 20),
    ("<pool/>", 27, 5),
    ("<domain type='qemu'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
     "<pm><suspend-to-mem enabled='maybe'/></pm></domain>", 27, 5),
])
def test_domain_errors_carry_libvirts_error_domain(doc: str, code: int, domain: int) -> None:
    with pytest.raises(QvirtError) as caught:
        Domain.from_xml(doc)
    assert (caught.value.code, caught.value.domain) == (code, domain)
