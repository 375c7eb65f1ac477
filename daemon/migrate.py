"""Schema migrations: Alembic revisions in migrations/ that execute the files in sql/."""

from __future__ import annotations

from alembic import command, op
from alembic.config import Config
from alembic.script import ScriptDirectory

from daemon.db import ROOT, connect, sql_text


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(_config(url), revision)


def schema_problem(url: str) -> str | None:
    """Why this receptord cannot work on the database at ``url`` (its schema is missing, older
    or newer than this receptord's migrations), with the fix; None when it is at head.

    Raises what ``psycopg.connect`` raises when the database cannot be reached."""
    scripts = ScriptDirectory.from_config(_config(url))
    head = scripts.get_current_head()
    with connect(url, application_name="receptord-check") as conn:
        row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")] if row and row[0] else []
    if not revisions:
        return "the database has no receptord schema: run `receptord migrate`"
    current = revisions[0]
    if current == head:
        return None
    if current not in {s.revision for s in scripts.walk_revisions()}:
        # `migrate` cannot help: a newer receptord migrated this database.
        return (
            f"the database schema is at revision {current}, which this receptord ({head}) does not know: "
            "upgrade receptord"
        )
    return f"the database schema is at revision {current}, this receptord needs {head}: run `receptord migrate`"


def run_sql_file(name: str) -> None:
    """Run ``sql/<name>`` inside the current revision (called from migrations/versions)."""
    # Straight to psycopg, with no parameters: SQLAlchemy would read ':word' and the driver
    # '%' in the SQL (JSON literals, comments) as placeholders. Same connection, same transaction.
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    raw.execute(sql_text(name.removesuffix(".sql")))
