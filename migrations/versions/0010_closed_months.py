"""Closed months kept (``feedback.closing``): one closed_months row per group, holding its
follow-up rate's counted batches and its response load's shown periods as their months
closed, so that an ally who deletes their account takes nothing out of them (P5).

The table starts empty and the release tick fills it from the existing actions, requests
and views on its first run (within a minute of the upgrade): the batches and periods are
cut with the release k (``RELEASE_MIN_RESPONSES``), which is the app's setting, not the
database's. Until then a read computes the same figures from the same rows, so the page
does not change across the upgrade; from then on, what closed is never recomputed.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "closed_months",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["ally_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id"),
    )


def downgrade():
    op.drop_table("closed_months")
