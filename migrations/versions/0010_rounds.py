"""Rounds: exclusive allocator runs of one allocation run are solved one at a time (a unique
index), can be superseded (supersede_run), and wait visibly (receptord_waiting)

Revision ID: 0010
Revises: 0009
"""

from daemon.migrate import run_sql_file

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0010_rounds.sql")


def downgrade() -> None:
    run_sql_file("schema/0010_rounds.down.sql")
