"""[conf] rows: parse, defaults and format of the corpus's median domain document."""

from __future__ import annotations

import statistics

from bench.harness import Row
from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.domain import Domain
from tests.support.facts import qemu_facts
from tests.support.kinds import corpus


def median_document() -> str:
    texts = sorted((p.read_text() for p in corpus("domain")), key=len)
    median_len = statistics.median_low([len(t) for t in texts])
    return next(t for t in texts if len(t) == median_len)


def rows() -> list[Row]:
    text = median_document()
    facts = qemu_facts()
    parsed = Domain.from_xml(text)
    filled = Domain.from_xml(text)
    apply_domain_defaults(filled, facts)

    def defaults() -> None:
        apply_domain_defaults(parsed.copy(), facts)

    return [
        Row("conf: parse median domain XML", "µs", 2000,
            {"qvirt": lambda: Domain.from_xml(text)}),
        Row("conf: defaults (incl. a deep copy)", "µs", 2000, {"qvirt": defaults}),
        Row("conf: format median domain XML", "µs", 2000, {"qvirt": filled.to_xml}),
    ]
