"""The daemon role reads the schema revision: `receptord run` refuses a schema not at head

Revision ID: 0016
Revises: 0015
"""

from daemon.migrate import run_sql_file

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0016_schema_revision_readable.sql")


def downgrade() -> None:
    run_sql_file("schema/0016_schema_revision_readable.down.sql")
