"""A group's answers wait for their breakdown: the day a group scope's pending answers were
first enough to release but were held back, so that the wait has an end.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scope") as batch:
        batch.add_column(sa.Column("held_since", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scope") as batch:
        batch.drop_column("held_since")
