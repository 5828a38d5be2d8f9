"""Quality tests run on both databases: the measures are SQL, and SQLite and PostgreSQL do date sums
differently (engine/quality/sqltime.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
