"""Server-side forms from JSON Schema: render a form's fields, read a post back into typed JSON, show answers.

Used by the task page (any form of the pathway library) and by client registration. No Flask state.
"""

from __future__ import annotations

from .display import Answer, describe
from .fields import ROW, Field, Form, build_form
from .parse import Action, action_of, parse_form, prune, remove_row
from .schema import MISSING

__all__ = [
    "Action",
    "Answer",
    "Field",
    "Form",
    "MISSING",
    "ROW",
    "action_of",
    "build_form",
    "describe",
    "parse_form",
    "prune",
    "remove_row",
]
