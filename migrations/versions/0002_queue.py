"""queue: claim indexes, lifecycle triggers, cancel_run, daemons

Revision ID: 0002
Revises: '0001'
"""

from daemon.migrate import run_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0002_queue.sql")


def downgrade() -> None:
    run_sql_file("schema/0002_queue.down.sql")
