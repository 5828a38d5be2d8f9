"""Odd input from an attacker with a staff account (issue 11): redirects stay on this site, odd ids are 404
and NUL bytes 400 (never a 500), and the server log never carries what a form or a statement held."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from ui_support import StaffClient, csrf_of


def _signin_to(app, next_value: str, username: str = "intake"):
    person = StaffClient(app)
    token = csrf_of(person.get("/").get_data(as_text=True))
    return person.client.post(
        "/", query_string={"next": next_value}, data={"csrf_token": token, "username": username, "password": "demo"}
    )


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/ /evil.example",
        "javascript:alert(1)",
        "/\x00/evil",
        "http:/evil.example",
        "\t//evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(app, target):
    resp = _signin_to(app, target)
    assert resp.status_code in (302, 400), resp.status_code
    if resp.status_code == 302:
        assert resp.headers["Location"] == "/inbox"


def test_the_redirects_of_issue_11(app):
    resp = app.test_client().get("/?next=/%09/evil.example")
    assert resp.status_code == 200
    person = StaffClient(app)
    token = csrf_of(person.get("/").get_data(as_text=True))
    for raw in ("/%09/evil.example", "/%0a/evil.example", "/%0d%0aSet-Cookie:x=1"):
        resp = person.client.post(f"/?next={raw}", data={"csrf_token": token, "username": "intake", "password": "demo"})
        assert resp.status_code == 302 and resp.headers["Location"] == "/inbox", raw
        token = csrf_of(person.get("/inbox").get_data(as_text=True))
    assert StaffClient(app).get("/%0a/evil.example").status_code == 404
    assert _signin_to(app, "/clients?q=ana").headers["Location"] == "/clients?q=ana"  # same-site is kept


@pytest.mark.parametrize("number", [0, 2**31, 2**31 + 5, 2**63, 2**63 + 1, 2**64, 10**30])
def test_ids_out_of_range_are_404_never_500(api, staff, number):
    for path in (
        f"/api/v1/clients/{number}",
        f"/api/v1/cases/{number}",
        f"/api/v1/tasks/{number}",
        f"/api/v1/cases/{number}/events",
    ):
        assert api.get(path, "supervisor")[0] == 404, path
    assert api.post(f"/api/v1/tasks/{number}/complete", {"data": {}}, "intake")[0] == 404
    assert (
        api.post(f"/api/v1/cases/{number}/messages", {"name": "crisis_reported", "payload": {"reason": "x"}}, "intake")[
            0
        ]
        == 404
    )
    assert api.post("/api/v1/cases", {"client_id": number}, "intake")[0] in (400, 404)
    assert api.get(f"/api/v1/tasks?case_id={number}", "intake")[0] == 400
    supervisor = staff("supervisor")
    for path in (f"/clients/{number}", f"/cases/{number}", f"/tasks/{number}"):
        assert supervisor.get(path).status_code == 404, path


def test_nul_bytes_are_400_never_500(any_database_url, make_carepath):
    from carepath.web import create_app
    from support import ApiClient

    cp = make_carepath(any_database_url)
    app = create_app(carepath=cp)
    api = ApiClient(app.test_client(), cp)
    assert api.get("/api/v1/clients?q=lo%00pez", "supervisor")[0] == 400
    assert api.get("/api/v1/tasks?role=intake%00", "intake")[0] == 400
    assert api.get("/api/v1/tasks?pathway=%00", "intake")[0] == 400
    assert (
        api.post(
            "/api/v1/clients", {"given_name": "A\u0000", "family_name": "B", "birth_date": "1990-01-01"}, "intake"
        )[0]
        == 400
    )
    assert api.call("PATCH", "/api/v1/clients/1", "intake", {"phone\u0000": "1"})[0] == 400
    person = StaffClient(app, "supervisor")
    assert person.get("/clients?q=%00").status_code == 400
    assert person.get("/inbox?role=%00").status_code == 400
    assert (
        person.post(
            "/clients/new", {"given_name": "Nul\x00", "family_name": "B", "birth_date": "1990-01-01"}
        ).status_code
        == 400
    )


def test_an_unexpected_error_is_logged_without_its_message(app, caplog):
    """A real route added to the real app fails the way a database error would, quoting a record."""

    @app.get("/boom-for-test")
    def boom():
        try:
            raise ValueError("value 'SECRET-ANSWER' is not an integer")
        except ValueError as exc:
            raise RuntimeError("while saving SECRET-ANSWER") from exc

    caplog.set_level(logging.DEBUG)
    resp = app.test_client().get("/boom-for-test", headers={"Accept": "application/json"})
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
    assert "SECRET" not in caplog.text
    assert "builtins.ValueError" in caplog.text and "builtins.RuntimeError" in caplog.text
    assert "test_hardening.py" in caplog.text and "in boom" in caplog.text  # where it failed is kept


def test_statement_errors_carry_no_parameters(cp):
    with pytest.raises(Exception) as failed:
        with cp.db.begin() as session:
            session.execute(text("INSERT INTO no_such_table (x) VALUES (:secret)"), {"secret": "SECRET-ANSWER"})
    assert "SECRET" not in str(failed.value)
