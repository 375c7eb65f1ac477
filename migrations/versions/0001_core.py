"""core schema: the SPEC section 3 tables

Revision ID: 0001
Revises: None
"""

from daemon.migrate import run_sql_file

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0001_core.sql")


def downgrade() -> None:
    run_sql_file("schema/0001_core.down.sql")
