"""``receptord status``: the DBA views, printed as plain tables."""

from __future__ import annotations

from typing import Any

import psycopg

from daemon.db import connect, sql_text
from daemon.text import printable


def sections() -> list[tuple[str, str]]:
    """(title, query) pairs from sql/status/report.sql."""
    parts = sql_text("status/report").split("-- section: ")[1:]
    return [(p.split("\n", 1)[0].strip(), p.split("\n", 1)[1].strip().rstrip(";")) for p in parts]


def _table(cur: psycopg.Cursor[Any]) -> str:
    # Names and errors in these views come from run rows anyone with INSERT wrote: their
    # control characters are shown escaped, never sent to the DBA's terminal.
    headers = [printable(d.name) for d in cur.description or []]
    rows = [["" if v is None else printable(str(v)) for v in r] for r in cur.fetchall()]
    if not rows:
        return "  (none)"
    widths = [min(60, max(len(h), *(len(r[i]) for r in rows))) for i, h in enumerate(headers)]

    def fmt(values: list[str]) -> str:
        return "  " + "  ".join(v[:60].ljust(w) for v, w in zip(values, widths, strict=True))

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def main(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        for title, query in sections():
            with conn.cursor() as cur:
                cur.execute(query)
                print(f"{printable(title)}\n{_table(cur)}\n")
    return 0
