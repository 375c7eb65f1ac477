"""Explanations: allocator_py_explanations and allocator_py_seat_values, written with each
COMPLETED allocator run, and allocator_py_explanations_named for administrators

Revision ID: 0012
Revises: 0011
"""

from daemon.migrate import run_sql_file

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0012_explanations.sql")


def downgrade() -> None:
    run_sql_file("schema/0012_explanations.down.sql")
