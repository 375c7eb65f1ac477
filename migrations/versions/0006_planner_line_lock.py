"""let the daemon lock the job lines a planner run replaces (UPDATE on job_lines.planner_run)

Revision ID: 0006
Revises: 0005
"""

from daemon.migrate import run_sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0006_planner_line_lock.sql")


def downgrade() -> None:
    run_sql_file("schema/0006_planner_line_lock.down.sql")
