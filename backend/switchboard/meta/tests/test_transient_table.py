"""One table of transient Meta codes (issue 14): the code's `TRANSIENT_CODE_TITLES` (meta/graph.py) is what
`classify` retries, and docs/outbound.md shows the same table. This test fails when they differ — fix the docs by
pasting the table it prints, never by editing the numbers by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from switchboard.meta import messages
from switchboard.meta.graph import TRANSIENT_CODE_TITLES, TRANSIENT_CODES, GraphError

DOCS = Path(__file__).resolve().parents[4] / "docs" / "outbound.md"
BLOCK = re.compile(r"<!-- transient-meta-codes: begin[^>]*-->\n(.*?)<!-- transient-meta-codes: end -->", re.S)


def rendered_table() -> str:
    rows = [f"| {code} | {title} |" for code, title in TRANSIENT_CODE_TITLES.items()]
    return "\n".join(["| Meta code | what Meta calls it |", "|---|---|", *rows]) + "\n"


def test_the_docs_show_the_codes_table_exactly():
    found = BLOCK.search(DOCS.read_text(encoding="utf-8"))
    assert found, "docs/outbound.md lost its transient-meta-codes block"
    assert found.group(1) == rendered_table(), (
        "docs/outbound.md's table of transient Meta codes differs from meta/graph.py TRANSIENT_CODE_TITLES; "
        "replace the block's content with:\n" + rendered_table()
    )


def test_the_set_classify_reads_is_the_table():
    assert frozenset(TRANSIENT_CODE_TITLES) == TRANSIENT_CODES
    assert list(TRANSIENT_CODE_TITLES) == sorted(TRANSIENT_CODE_TITLES)  # the docs read in order


@pytest.mark.parametrize("code", sorted(TRANSIENT_CODE_TITLES))
def test_every_code_of_the_table_is_retried(code):
    result = messages.classify(GraphError("boom", status=400, code=code))
    assert (result.ok, result.transient, result.error_code) == (False, True, str(code))


@pytest.mark.parametrize(
    ("code", "says"),
    [
        # A policy block lasts hours or days: failed at once, with a sentence that says it is temporary.
        (368, "temporarily blocked"),
        # A two-step verification PIN mismatch: wrong until someone fixes it.
        (133005, "refused this message (error 133005)"),
    ],
)
def test_368_and_133005_are_permanent_on_purpose(code, says):
    result = messages.classify(GraphError("boom", status=400, code=code))
    assert (result.ok, result.transient) == (False, False)
    assert says in result.error_message
