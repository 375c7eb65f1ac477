"""Schema migrations: Alembic revisions in migrations/ that execute the files in sql/."""

from __future__ import annotations

from alembic import command, op
from alembic.config import Config

from daemon.db import ROOT, sql_text


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(_config(url), revision)


def run_sql_file(name: str) -> None:
    """Run ``sql/<name>`` inside the current revision (called from migrations/versions)."""
    # Straight to psycopg, with no parameters: SQLAlchemy would read ':word' and the driver
    # '%' in the SQL (JSON literals, comments) as placeholders. Same connection, same transaction.
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    raw.execute(sql_text(name.removesuffix(".sql")))
