"""the least-privilege role receptord_daemon and its grants

Revision ID: 0004
Revises: 0003
"""

from daemon.migrate import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0004_daemon_role.sql")


def downgrade() -> None:
    run_sql_file("schema/0004_daemon_role.down.sql")
