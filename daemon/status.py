"""``receptord status``: the DBA views, printed as plain tables, refreshed (``--watch``) or as
JSON for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from daemon.db import connect, redact, sql_text
from daemon.text import printable


def sections() -> list[tuple[str, str]]:
    """(title, query) pairs from sql/status/report.sql."""
    parts = sql_text("status/report").split("-- section: ")[1:]
    return [(p.split("\n", 1)[0].strip(), p.split("\n", 1)[1].strip().rstrip(";")) for p in parts]


def _read(conn: psycopg.Connection[Any]) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """Every section: (title, column names, rows)."""
    out = []
    for title, query in sections():
        with conn.cursor() as cur:
            cur.execute(query)
            out.append((title, [d.name for d in cur.description or []], cur.fetchall()))
    return out


def _table(headers: list[str], rows: list[tuple[Any, ...]]) -> str:
    # Names and errors in these views come from run rows anyone with INSERT wrote: their
    # control characters are shown escaped, never sent to the DBA's terminal.
    heads = [printable(h) for h in headers]
    cells = [["" if v is None else printable(str(v)) for v in r] for r in rows]
    if not cells:
        return "  (none)"
    widths = [min(60, max(len(h), *(len(r[i]) for r in cells))) for i, h in enumerate(heads)]

    def fmt(values: list[str]) -> str:
        return "  " + "  ".join(v[:60].ljust(w) for v, w in zip(values, widths, strict=True))

    return "\n".join([fmt(heads), fmt(["-" * w for w in widths]), *map(fmt, cells)])


def _text(report: list[tuple[str, list[str], list[tuple[Any, ...]]]]) -> str:
    return "\n".join(f"{printable(title)}\n{_table(headers, rows)}\n" for title, headers, rows in report)


def _json(report: list[tuple[str, list[str], list[tuple[Any, ...]]]]) -> str:
    """{section title: [row objects]}: timestamps and intervals as text, jsonb as JSON."""
    return json.dumps(
        {title: [dict(zip(headers, row, strict=True)) for row in rows] for title, headers, rows in report},
        default=str,
        indent=2,
    )


def main(url: str, *, as_json: bool = False) -> int:
    with connect(url, autocommit=True) as conn:
        report = _read(conn)
    print(_json(report) if as_json else _text(report))
    return 0


CLEAR = "\033[H\033[2J"  # cursor home, clear screen


def watch(url: str, every: float) -> int:
    """Refresh the tables every ``every`` seconds until Ctrl-C (exit 0). A lost database is a
    line on the screen and a retry, not an exit: the DBA is watching because something is up."""
    try:
        while True:
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            try:
                with connect(url, autocommit=True) as conn:
                    body = _text(_read(conn))
            except psycopg.OperationalError as e:
                body = f"database unreachable ({redact(url)}): {printable(str(e).strip())}; retrying\n"
            screen = CLEAR if sys.stdout.isatty() else ""
            print(f"{screen}receptord status, {stamp}, every {every:g} s (Ctrl-C stops)\n\n{body}", flush=True)
            time.sleep(every)
    except KeyboardInterrupt:
        return 0
