"""Fixtures: a real database per test (SQLite file; PostgreSQL when available), the engine with a fixed
clock, the Flask app and API clients with a token per demo role.

Each test gets a fresh database copied from a template that was migrated and seeded once per run
(the shipped pathway library published as version 1, and one user per role, password `demo`).
PostgreSQL: set CAREPATH_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
without it those tests are skipped with that reason, unless CAREPATH_REQUIRE_POSTGRES=1 (CI), which
turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.migrate import upgrade
from carepath.engine.models import ROLES
from carepath.engine.settings import Settings
from support import ApiClient, CaseDriver, actors_of, seed

# A Monday morning, so business-day arithmetic in tests is easy to follow.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PG_ENV = "CAREPATH_TEST_POSTGRES_URL"


def _settings(url: str) -> Settings:
    # Approvals run the real pathway checker, over a few episodes in tests (test_checker.py runs the deeper check).
    return Settings(database_url=url, secret_key="test-secret-key", sync_library_on_start=False, approval_episodes=3)


# ---------- SQLite ----------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "carepath.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seed(Carepath(_settings(url), FixedClock(T0)))
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    target = tmp_path / "carepath.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


# ---------- PostgreSQL ----------


def _pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CAREPATH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CAREPATH_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return url


def _admin_engine(base: str):
    return create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template() -> str:
    base = _pg_base_url()
    name = f"carepath_tpl_{os.getpid()}"
    admin = _admin_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CAREPATH_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL at {PG_ENV} is not reachable: {type(exc).__name__}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    cp = Carepath(_settings(url), FixedClock(T0))
    seed(cp)
    cp.close()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_template) -> str:
    base = os.environ[PG_ENV]
    name = f"carepath_t_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---------- the engine and the app ----------


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The default database for a test: SQLite. Use `any_database_url` to run on both backends."""
    return sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def make_carepath(clock):
    """Build Carepath objects (a new one = the app restarted on the same database)."""
    made = []

    def make(url: str) -> Carepath:
        cp = Carepath(_settings(url), clock)
        made.append(cp)
        return cp

    yield make
    for cp in made:
        cp.close()


@pytest.fixture
def cp(make_carepath, database_url) -> Carepath:
    return make_carepath(database_url)


@pytest.fixture
def actors(cp):
    return actors_of(cp)


@pytest.fixture
def driver(cp, actors) -> CaseDriver:
    return CaseDriver(cp, actors)


@pytest.fixture
def app(cp):
    from carepath.web import create_app

    app = create_app(carepath=cp)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def api(app, cp) -> ApiClient:
    return ApiClient(app.test_client(), cp)


@pytest.fixture
def roles() -> tuple[str, ...]:
    return ROLES
