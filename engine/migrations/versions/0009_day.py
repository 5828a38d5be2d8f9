"""day: contacts (with amendment history), form drafts, due-date changes, the review's late task, and the
indexes behind the caseload and the duplicate warning

Revision ID: 0009_day
Revises: 0008_quality
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_day"
down_revision = "0008_quality"
branch_labels = None
depends_on = None

# SQLite alters a table by copying it (batch mode), which reflects the table first. Resolving its foreign keys
# would reflect `clients` too, whose expression indexes (0007_scale) SQLAlchemy cannot reflect; only this
# table is copied, so its own indexes (partial ones included) are all that must come across.
SAME_TABLE_ONLY = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("with_whom", sa.String(length=200), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amended", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.ForeignKeyConstraint(["human_task_id"], ["human_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_case_at", "contacts", ["case_id", "at"])
    op.create_index("ix_contacts_client_at", "contacts", ["client_id", "at"])
    op.create_index("ix_contacts_author_at", "contacts", ["author_id", "at"])
    op.create_index("ix_contacts_task", "contacts", ["human_task_id"])
    op.create_table(
        "contact_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("amended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amended_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["amended_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_versions_contact_id", "contact_versions", ["contact_id"])
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["human_task_id"], ["human_tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("human_task_id", "user_id", name="uq_form_drafts_task_user"),
    )
    op.create_table(
        "due_date_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["human_task_id"], ["human_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_due_date_changes_human_task_id", "due_date_changes", ["human_task_id"])
    with op.batch_alter_table("human_tasks", schema=None, reflect_kwargs=SAME_TABLE_ONLY) as batch_op:
        batch_op.add_column(sa.Column("about_task_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_human_tasks_about", "human_tasks", ["about_task_id"], ["id"])
        batch_op.create_index("ix_human_tasks_client_open", ["client_id", "status", "due_at"])
    op.create_index("ix_clients_birth_date", "clients", ["birth_date"])


def downgrade() -> None:
    op.drop_index("ix_clients_birth_date", table_name="clients")
    with op.batch_alter_table("human_tasks", schema=None, reflect_kwargs=SAME_TABLE_ONLY) as batch_op:
        batch_op.drop_index("ix_human_tasks_client_open")
        batch_op.drop_constraint("fk_human_tasks_about", type_="foreignkey")
        batch_op.drop_column("about_task_id")
    op.drop_index("ix_due_date_changes_human_task_id", table_name="due_date_changes")
    op.drop_table("due_date_changes")
    op.drop_table("form_drafts")
    op.drop_index("ix_contact_versions_contact_id", table_name="contact_versions")
    op.drop_table("contact_versions")
    op.drop_index("ix_contacts_task", table_name="contacts")
    op.drop_index("ix_contacts_author_at", table_name="contacts")
    op.drop_index("ix_contacts_client_at", table_name="contacts")
    op.drop_index("ix_contacts_case_at", table_name="contacts")
    op.drop_table("contacts")
