"""step incidents: pathway steps that failed (script errors, sandbox time and memory bounds), for admins

Revision ID: 0005_sandbox
Revises: 0004_authoring
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_sandbox"
down_revision = "0004_authoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("error_type", sa.String(length=64), nullable=True),
        sa.Column("process_id", sa.String(length=100), nullable=True),
        sa.Column("pathway_version", sa.Integer(), nullable=True),
        sa.Column("element", sa.String(length=100), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("step_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_incidents_first_at"), ["first_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_step_incidents_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("step_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_incidents_case_id"))
        batch_op.drop_index(batch_op.f("ix_step_incidents_first_at"))
    op.drop_table("step_incidents")
