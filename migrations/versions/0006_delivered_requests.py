"""Delivered requests (P8): links emailed by the platform, their recipients kept as keyed
hashes, and the emails waiting to be sent.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("sent", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_hash", sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.LargeBinary(length=32), nullable=True))
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["feedback_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_due_at"), ["due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_due_at"))
        batch_op.drop_index(batch_op.f("ix_delivery_request_id"))
    op.drop_table("delivery")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("person")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_column("recipient_hash")
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.drop_column("sent")
        batch_op.drop_column("delivered")
