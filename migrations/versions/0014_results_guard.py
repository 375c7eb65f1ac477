"""The daemon role adds results only to a running run: allocations, explanations, seat values
and line history snapshots of a finished run are refused

Revision ID: 0014
Revises: 0013
"""

from daemon.migrate import run_sql_file

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0014_results_guard.sql")


def downgrade() -> None:
    run_sql_file("schema/0014_results_guard.down.sql")
