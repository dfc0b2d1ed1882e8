"""Responses remember their request's stage, so 30- and 90-day follow-ups release as separate slices.

Revision ID: 0004
Revises: 0003

Answers stored before this revision keep a NULL stage: a response is never linked to its
request, so there is nothing to fill it from. Releases count them as "followup" (stage
not known) in the stage slices.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("stage")
