"""docs/compat.md's "virsh commands" section is what tests.compat.report writes."""

from __future__ import annotations

import pytest

from tests.compat.report import DOC, HEADING, replace_section, section

pytestmark = pytest.mark.compat


def test_compat_doc_is_current() -> None:
    doc = DOC.read_text()
    assert replace_section(doc, section()) == doc, \
        "docs/compat.md is stale: run .venv/bin/python -m tests.compat.report"
    assert HEADING in doc
