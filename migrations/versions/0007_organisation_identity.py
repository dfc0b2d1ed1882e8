"""Organisation identity: verified accounts, single-use account tokens, invitations with
consent, group owners, and accounts made by the organisation's identity provider.

Accounts made before verification existed start unverified: nobody proved they hold their
address, and a second account made at will is how a lead could fill a cohort (P8). Their
next sign-in asks them to verify. Each group's owner is its first lead.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=True)
        batch_op.add_column(sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("sso_subject", sa.String(length=400), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_account_sso_subject"), ["sso_subject"])
    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_token_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_token_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["accepted_by"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["ally_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("ally_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ally_group_owner_id_account"), "account", ["owner_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(
        "UPDATE ally_group SET owner_id = (SELECT min(m.account_id) FROM membership AS m"
        " WHERE m.group_id = ally_group.id AND m.role = 'lead')"
    )


def downgrade():
    with op.batch_alter_table("ally_group", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ally_group_owner_id_account"), type_="foreignkey")
        batch_op.drop_column("owner_id")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_expires_at"))
        batch_op.drop_index(batch_op.f("ix_invitation_group_id"))
    op.drop_table("invitation")
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_token_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_token_account_id"))
    op.drop_table("account_token")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_account_sso_subject"), type_="unique")
        batch_op.drop_column("sso_subject")
        batch_op.drop_column("verified")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=False)
