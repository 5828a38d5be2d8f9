"""Fixtures for the pathway scenario tests (helpers in pathway_support.py)."""

from __future__ import annotations

import pytest
from pathway_support import Care


@pytest.fixture
def care(driver, cp, clock, actors) -> Care:
    return Care(driver, cp, clock, actors)
