"""receptord_daemon writes only what its job needs: row-level security on job lines and the
queues, a guard on rotations, run_events written only by the lifecycle triggers

Revision ID: 0009
Revises: 0008
"""

from daemon.migrate import run_sql_file

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0009_least_privilege.sql")


def downgrade() -> None:
    run_sql_file("schema/0009_least_privilege.down.sql")
