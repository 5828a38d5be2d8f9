"""Who may use every staff page and API route, as one table: each role, an outside case manager (no clients
of their own) and a case manager who broke the glass, against one client's record, on SQLite and PostgreSQL.

The world (built once per backend): Maria Lopez, registered by `intake`, whose case manager is
`case_manager`; her case is open; `intake` completed the referral ({done}) and the next intake task is open
in the intake queue ({open}). `cm2` is a case manager with no clients; `cover`, another case manager, broke
the glass for Maria. So her care team is intake, case_manager and cover; supervisors read and write every
record, quality staff read them; admins read none. The pathway library: `admin` has a draft of intake
({draft}), not yet submitted; admins, supervisors and quality staff read the library, only admins write drafts,
only supervisors review them (409 here: nothing is waiting), admins and supervisors roll back.

Rows run top to bottom, every person in turn, in one world: requests that would change what later rows see
are sent with answers that fail validation after the access check (422 means "allowed in"), and the few
that do change something (claim, release, assign) are ordered so each row's statuses hold. The last rows
break the glass and sign out.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.settings import Settings
from support import ApiClient, CaseDriver, actors_of
from ui_support import StaffClient, add_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = ("intake", "case_manager", "clinician", "supervisor", "crisis", "quality", "admin", "cm2", "cover")

BODIES = {
    "-": None,
    "empty": {},
    "client": {"given_name": "Nia", "family_name": "New", "birth_date": "1990-01-01"},
    # The same person again: the staff page warns of a duplicate unless told it is a different person.
    "client_again": {"given_name": "Nia", "family_name": "New", "birth_date": "1990-01-01", "_not_duplicate": "yes"},
    "maria": {
        "given_name": "Maria",
        "family_name": "Lopez",
        "birth_date": "1987-03-14",
        "case_manager": "case_manager",
    },
    "phone": {"phone": "555-0199"},
    "short": {"reason": "short"},
    "reason": {"reason": "Covering the crisis line tonight; the client called us."},
    "to_intake": {"username": "intake"},
    "no_data": {"data": {}},
    "new_case": {"client_id": "{client}"},
    "crisis": {"name": "crisis_reported", "payload": {}},
    "discharge": {"name": "discharge_requested", "payload": {}},
    "handover": {"name": "intake_completed", "payload": {}},
    "own_password": {"username": "{me}", "password": "demo"},
}

# method path                                     body         the statuses of PEOPLE, in order:
#                                                              intake, case_manager, clinician, supervisor, crisis,
#                                                              quality, admin, cm2, cover
MATRIX = """
GET   /                                        -            302  302  302  302  302  302  302  302  302
POST  /                                        own_password 302  302  302  302  302  302  302  302  302
GET   /home                                    -            200  200  200  200  200  200  200  200  200
GET   /inbox                                   -            200  200  200  200  200  200  200  200  200
GET   /inbox?view=all                          -            200  200  200  200  200  200  200  200  200
GET   /clients                                 -            200  200  200  200  200  200  403  200  200
GET   /clients?q=lop                           -            200  200  200  200  200  200  403  200  200
GET   /clients/new                             -            200  200  403  200  403  403  403  200  200
GET   /clients/{client}                        -            200  200  403  200  403  200  403  403  200
GET   /clients/{client}/edit                   -            200  200  403  200  403  403  403  403  200
GET   /cases/{case}                            -            200  200  403  200  403  200  403  403  200
GET   /tasks/{open}                            -            200  200  403  200  403  200  403  403  200
GET   /tasks/{done}                            -            200  200  403  200  403  200  403  403  200
GET   /access/break-glass                      -            403  403  403  200  403  200  403  403  403
POST  /tasks/{open}/draft                      empty        302  403  403  403  403  403  403  403  403
POST  /tasks/{open}                            empty        422  403  403  403  403  403  403  403  403
POST  /tasks/{open}/claim                      empty        302  403  403  403  403  403  403  403  403
POST  /tasks/{open}/release                    empty        302  403  403  302  403  403  403  403  403
POST  /tasks/{open}/assign                     to_intake    403  403  403  302  403  403  403  403  403
POST  /inbox/next                              empty        302  302  302  302  302  302  302  302  302
POST  /clients/new                             client_again 302  302  403  302  403  403  403  302  302
POST  /clients/{client}/edit                   maria        302  302  403  302  403  403  403  403  302
POST  /clients/{client}/cases                  empty        302  302  403  302  403  403  403  403  302
POST  /cases/{case}/crisis                     empty        422  422  403  422  403  403  403  403  422
GET   /caseload                                -            200  200  200  200  200  403  403  200  200
GET   /caseload/week                           -            200  200  200  200  200  403  403  200  200
GET   /supervision/overdue                     -            403  403  403  200  403  403  403  403  403
POST  /supervision/tasks/{open}/due-date       empty        403  403  403  302  403  403  403  403  403
GET   /cases/{case}/contacts                   -            200  200  403  200  403  403  403  403  200
POST  /cases/{case}/contacts                   empty        422  422  403  422  403  403  403  403  422
GET   /contacts/{contact}                      -            200  200  403  200  403  200  403  403  200
POST  /contacts/{contact}                      empty        403  422  403  403  403  403  403  403  403
GET   /contacts/billing                        -            403  403  403  200  403  200  403  403  403
GET   /contacts/billing?from=2026-03-01&to=2026-03-02 -     403  403  403  200  403  200  403  403  403
GET   /clients/{client}/documents/{document}  -            404  404  403  404  403  404  403  403  404
POST  /clients/{client}/access                 short        422  422  422  422  422  403  403  422  422
GET   /api/v1/openapi.json                     -            200  200  200  200  200  200  200  200  200
GET   /api/v1/me                               -            200  200  200  200  200  200  200  200  200
GET   /api/v1/pathways                         -            200  200  200  200  200  200  200  200  200
GET   /api/v1/clients?q=lop                    -            200  200  200  200  200  200  403  200  200
POST  /api/v1/clients                          client       201  201  403  201  403  403  403  201  201
GET   /api/v1/clients/{client}                 -            200  200  403  200  403  200  403  403  200
PATCH /api/v1/clients/{client}                 phone        200  200  403  200  403  403  403  403  200
POST  /api/v1/clients/{client}/access          short        422  422  422  422  422  403  403  422  422
GET   /api/v1/break-glass                      -            403  403  403  200  403  200  403  403  403
POST  /api/v1/cases                            new_case     201  201  403  201  403  403  403  403  201
GET   /api/v1/cases/{case}                     -            200  200  403  200  403  200  403  403  200
GET   /api/v1/cases/{case}/events              -            200  200  403  200  403  200  403  403  200
POST  /api/v1/cases/{case}/messages            crisis       422  422  422  422  422  403  403  422  422
POST  /api/v1/cases/{case}/messages            discharge    403  422  403  422  403  403  403  403  403
POST  /api/v1/cases/{case}/messages            handover     403  403  403  403  403  403  403  403  403
GET   /api/v1/tasks                            -            200  200  200  200  200  200  200  200  200
GET   /api/v1/tasks/{open}                     -            200  200  403  200  403  200  403  403  200
GET   /api/v1/tasks/{done}                     -            200  200  403  200  403  200  403  403  200
POST  /api/v1/tasks/{open}/claim               empty        200  403  403  403  403  403  403  403  403
POST  /api/v1/tasks/{open}/release             empty        200  403  403  200  403  403  403  403  403
POST  /api/v1/tasks/{open}/assign              to_intake    403  403  403  200  403  403  403  403  403
POST  /api/v1/tasks/{open}/complete            no_data      422  403  403  403  403  403  403  403  403
GET   /quality/                                -            403  403  403  200  403  200  403  403  403
GET   /quality/measures.csv                    -            403  403  403  200  403  200  403  403  403
GET   /quality/measures/{measure}              -            403  403  403  200  403  200  403  403  403
GET   /quality/measures/{measure}/cases.csv    -            403  403  403  200  403  200  403  403  403
GET   /quality/heatmap                         -            403  403  403  200  403  200  403  403  403
GET   /quality/exports                         -            403  403  403  200  403  200  403  403  403
GET   /quality/exports/events.{fmt}            -            403  403  403  200  403  200  403  403  403
GET   /api/v1/quality/measures                 -            403  403  403  200  403  200  403  403  403
GET   /api/v1/quality/measures/{measure}/cases -            403  403  403  200  403  200  403  403  403
GET   /api/v1/incidents                        -            403  403  403  403  403  403  200  403  403
POST  /api/v1/incidents/{incident}/retry       empty        403  403  403  403  403  403  404  403  403
GET   /pathways/                               -            403  403  403  200  403  200  200  403  403
GET   /pathways/{pathway}                      -            403  403  403  200  403  200  200  403  403
GET   /pathways/{pathway}/versions/{version}   -            403  403  403  200  403  200  200  403  403
GET   /pathways/{pathway}/versions/{version}/files/{bpmn} - 403  403  403  200  403  200  200  403  403
GET   /pathways/{pathway}/versions/{version}/export.zip -   403  403  403  200  403  200  200  403  403
GET   /pathways/{pathway}/compare?from=1&to=1  -            403  403  403  200  403  200  200  403  403
GET   /pathways/drafts/{draft}                 -            403  403  403  200  403  200  200  403  403
GET   /pathways/drafts/{draft}/files/{bpmn}    -            403  403  403  200  403  200  200  403  403
GET   /pathways/drafts/{draft}/edit/{bpmn}     -            403  403  403  403  403  403  200  403  403
GET   /pathways/drafts/{draft}/new-form?form=x -            403  403  403  403  403  403  302  403  403
GET   /pathways/import                         -            403  403  403  403  403  403  200  403  403
POST  /pathways/import                         empty        403  403  403  403  403  403  422  403  403
POST  /pathways/{pathway}/drafts               empty        403  403  403  403  403  403  302  403  403
POST  /pathways/drafts/{draft}/save            empty        403  403  403  403  403  403  400  403  403
POST  /pathways/forms/preview                  empty        403  403  403  403  403  403  200  403  403
POST  /pathways/drafts/{draft}/title           empty        403  403  403  403  403  403  302  403  403
POST  /pathways/drafts/{draft}/remove          empty        403  403  403  403  403  403  404  403  403
POST  /pathways/drafts/{draft}/submit          empty        403  403  403  403  403  403  422  403  403
POST  /pathways/drafts/{draft}/approve         empty        403  403  403  409  403  403  403  403  403
POST  /pathways/drafts/{draft}/send-back       empty        403  403  403  409  403  403  403  403  403
POST  /pathways/{pathway}/versions/{version}/rollback short  403  403  403  302  403  403  302  403  403
GET   /api/v1/pathways/{pathway}               -            403  403  403  200  403  200  200  403  403
GET   /api/v1/pathways/drafts                  -            403  403  403  200  403  200  200  403  403
GET   /api/v1/pathways/drafts/{draft}          -            403  403  403  200  403  200  200  403  403
POST  /api/v1/pathways/drafts                  empty        403  403  403  403  403  403  400  403  403
POST  /api/v1/pathways/drafts/{draft}/approve  empty        403  403  403  409  403  403  403  403  403
POST  /api/v1/pathways/drafts/{draft}/send-back short       403  403  403  400  403  403  403  403  403
POST  /api/v1/pathways/{pathway}/rollback      short        403  403  403  400  403  403  400  403  403
POST  /pathways/drafts/{draft}/withdraw        empty        403  403  403  403  403  403  302  403  403
POST  /clients/{client}/access                 reason       302  302  302  302  302  403  403  302  302
POST  /signout                                 empty        302  302  302  302  302  302  302  302  302
"""


def _rows() -> list[tuple[str, str, str, dict[str, int]]]:
    rows = []
    for line in MATRIX.strip().splitlines():
        method, path, body, *statuses = line.split()
        assert len(statuses) == len(PEOPLE), line
        rows.append((method, path, body, dict(zip(PEOPLE, map(int, statuses), strict=True))))
    return rows


ROWS = _rows()


class World:
    """Maria's record and the people around it, served by one app."""

    def __init__(self, url: str):
        self.cp = Carepath(
            Settings(database_url=url, secret_key="matrix-secret", sync_library_on_start=False), FixedClock(T0)
        )
        from carepath.web import create_app

        self.app = create_app(carepath=self.cp)
        add_user(self.cp, "cm2", ["case_manager"])
        add_user(self.cp, "cover", ["case_manager"])
        driver = CaseDriver(self.cp, actors_of(self.cp))
        case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
        done = driver.task(case_id, "record_referral")
        driver.complete(done)
        opened = [t for t in driver.open_tasks(case_id) if t.role == "intake"]
        assert opened, "intake goes on after the referral"
        admin = next(a for a in _actors(self.cp) if a.username == "admin")
        self.ids = {
            "client": done.client_id,
            "case": case_id,
            "done": done.id,
            "open": opened[0].id,
            "incident": 1,
            "draft": self.cp.start_draft(admin, "intake"),
            "pathway": "intake",
            "version": 1,
            "bpmn": "intake.bpmn",
            "measure": "tasks_on_time",
            "fmt": "csv",
            "document": "safety-plan",
        }
        cover = next(a for a in _actors(self.cp) if a.username == "cover")
        self.cp.break_glass(cover, self.ids["client"], "Covering for Casey while she is on leave.")
        manager = next(a for a in _actors(self.cp) if a.username == "case_manager")
        self.ids["contact"] = self.cp.record_contact(
            manager, case_id, {"at": T0.isoformat(), "minutes": 20, "modality": "phone"}
        )["id"]
        self.api = ApiClient(self.app.test_client(), self.cp)
        self.staff = {p: StaffClient(self.app, p) for p in PEOPLE}

    def fill(self, value, person: str):
        if isinstance(value, str):
            value = value.format(me=person, **self.ids)
            return int(value) if value.isdigit() else value
        if isinstance(value, dict):
            return {k: self.fill(v, person) for k, v in value.items()}
        return value

    def call(self, person: str, method: str, path: str, body) -> int:
        path = self.fill(path, person)
        if path.startswith("/api/"):
            return self.api.call(method, path, person, self.fill(body, person) if body is not None else None)[0]
        # Signing in and out happen in a browser of their own, so the others' sessions go on.
        client = (
            self.staff[person] if path not in ("/", "/signout") or method == "GET" else StaffClient(self.app, person)
        )
        if method == "GET":
            return client.get(path).status_code
        return client.post(path, self.fill(body, person) or {}).status_code


def _actors(cp):
    from sqlalchemy import select

    from carepath.engine import people
    from carepath.engine.models import User

    with cp.db() as session:
        return [people.actor_of(u, "api") for u in session.scalars(select(User))]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "carepath.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        built = World(f"sqlite:///{path}")
        yield built
        built.cp.close()
        return
    template = request.getfixturevalue("postgres_template")
    base = os.environ["CAREPATH_TEST_POSTGRES_URL"]
    name = f"carepath_m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    built = World(make_url(base).set(database=name).render_as_string(hide_password=False))
    yield built
    built.cp.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("method, path, body, expected", ROWS, ids=[f"{m} {p} {b}" for m, p, b, _ in ROWS])
def test_access_matrix(world, method, path, body, expected):
    seen = {person: world.call(person, method, path, BODIES[body]) for person in PEOPLE}
    wrong = {p: f"got {seen[p]}, expected {expected[p]}" for p in PEOPLE if seen[p] != expected[p]}
    assert not wrong, wrong


def _shape(rule_or_path: str) -> str:
    path = rule_or_path.split("?")[0]
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path)


def test_the_matrix_names_every_route_and_method(world):
    covered = {(m, _shape(p)) for m, p, _b, _e in ROWS}
    missing = []
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, _shape(rule.rule)) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing
