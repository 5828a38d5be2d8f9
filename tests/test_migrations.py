"""The migrations build exactly the tables the models describe, and 0003_access upgrades a database with
data in it (registrations read back from the audit log, tokens given an expiry) and goes back down."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from carepath.engine.migrate import alembic_config, upgrade
from carepath.engine.models import Base


# SQLite cannot reflect indexes on expressions (the lowercased names for search): both sides skip them there,
# and PostgreSQL, which reflects them, compares them.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrated_schema_matches_the_models(any_database_url):
    engine = create_engine(any_database_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diffs == []


def test_0003_access_upgrades_existing_data_and_downgrades(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    created = clock.now().replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, display_name, active, created_at) "
                          "VALUES (7, 'ida', 'Ida', 1, :at)"), {"at": created})
        conn.execute(text("INSERT INTO clients (id, given_name, family_name, birth_date, contacts, created_at) "
                          "VALUES (3, 'Old', 'Client', '1980-01-01', '[]', :at)"), {"at": created})
        conn.execute(text("INSERT INTO audit_log (at, username, action, record_type, record_id, client_id, channel) "
                          "VALUES (:at, 'ida', 'create', 'client', '3', 3, 'web')"), {"at": created})
        conn.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at, revoked) "
                          "VALUES (7, 'h', :at, 0)"), {"at": created})
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT registered_by FROM clients WHERE id = 3")).scalar() == 7
        expires = conn.execute(text("SELECT expires_at FROM api_tokens")).scalar()
    assert str(expires).startswith(str(created + timedelta(days=30))[:19])
    command.downgrade(alembic_config(url), "0002")
    upgrade(url)
    engine.dispose()
