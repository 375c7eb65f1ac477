"""Database access: connections, the connection pool, and SQL statements loaded by name.

All SQL lives in ``sql/`` (reviewed like code). Queue statements are written once for both
queue tables with ``{table}``/``{created}`` placeholders, composed here with safe identifiers.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"

# libpq keepalives and a TCP user timeout so a dead peer (host lost, network cut) is noticed in
# seconds, not hours: a statement to a vanished server fails within about 5 s, so no wait on
# it outlasts half of the systemd watchdog (WatchdogSec=30).
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 3,
    "keepalives_interval": 1,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
    "connect_timeout": 5,
}
# How long the pool keeps retrying one lost connection in the background (its delay doubles
# from 1 s) before giving up; the next request then starts a fresh attempt at once. Short, so
# a daemon is serving again within about a second of the server's return after an outage
# of any length, instead of waiting out a doubled delay.
RECONNECT_TIMEOUT_SECONDS = 1.5

# Errors that say "the database cannot do this now" rather than "this cannot be done": the
# server is down or restarting, a failover left us on a read-only standby, a lock or
# serialisation conflict. The operation is retried; anything else is a defined failure.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.errors.ReadOnlySqlTransaction,
    PoolTimeout,
)


@functools.cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


@functools.cache
def queue_statement(name: str, table: str, created: str) -> sql.Composed:
    """A ``sql/queue/<name>.sql`` statement bound to one queue table. ``{round_is_blocked}``
    in it stands for ``sql/queue/round_is_blocked.sql``, the allocator's claims' shared test."""
    names: dict[str, sql.Composable] = {"table": sql.Identifier(table), "created": sql.Identifier(created)}
    text = sql_text(f"queue/{name}")
    if "{round_is_blocked}" in text:
        names["round_is_blocked"] = sql.SQL(sql_text("queue/round_is_blocked")).format(**names)
    return sql.SQL(text).format(**names)


def redact(url: str) -> str:
    """The connection string without its password, for logs and error messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database url>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)


_KEYWORD_PASSWORD = re.compile(r"""\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'&]+)""")


def password_forms(url: str) -> list[str]:
    """Every form the password of ``url`` may take in a message, longest first: as written,
    percent-decoded and re-encoded, quoted as libpq and Python quote it.

    Found without trusting the string to parse: a password with a stray ``%`` makes libpq
    reject the URI, and its error message then quotes the password.
    """
    found: set[str] = set()
    with contextlib.suppress(psycopg.Error):
        found.add(str(conninfo_to_dict(url).get("password") or ""))
    if "://" in url:
        userinfo = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    # The keyword itself may be percent-encoded in a URI query (libpq decodes it: pass%77ord).
    for match in [*_KEYWORD_PASSWORD.finditer(url), *_KEYWORD_PASSWORD.finditer(urllib.parse.unquote(url))]:
        value = match[1]
        found.add(value)
        if value.startswith("'"):
            found.add(re.sub(r"\\(.)", r"\1", value[1:-1]))
    forms: set[str] = set()
    for password in filter(None, found):
        for plain in (password, urllib.parse.unquote(password)):
            forms.update(
                {
                    plain,
                    urllib.parse.quote(plain, safe=""),
                    re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), urllib.parse.quote(plain, safe="")),
                    repr(plain)[1:-1],
                    json.dumps(plain)[1:-1],
                    plain.replace("\\", "\\\\").replace("'", "\\'"),
                }
            )
    return sorted(filter(None, forms), key=len, reverse=True)


def scrub(text: str, url: str | Sequence[str]) -> str:
    """``text`` with the password of ``url`` (or the forms ``password_forms`` found) replaced
    by ``***`` wherever it appears: for any error text before it is logged or printed."""
    for form in password_forms(url) if isinstance(url, str) else url:
        text = text.replace(form, "***")
    return text


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
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        kwargs={"application_name": name, **KEEPALIVES},
    )


def fetch_columns(conn: psycopg.Connection[Any], query: str, params: dict[str, Any], dtypes: list[str]) -> list[Any]:
    """Read millions of fixed-width values as numpy columns.

    ``query`` returns one row of ``bytea`` columns, each one column's binary values
    concatenated (``string_agg(uuid_send(x), '')``, ``float8send`` ...), in the same row order
    (aggregates of one query level see the rows in one order). 2.25 M preference rows then
    cost one round trip and a ``frombuffer``, where a row-per-message COPY or Python tuples
    spend seconds in per-row overhead. The row comes in binary format: as text, a bytea is
    hex, twice the bytes to send and decode (measured: 0.35 s of 1.2 s for 2.25 M rows).
    ``dtypes`` are numpy dtypes: 'S16' for uuids, '>f8'...; columns past them (a count...)
    come back as they are.
    """
    import numpy as np

    with conn.cursor(binary=True) as cur:
        row = cur.execute(query, params).fetchone()
    assert row is not None and len(row) >= len(dtypes)
    blobs = [np.frombuffer(blob or b"", dtype=code) for blob, code in zip(row, dtypes, strict=False)]
    return [*blobs, *row[len(dtypes) :]]


def uuid_positions(values: Any, ids: Sequence[str]) -> Any:
    """For each 16-byte uuid in ``values`` (numpy 'S16'), its index in ``ids`` (int32).

    Every value must be one of ``ids`` (the queries filter on them), so the mapping stays in
    numpy rather than a dict lookup per row. When the ids differ in their first 8 bytes
    (random uuids all but surely do), those alone are looked up, as integers, in a hash table
    (``_hashed_positions``): 2.25 M values in a few tens of milliseconds, where a sorted
    search took 0.25 s. Otherwise all 16 bytes are searched in sorted order.
    """
    import numpy as np

    keys = np.frombuffer(bytes.fromhex("".join(str(i) for i in ids).replace("-", "")), dtype="S16")
    heads = keys.view(">u8")[::2].astype(np.uint64)
    if len(np.unique(heads)) == len(heads):
        return _hashed_positions(heads, np.ascontiguousarray(values).view(">u8")[::2].astype(np.uint64))
    return _sorted_positions(keys, values)


def _sorted_positions(keys: Any, values: Any) -> Any:
    """Each value's index in ``keys`` (every value is one of them), by a sorted search."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(keys[order], values)
    return order[at].astype(np.int32)


# The hash table has about 2^8 slots per key (capped at 2^22 slots, 16 MiB), so few keys share
# a slot: 1,500 keys leave about 0.3 % of them, and of the values, to the sorted search.
_SLOTS_PER_KEY_BITS = 8
_MAX_SLOT_BITS = 22
_GOLDEN = 0x9E3779B97F4A7C15  # odd: multiplying by it permutes 64-bit integers


def _hashed_positions(keys: Any, values: Any) -> Any:
    """Each value's index among the distinct uint64 ``keys`` (every value is one of them).

    A value lands in the same slot as its key (Fibonacci hashing: the top bits of key x an odd
    constant, which depend on every bit of the key, so time-ordered uuids spread too). A slot
    holding one key answers at once; values whose slot several keys share are searched in
    sorted order.
    """
    import numpy as np

    bits = min(max(len(keys), 1).bit_length() + _SLOTS_PER_KEY_BITS, _MAX_SLOT_BITS)
    shift, golden = np.uint64(64 - bits), np.uint64(_GOLDEN)
    with np.errstate(over="ignore"):  # modular arithmetic is the point
        key_slot = ((keys * golden) >> shift).astype(np.intp)
        slot = values * golden
    slot >>= shift
    alone = np.bincount(key_slot, minlength=1 << bits)[key_slot] == 1
    table = np.full(1 << bits, -1, dtype=np.int32)
    table[key_slot[alone]] = np.flatnonzero(alone).astype(np.int32)
    found = table[slot.astype(np.intp)]
    shared = np.flatnonzero(found < 0)
    if shared.size:
        found[shared] = _sorted_positions(keys, values[shared])
    return found
