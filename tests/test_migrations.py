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
        conn.execute(
            text("INSERT INTO users (id, username, display_name, active, created_at) VALUES (7, 'ida', 'Ida', 1, :at)"),
            {"at": created},
        )
        conn.execute(
            text(
                "INSERT INTO clients (id, given_name, family_name, birth_date, contacts, created_at) "
                "VALUES (3, 'Old', 'Client', '1980-01-01', '[]', :at)"
            ),
            {"at": created},
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, username, action, record_type, record_id, client_id, channel) "
                "VALUES (:at, 'ida', 'create', 'client', '3', 3, 'web')"
            ),
            {"at": created},
        )
        conn.execute(
            text("INSERT INTO api_tokens (user_id, token_hash, created_at, revoked) VALUES (7, 'h', :at, 0)"),
            {"at": created},
        )
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT registered_by FROM clients WHERE id = 3")).scalar() == 7
        expires = conn.execute(text("SELECT expires_at FROM api_tokens")).scalar()
    assert str(expires).startswith(str(created + timedelta(days=30))[:19])
    command.downgrade(alembic_config(url), "0002")
    upgrade(url)
    engine.dispose()


def test_a_working_sqlite_database_goes_down_and_up_through_table_copies(cp, driver, sqlite_url):
    """SQLite alters a table by copying it (0009_day adds a column with a foreign key to human_tasks). With
    tasks, submissions and events pointing at those rows, the copy must neither be refused by the foreign keys
    nor lose a row or an index, in either direction."""
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    driver.complete(driver.task(case_id, "record_referral"))  # a submission and events point at the task
    cp.close()
    engine = create_engine(sqlite_url)

    def snapshot():
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("human_tasks", "form_submissions", "clients", "events")
            }

    def indexes():
        with engine.connect() as conn:
            return set(
                conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = 'human_tasks' AND sql IS NOT NULL"
                    )
                ).scalars()
            )

    before, before_indexes = snapshot(), indexes()
    assert before["form_submissions"] == 1 and before["human_tasks"] > 1
    command.downgrade(alembic_config(sqlite_url), "0008_quality")
    assert "ix_human_tasks_open_mine" in indexes()  # 0007's partial index survived the copy
    upgrade(sqlite_url)
    assert snapshot() == before and indexes() == before_indexes
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()
