"""Checking submitted form data against the form's JSON Schema, with one message per wrong field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .errors import FieldError, InvalidFormData

_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=_FORMAT_CHECKER)


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return _validator(json.dumps(schema, sort_keys=True))


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # jsonschema reports a missing property at its parent; people look for it at the field itself.
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(missing)
    elif error.validator == "dependentRequired":
        parts.append(error.message.split("'")[1] if "'" in error.message else "")
    return "/".join(p for p in parts if p != "")


def _message(error: ValidationError, schema: dict[str, Any]) -> str:
    v = error.validator
    # Always set on the errors a validator reports (the stubs also allow jsonschema's `Unset` of a bare error).
    value: Any = error.validator_value
    if v == "required":
        return "This field is required."
    if v == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        return {
            "integer": "Enter a whole number.",
            "number": "Enter a number.",
            "boolean": "Choose yes or no.",
            "string": "Enter text.",
            "array": "Enter a list.",
            "object": "Enter the details.",
        }.get(wanted, f"Must be of type {wanted}.")
    if v == "enum":
        return "Choose one of the options given."
    if v == "const":
        return "This answer is not allowed here."
    if v == "minimum":
        return f"Must be at least {value}."
    if v == "maximum":
        return f"Must be at most {value}."
    if v == "exclusiveMinimum":
        return f"Must be more than {value}."
    if v == "exclusiveMaximum":
        return f"Must be less than {value}."
    if v == "minLength":
        return "This field is required." if value == 1 else f"Enter at least {value} characters."
    if v == "maxLength":
        return f"Enter at most {value} characters."
    if v == "minItems":
        return f"Add at least {value}."
    if v == "maxItems":
        return f"Add at most {value}."
    if v == "format":
        return {
            "date": "Enter a date (YYYY-MM-DD).",
            "date-time": "Enter a date and time.",
            "email": "Enter an e-mail address.",
        }.get(value, f"Must be a valid {value}.")
    if v == "pattern":
        return "This does not have the expected form."
    if v == "additionalProperties":
        return "This form has no such field."
    return error.message


def check(schema: dict[str, Any], data: Any) -> None:
    """Raise InvalidFormData with every wrong field, or return if `data` satisfies `schema`."""
    if not isinstance(data, dict):
        raise InvalidFormData("The form data must be a JSON object.", [FieldError("", "Expected an object.")])
    errors = sorted(validator_for(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    fields: dict[str, FieldError] = {}
    for error in _leaf_errors(errors):
        path = _path(error)
        fields.setdefault(path, FieldError(path, _message(error, schema)))
    raise InvalidFormData(f"{len(fields)} field(s) need attention.", list(fields.values()))


def _leaf_errors(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Errors inside if/then, allOf and anyOf are reported by their most specific cause."""
    for error in errors:
        if error.context:
            yield from _leaf_errors(sorted(error.context, key=lambda e: len(list(e.absolute_path)), reverse=True)[:1])
        else:
            yield error
