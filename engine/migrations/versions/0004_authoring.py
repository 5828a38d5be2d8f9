"""authoring: drafts of pathway changes with their history, and why each version was published

Revision ID: 0004_authoring
Revises: 0003_access
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_authoring"
down_revision = "0003_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pathway_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("pathways", sa.JSON(), nullable=False),
        sa.Column("base", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published", sa.JSON(), nullable=False),
        sa.Column("safety", sa.JSON(), nullable=True),
        sa.Column("accepted_risk", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pathway_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pathway_drafts_status"), ["status"], unique=False)

    op.create_table(
        "pathway_draft_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["draft_id"], ["pathway_drafts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pathway_draft_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pathway_draft_steps_draft_id"), ["draft_id"], unique=False)

    with op.batch_alter_table("pathway_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_pathway_versions_draft", "pathway_drafts", ["draft_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("pathway_versions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_pathway_versions_draft", type_="foreignkey")
        batch_op.drop_column("draft_id")
        batch_op.drop_column("reason")
    with op.batch_alter_table("pathway_draft_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_draft_steps_draft_id"))
    op.drop_table("pathway_draft_steps")
    with op.batch_alter_table("pathway_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_drafts_status"))
    op.drop_table("pathway_drafts")
