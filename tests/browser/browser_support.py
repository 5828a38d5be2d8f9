"""What the browser tests do as people do it: sign in, answer a task's form."""

from __future__ import annotations

from carepath.engine.form_samples import valid_sample
from ui_support import posted


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
