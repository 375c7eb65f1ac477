"""the database refuses an unbounded max_seconds and NULL entries or 2-D arrays in the columns
the planner reads

Revision ID: 0008
Revises: 0007
"""

from daemon.migrate import run_sql_file

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0008_input_checks.sql")


def downgrade() -> None:
    run_sql_file("schema/0008_input_checks.down.sql")
