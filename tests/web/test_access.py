"""Every staff route: who may use it (checked on the server), sign-in first, CSRF on every POST."""

from __future__ import annotations

import pytest

from carepath.engine.models import ROLES

READERS = {"intake", "case_manager", "clinician", "supervisor", "crisis", "quality"}
REGISTRARS = {"intake", "case_manager", "supervisor"}
MESSENGERS = {"intake", "case_manager", "clinician", "supervisor", "crisis"}
EVERYONE = set(ROLES)

# Pages and actions of the staff UI ({client}, {case}, {task} are the `referral` fixture's: an intake task).
# Who gets each is the access matrix (test_access_matrix.py); here: sign-in first, CSRF on every POST.
PAGES = [
    "/inbox",
    "/inbox?view=team",
    "/inbox?view=all",
    "/home",
    "/tasks/{task}",
    "/clients",
    "/clients?q=lop",
    "/clients/new",
    "/clients/{client}",
    "/clients/{client}/edit",
    "/cases/{case}",
    "/access/break-glass",
]

ACTIONS = [
    ("/inbox/next", {}),
    ("/tasks/{task}/claim", {}),
    ("/tasks/{task}/assign", {"username": "intake"}),
    ("/tasks/{task}", {"referral_date": "2026-03-02"}),
    ("/clients/new", {"given_name": "New", "family_name": "Person", "birth_date": "1990-01-01"}),
    ("/clients/{client}/edit", {"given_name": "Maria", "family_name": "Lopez", "birth_date": "1987-03-14"}),
    ("/clients/{client}/cases", {}),
    ("/cases/{case}/crisis", {"reason": ""}),
    ("/clients/{client}/access", {"reason": "Covering the crisis line tonight."}),
]


def fill(path: str, referral: dict) -> str:
    return path.format(task=referral["task_id"], client=referral["client_id"], case=referral["case_id"])


def test_release_is_for_the_holder_or_a_supervisor(staff, referral):
    intake = staff("intake")
    intake.post(f"/tasks/{referral['task_id']}/claim")
    for role in set(ROLES) - {"intake", "supervisor"}:
        assert staff(role).post(f"/tasks/{referral['task_id']}/release").status_code == 403, role
    assert staff("supervisor").post(f"/tasks/{referral['task_id']}/release").status_code == 302
    intake.post(f"/tasks/{referral['task_id']}/claim")
    assert intake.post(f"/tasks/{referral['task_id']}/release").status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_people_are_sent_to_sign_in_and_back(staff, referral, path):
    resp = staff().get(fill(path, referral))
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/?next=")


def test_signed_out_posts_go_to_sign_in(staff, referral):
    anonymous = staff()
    anonymous.token = __import__("ui_support").csrf_of(anonymous.get("/").get_data(as_text=True))
    for path, form in ACTIONS:
        resp = anonymous.post(fill(path, referral), form)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/"), path


@pytest.mark.parametrize("path, form", ACTIONS + [("/signout", {})], ids=[a[0] for a in ACTIONS] + ["/signout"])
def test_every_post_needs_the_csrf_token(staff, referral, path, form):
    supervisor = staff("supervisor")
    resp = supervisor.post(fill(path, referral), form, csrf=False)
    assert resp.status_code == 400
    assert "reload and try again" in resp.get_data(as_text=True)
    forged = supervisor.post(fill(path, referral), {**form, "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400


def test_sign_in_also_needs_the_csrf_token(staff):
    resp = staff().post("/", data={"username": "intake", "password": "demo"}, csrf=False)
    assert resp.status_code == 400


def test_navigation_shows_what_each_role_may_use(staff):
    for role in ROLES:
        html = staff(role).text("/inbox")
        nav = html.split('<nav aria-label="Main">')[1].split("</nav>")[0]
        assert ('href="/clients"' in nav) == (role in READERS), role
        assert ('href="/clients/new"' in nav) == (role in REGISTRARS), role
        assert ("All open work" in html) == (role == "supervisor"), role


def test_sign_in_lands_on_the_inbox_and_sign_out_ends_the_session(staff):
    person = staff()
    resp = person.signin("case_manager")
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"
    assert person.post("/signout").status_code == 302
    assert person.get("/inbox").status_code == 302


def test_wrong_password_is_refused_with_a_message_then_slowed_down(staff):
    person = staff()
    for _ in range(5):
        resp = person.signin("intake", "wrong")
        assert resp.status_code == 401 and "Wrong username or password" in resp.get_data(as_text=True)
    resp = person.signin("intake", "demo")
    assert resp.status_code == 429 and "Too many failed sign-ins" in resp.get_data(as_text=True)


def test_session_cookie_is_http_only_and_same_site(staff, app):
    person = staff()
    token = __import__("ui_support").csrf_of(person.get("/").get_data(as_text=True))
    resp = person.client.post("/", data={"csrf_token": token, "username": "intake", "password": "demo"})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_a_strict_content_security_policy(staff):
    resp = staff("intake").get("/inbox")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script>" not in resp.get_data(as_text=True) and " style=" not in resp.get_data(as_text=True)
