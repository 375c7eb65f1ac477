"""Alembic environment: hand-written SQL from sql/, executed through psycopg.

There is no SQLAlchemy model (target_metadata = None): each revision runs files from sql/.
The URL comes from the Alembic config (set by ``receptord migrate``), ``-x url=...`` or
DATABASE_URL. A transaction-scoped advisory lock serialises concurrent migrators, so two
daemons deployed at once cannot both apply a revision.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool, text

# Any constant works; this one spells "receptor" in ASCII-ish hex.
MIGRATION_LOCK_ID = 0x7265636570746F72


def database_url() -> str:
    url = context.config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("no database: set DATABASE_URL or pass -x url=...")
    return str(url)


def run_migrations_online() -> None:
    url = database_url()

    def connect() -> Any:
        return psycopg.connect(url, application_name="receptord-migrate")

    # The creator hands SQLAlchemy a libpq connection string untouched (socket dirs, options).
    engine = create_engine("postgresql+psycopg://", creator=connect, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_ID})
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: the revisions execute sql/ files")
run_migrations_online()
