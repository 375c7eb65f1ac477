"""Positions approved for a six-month term (VIC_PGY2): the specialty has two subspecialty
components, is tied to a diploma or certificate, and its college requires six months

Revision ID: 0013
Revises: 0012
"""

from daemon.migrate import run_sql_file

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("schema/0013_six_month_approved.sql")


def downgrade() -> None:
    run_sql_file("schema/0013_six_month_approved.down.sql")
