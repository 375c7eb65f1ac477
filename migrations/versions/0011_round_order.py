"""Rounds in priority order: a pending round waits for every pending round before it, and
receptord_waiting says which

Revision ID: 0011
Revises: 0010
"""

from daemon.migrate import run_sql_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0011_round_order.sql")


def downgrade() -> None:
    run_sql_file("schema/0011_round_order.down.sql")
