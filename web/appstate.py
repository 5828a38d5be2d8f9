"""The one accessor for the engine inside a request: the Carepath facade `create_app` attached to the app."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import current_app

from carepath.engine.app import Carepath


def cp() -> Carepath:
    return cast(Carepath, current_app.extensions["carepath"])


def now() -> datetime:
    return cp().clock.now()
