"""DBA views

Revision ID: 0003
Revises: '0002'
"""

from daemon.migrate import run_sql_file

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0003_views.sql")


def downgrade() -> None:
    run_sql_file("schema/0003_views.down.sql")
