"""safety: a version published over the pathway checker's findings records who accepted the risk and why

Revision ID: 0006_safety
Revises: 0005_sandbox
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_safety"
down_revision = "0005_sandbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pathway_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_risk", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("safety_check", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pathway_versions", schema=None) as batch_op:
        batch_op.drop_column("safety_check")
        batch_op.drop_column("accepted_risk")
