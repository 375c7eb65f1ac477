"""index running runs by claimed_at, so heartbeats are HOT updates

Revision ID: 0007
Revises: 0006
"""

from daemon.migrate import run_sql_file

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0007_hot_heartbeats.sql")


def downgrade() -> None:
    run_sql_file("schema/0007_hot_heartbeats.down.sql")
