"""What a row id may be, decided once for every input that names one (paths, filters, bodies, headers).

Ids are `BigAutoField`s: 1 … 2**63 - 1 on both PostgreSQL and SQLite. A number outside that range names no row,
but it must be refused before it reaches a query: SQLite's driver raises OverflowError on it (a 500), and Django's
own overflow guard covers only `pk=` lookups, not foreign keys or `__in`.
"""

from __future__ import annotations

MIN_ID = 1
MAX_ID = 2**63 - 1


def is_id(value: object) -> bool:
    """ASCII digits only (str.isdigit() also accepts '²', which int() then refuses) and within the id range."""
    text = str(value)
    return text.isascii() and text.isdigit() and MIN_ID <= int(text) <= MAX_ID


def parse_id(value: object) -> int | None:
    """The id `value` names, or None when it cannot name a row."""
    return int(str(value)) if is_id(value) else None
