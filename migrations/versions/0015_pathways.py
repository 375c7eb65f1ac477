"""Targeted pathways: allocation_planner_runs.pathways (the lines a run reserves for a priority
cohort) and job_lines.pathway (the pathway a written line is reserved for)

Revision ID: 0015
Revises: 0014
"""

from daemon.migrate import run_sql_file

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0015_pathways.sql")


def downgrade() -> None:
    run_sql_file("schema/0015_pathways.down.sql")
