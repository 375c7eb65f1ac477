"""Database access: connections, the connection pool, and SQL statements loaded by name.

All SQL lives in ``sql/`` (reviewed like code). Queue statements are written once for both
queue tables with ``{table}``/``{created}`` placeholders, composed here with safe identifiers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"

# libpq keepalives so a dead peer (host lost, network cut) is noticed in seconds, not hours.
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "connect_timeout": 10,
}


@functools.cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


@functools.cache
def queue_statement(name: str, table: str, created: str) -> sql.Composed:
    """A ``sql/queue/<name>.sql`` statement bound to one queue table."""
    return sql.SQL(sql_text(f"queue/{name}")).format(table=sql.Identifier(table), created=sql.Identifier(created))


def redact(url: str) -> str:
    """The connection string without its password, for logs and error messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database url>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)


def connect(url: str, *, autocommit: bool = False, application_name: str = "receptord") -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit, application_name=application_name, **KEEPALIVES)


def make_pool(url: str, size: int, *, name: str = "receptord") -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool that checks connections before lending them, so a restarted server costs one
    failed check instead of one failed statement in a run."""
    return ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        open=False,
        name=name,
        check=ConnectionPool.check_connection,
        max_lifetime=1800,
        reconnect_timeout=float("inf"),  # keep trying; the daemon reports the outage itself
        kwargs={"application_name": name, **KEEPALIVES},
    )


def copy_columns(
    conn: psycopg.Connection[Any],
    query: sql.Composable | str,
    params: dict[str, Any],
    dtypes: list[str],
) -> list[Any]:
    """Read a query's result as numpy columns through binary COPY.

    For millions of rows (2.25 M preferences at 1,500 × 1,500) this is two orders of magnitude
    faster than building Python tuples: the rows are fixed-width (every column a NOT NULL
    int4 / float8), so the COPY stream is parsed as one big-endian structured array.
    ``dtypes`` are numpy codes of the columns: 'i4' or 'f8'.
    """
    import numpy as np

    stmt = sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(sql.SQL(query) if isinstance(query, str) else query)
    chunks: list[bytes] = []
    with conn.cursor() as cur, cur.copy(stmt, params) as copy:
        chunks.extend(bytes(block) for block in copy)
    data = b"".join(chunks)
    # Binary COPY: 11-byte signature, int32 flags, int32 header-extension length (+ extension),
    # then per row an int16 field count and per field an int32 length and the value; -1 ends.
    ext = int.from_bytes(data[15:19], "big")
    body = data[19 + ext : -2]
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, code in enumerate(dtypes):
        fields += [(f"len{i}", ">i4"), (f"v{i}", ">" + code)]
    rows = np.frombuffer(body, dtype=np.dtype(fields))
    return [rows[f"v{i}"].astype(code) for i, code in enumerate(dtypes)]
