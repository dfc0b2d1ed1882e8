"""Planned actions: an ally may ask for advice before acting, so an action's day is empty
until the ally marks it done.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.alter_column("occurred_on", existing_type=sa.Date(), nullable=True)


def downgrade():
    # An action still planned reads, in the older schema, as done on the day it was logged.
    action = sa.table("action", sa.column("occurred_on", sa.Date), sa.column("created_on", sa.Date))
    op.execute(action.update().where(action.c.occurred_on.is_(None)).values(occurred_on=action.c.created_on))
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.alter_column("occurred_on", existing_type=sa.Date(), nullable=False)
