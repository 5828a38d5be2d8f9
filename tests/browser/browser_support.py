"""What the browser tests do as people do it: sign in, answer a task's form; and the server they do it on."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

from carepath.engine.form_samples import valid_sample
from ui_support import posted


@contextmanager
def served(app: Any, name: str) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _closing(app: Any) -> Any:
    """Werkzeug's development server skips closing a response when the browser drops the connection while reading
    it (a page left before a large script finished loading), so the open static file is left to the garbage
    collector and shows up as a ResourceWarning in whichever test runs next. Carepath is served by gunicorn,
    which closes it; here the response is closed when its iteration ends, however it ends."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


def sign_in(page, username: str, password: str = "demo") -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox")


def fill_task_form(page, schema: dict, answers: dict | None = None) -> dict:
    """Answer the task form on the page with valid answers (routine ones, `answers` laid over)."""
    data = valid_sample(schema, answers or {})
    form = page.locator("#task-form")
    for name, value in posted(schema, data).items(multi=True):
        control = form.locator(f'[name="{name}"]').first
        kind = control.get_attribute("type") or control.evaluate("el => el.tagName.toLowerCase()")
        if kind in ("radio", "checkbox"):
            form.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "select":
            control.select_option(value)
        else:
            control.fill(value)
    return data
