"""scale: indexes that match each list's filter and order (open-task lists, client search, a case's events)

- open tasks: partial indexes (status = 'open') in each list's order: assigned to a person, a role's
  unassigned queue, all open work by due time and by creation, and by client; they replace the two wide
  (status, role|assignee, due_at) indexes, which held every closed task as well;
- clients: (family_name, given_name, id) for name order; lower(family_name) and lower(given_name) for
  prefix search; on PostgreSQL a trigram GIN index (pg_trgm) on the lowercased full name for search anywhere
  in a name;
- events: (case_id, at, id), a case's log in order, replacing the index on case_id alone.

Revision ID: 0007_scale
Revises: 0006_safety
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scale"
down_revision = "0006_safety"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
QUEUE = "status = 'open' AND assignee_id IS NULL"
OPEN_TASK_INDEXES = (
    ("ix_human_tasks_open_mine", ["assignee_id", "due_at", "id"], OPEN),
    ("ix_human_tasks_open_queue", ["role", "due_at", "id"], QUEUE),
    ("ix_human_tasks_open_due", ["due_at", "id"], OPEN),
    ("ix_human_tasks_open_created", ["created_at", "id"], OPEN),
    ("ix_human_tasks_open_client", ["client_id"], OPEN),
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_human_tasks_open_role", table_name="human_tasks")
    op.drop_index("ix_human_tasks_open_assignee", table_name="human_tasks")
    for name, columns, where in OPEN_TASK_INDEXES:
        op.create_index(name, "human_tasks", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))

    op.drop_index("ix_clients_family_name", table_name="clients")
    op.create_index("ix_clients_sort_name", "clients", ["family_name", "given_name", "id"])
    op.create_index("ix_clients_family_lower", "clients", [sa.text("lower(family_name)")])
    op.create_index("ix_clients_given_lower", "clients", [sa.text("lower(given_name)")])
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_clients_name_trgm ON clients "
            "USING gin (lower((given_name || ' ') || family_name) gin_trgm_ops)"
        )

    op.drop_index("ix_events_case_id", table_name="events")
    op.create_index("ix_events_case_at", "events", ["case_id", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_case_at", table_name="events")
    op.create_index("ix_events_case_id", "events", ["case_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_clients_name_trgm")
    op.drop_index("ix_clients_given_lower", table_name="clients")
    op.drop_index("ix_clients_family_lower", table_name="clients")
    op.drop_index("ix_clients_sort_name", table_name="clients")
    op.create_index("ix_clients_family_name", "clients", ["family_name"])

    for name, _columns, _where in OPEN_TASK_INDEXES:
        op.drop_index(name, table_name="human_tasks")
    op.create_index("ix_human_tasks_open_assignee", "human_tasks", ["status", "assignee_id", "due_at"])
    op.create_index("ix_human_tasks_open_role", "human_tasks", ["status", "role", "due_at"])
