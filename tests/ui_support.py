"""Helpers for the staff-UI tests (Flask test client and browser): signed-in clients that carry the CSRF
token, reading a rendered form back as a browser would submit it, extra users, and a crisis pathway
stand-in for libraries that have none."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from carepath.engine import library, people
from carepath.engine.models import AuditEntry, PathwayVersion
from carepath.engine.pathway_files import FileSet

HERE = Path(__file__).resolve().parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Walk answers (by form id) that make the risk screen positive, so a safety-planning task opens.
POSITIVE_ASQ = {"asq": {"q1": True, "q2": False, "q3": False, "q4": False, "q5": False}}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class StaffClient:
    """Flask's test client signed in as one person, adding the CSRF token to every POST."""

    def __init__(self, app, username: str | None = None, password: str = "demo"):
        self.client = app.test_client()
        self.token: str | None = None
        self.username = username
        if username:
            self.signin(username, password)

    def signin(self, username: str, password: str = "demo"):
        token = csrf_of(self.client.get("/").get_data(as_text=True))
        resp = self.client.post("/", data={"csrf_token": token, "username": username, "password": password})
        if resp.status_code == 302:
            # The session is renewed at sign-in: the token must come from a page of the new session.
            self.token = csrf_of(self.client.get("/inbox").get_data(as_text=True))
        return resp

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data=None, csrf: bool = True, **kw):
        form = MultiDict(data) if not isinstance(data, MultiDict) else data.copy()
        if csrf and self.token and "csrf_token" not in form:
            form["csrf_token"] = self.token
        return self.client.post(path, data=form, **kw)

    def text(self, path: str) -> str:
        resp = self.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        return resp.get_data(as_text=True)


def add_user(cp, username: str, roles: list[str], password: str = "demo") -> None:
    with cp.db.begin() as session:
        people.add_user(session, username, roles, password, cp.clock.now(), display_name=username.title())


def audit_entries(cp, **where) -> list[AuditEntry]:
    with cp.db() as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return list(session.scalars(stmt))


def has_crisis_pathway(cp) -> bool:
    with cp.db() as session:
        versions = session.scalars(select(PathwayVersion).where(PathwayVersion.is_current.is_(True))).all()
        return any("crisis_reported" in (v.start_messages or []) for v in versions)


def ensure_crisis_pathway(cp) -> None:
    """Publish tests/pathways/crisis_response.bpmn unless the library already starts a pathway on
    `crisis_reported` (the shipped crisis pathway is then the one tested)."""
    if has_crisis_pathway(cp):
        return
    files, findings = FileSet.from_paths([HERE / "pathways"])
    assert not findings, findings
    built = library.build(files)
    with cp.db.begin() as session:
        library.publish(session, built, cp.clock.now(), origin="publish", by="tests")


class _FormReader(HTMLParser):
    """The controls of one <form> as a browser submits them: named, enabled, checked or selected."""

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = form_id is None
        self.depth_template = 0
        self.fieldsets: list[bool] = []  # disabled or not, innermost last
        self.data = MultiDict()
        self.textarea: tuple[str, list[str]] | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.in_form = a.get("id") == self.form_id
        if not self.in_form:
            return
        if tag == "template":
            self.depth_template += 1
        if tag == "fieldset":
            self.fieldsets.append("disabled" in a)
        if tag == "option" and self.select is not None and not self.depth_template:
            self.options.append((a.get("value", ""), "selected" in a))
            return
        if self.depth_template or any(self.fieldsets) or "disabled" in a or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.data.add(name, a.get("value", "on"))
                return
            self.data.add(name, a.get("value", ""))
        elif tag == "textarea":
            self.textarea = (name, [])
        elif tag == "select":
            self.select, self.options = name, []

    def handle_endtag(self, tag):
        if tag == "form" and self.form_id is not None and self.in_form:
            self.in_form = False
        if not self.in_form:
            return
        if tag == "template":
            self.depth_template -= 1
        elif tag == "fieldset" and self.fieldsets:
            self.fieldsets.pop()
        elif tag == "textarea" and self.textarea:
            name, parts = self.textarea
            text = "".join(parts)
            self.data.add(name, text[1:] if text.startswith("\n") else text)
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [v for v, sel in self.options if sel] or [v for v, _ in self.options[:1]]
            if chosen:
                self.data.add(self.select, chosen[0])
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1].append(data)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def form_data(html: str, form_id: str | None = None) -> MultiDict:
    """What a browser would post from the page's form `form_id` (or every control on the page)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    reader.close()
    return reader.data


def posted(schema: dict, data: dict) -> MultiDict:
    """`data` as the task form's fields would post it (the naming web/forms uses)."""
    from carepath.web.forms.schema import choices, resolve, type_of, wire

    out = MultiDict()

    def walk(node, value, path):
        node = resolve(node, schema)
        if isinstance(value, dict):
            for key, sub in value.items():
                walk((node.get("properties") or {}).get(key, {}), sub, f"{path}/{key}" if path else key)
        elif isinstance(value, list):
            items = resolve(node.get("items") or {}, schema)
            if choices(items, schema) and type_of(items) != "object":
                for v in value:
                    out.add(path, wire(v))
            else:
                for i, v in enumerate(value):
                    walk(items, v, f"{path}/{i}")
        else:
            out.add(path, wire(value))

    walk(schema, data, "")
    return out
