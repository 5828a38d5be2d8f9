"""Fixtures for the pathway scenario tests (helpers in pathway_support.py)."""

from __future__ import annotations

import pytest
from pathway_support import Care


@pytest.fixture
def cp(make_carepath, any_database_url):
    """Every pathway scenario runs on SQLite and on PostgreSQL: a step writes some of its rows differently on
    each (one statement on PostgreSQL where SQLite needs two: engine/projection.py, engine/step_reads.py)."""
    return make_carepath(any_database_url)


@pytest.fixture
def care(driver, cp, clock, actors) -> Care:
    return Care(driver, cp, clock, actors)
