"""10,000 mutations of the corpus: parsing, defaults and formatting either succeed or raise
qvirt's own errors, each with a message; nothing else escapes."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvirt.conf.defaults import apply_domain_defaults
from qvirt.conf.domain import Domain
from qvirt.errors import QvirtError
from tests.support.facts import qemu_facts
from tests.support.kinds import KINDS, corpus

DOCS = [(kind, path.read_text()) for kind in KINDS for path in corpus(kind)]

HOSTILE = ["", " ", "-1", "0", "0x", "0xffffffffffffffffff", "99999999999999999999999",
           "1.5", "abc", "yes", "no", "on", "../../etc/passwd", "a/b", "$(reboot)", "\u00e9",
           "'", "&amp;", "&lt;x&gt;", "\t\n", "KiB", "18446744073709551616", "-0", "+5"]
ATTR_VALUE = re.compile(r"(=)(['\"])(.*?)\2")
TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    kind, text = draw(st.sampled_from(DOCS))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "value", "tag", "dup"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "truncate":
            text = text[:pos]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        elif op == "insert":
            text = text[:pos] + draw(st.text("<>/='\"&; abc01-\n", max_size=12)) + text[pos:]
        elif op == "value":
            matches = list(ATTR_VALUE.finditer(text))
            if matches:
                m = draw(st.sampled_from(matches))
                value = draw(st.sampled_from(HOSTILE)).replace("'", "&apos;")
                text = f"{text[:m.start(3)]}{value}{text[m.end(3):]}"
        elif op == "tag":
            matches = list(TAG.finditer(text))
            if matches:
                m = draw(st.sampled_from(matches))
                other = draw(st.sampled_from([t.group(2) for t in matches]))
                text = f"{text[:m.start(2)]}{other}{text[m.end(2):]}"
        else:
            lines = text.splitlines(keepends=True)
            i = draw(st.integers(0, max(len(lines) - 1, 0)))
            text = "".join(lines[:i + 1] + lines[i:i + 1] + lines[i + 1:])
    return kind, text


@settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(mutated())
def test_mutations_raise_only_qvirt_errors(case: tuple[str, str]) -> None:
    kind, text = case
    try:
        obj = KINDS[kind].load().from_xml(text)
        if isinstance(obj, Domain):
            apply_domain_defaults(obj, qemu_facts())
        obj.to_xml()
    except QvirtError as err:
        assert err.message
