"""drop pathway_instances.error: nothing ever wrote it (a failing step rolls back; incidents live elsewhere)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pathway_instances", schema=None) as batch_op:
        batch_op.drop_column("error")


def downgrade() -> None:
    with op.batch_alter_table("pathway_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
