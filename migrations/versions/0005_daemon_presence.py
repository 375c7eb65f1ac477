"""daemons may prune stale presence rows

Revision ID: 0005
Revises: 0004
"""

from daemon.migrate import run_sql_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0005_daemon_presence.sql")


def downgrade() -> None:
    run_sql_file("schema/0005_daemon_presence.down.sql")
