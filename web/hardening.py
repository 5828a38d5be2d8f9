"""What every request goes through before and after a view: ids that fit a record, no NUL bytes, redirects
that stay on this site, and a server log that never carries a health record.

- Ids in paths use the `id` converter: 1 to 2^31-1. Anything else (2^31, 2^63, -1) matches no route: 404,
  never a database overflow.
- A NUL byte in the path, the query string or a form field is refused with 400 (PostgreSQL cannot store
  one, and no person types one); JSON bodies are checked by `web.api.json_body`.
- `safe_path` accepts only same-site relative paths for `next`: no scheme, no host, no `//`, no backslash,
  no whitespace or control characters (browsers drop tabs and newlines, so `/\\t/evil.example` would become
  `//evil.example`, and a newline would break the Location header).
- Unexpected errors are logged with a scrubbed traceback: where (files, lines, functions) and which
  exception types, never an exception's message, which may quote a form's answers, a message payload or
  the parameters of an SQL statement.
"""

from __future__ import annotations

import logging
import traceback
from urllib.parse import urlsplit

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter

from carepath.engine.access import MAX_ID

# 1 to 2147483647 (2^31-1) written without leading zeros, as a pattern: a larger id does not match the route
# at all, so every method gets 404 (a converter that refused it after matching would give some methods 405).
_ID_PATTERN = (
    "(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])"
)
assert MAX_ID == 2147483647


class IdConverter(BaseConverter):
    """`<id:name>`: a record id, 1 to 2^31-1 (the database's integer columns)."""

    regex = _ID_PATTERN
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def safe_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (e.g. `/tasks/7?view=mine`), else None."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def has_nul(value) -> bool:
    """A NUL character anywhere in a JSON value (strings and object keys)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _refuse_nul_bytes():
    if "\x00" in request.path or b"\x00" in request.query_string or b"%00" in request.query_string:
        abort(400, description="The address contains a NUL byte.")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.form.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                abort(400, description="A form field contains a NUL byte.")


def scrubbed_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and the exceptions chained to it, without any exception message."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for i, item in enumerate(reversed(chain)):
        if i:
            lines.append("During handling of the above, another exception occurred:")
        lines.append("Traceback (exception messages withheld: they may quote health records):")
        for frame in traceback.extract_tb(item.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}")
    return "\n".join(lines)


def log_unexpected(log: logging.Logger, exc: BaseException) -> None:
    log.error("unexpected error on %s %s\n%s", request.method, request.path, scrubbed_traceback(exc))


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.before_request(_refuse_nul_bytes)
