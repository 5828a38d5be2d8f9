"""Clients: search, registration with contacts and a case manager, the client page, edits, new cases."""

from __future__ import annotations

import re

from sqlalchemy import select

from carepath.engine.models import Case, Client, HumanTask
from ui_support import form_data

NEW = {
    "given_name": "Lena",
    "family_name": "Okafor",
    "birth_date": "1992-04-30",
    "preferred_language": "Igbo",
    "phone": "555-0100",
    "contacts/0/name": "Ada Okafor",
    "contacts/0/relationship": "sister",
    "contacts/0/phone": "555-0101",
    "contacts/0/may_contact": "true",
    "contacts/1/name": "",
    "_open_case": "yes",
}


def test_search_finds_clients_by_name(staff, driver):
    driver.new_case("Maria", "Lopez")
    driver.new_case("James", "Carter")
    html = staff("supervisor").text("/clients?q=lop")
    assert "Lopez, Maria" in html and "Carter" not in html
    assert "1 client matching “lop”" in html
    assert "No client matches “zzz”." in staff("supervisor").text("/clients?q=zzz")


def test_register_a_client_with_family_contacts_and_open_a_case(staff, cp):
    supervisor = staff("supervisor")
    form = supervisor.text("/clients/new")
    assert '<label for="f-given_name">Given name</label>' in form and 'name="case_manager"' in form
    resp = supervisor.post("/clients/new", {**NEW, "case_manager": "case_manager"})
    assert resp.status_code == 302
    client_id = int(re.match(r"/clients/(\d+)$", resp.headers["Location"]).group(1))
    with cp.db() as session:
        client = session.get(Client, client_id)
        assert client.contacts == [
            {"name": "Ada Okafor", "relationship": "sister", "phone": "555-0101", "may_contact": True}
        ]
        assert client.preferred_language == "Igbo" and client.case_manager.username == "case_manager"
        case = session.scalar(select(Case).where(Case.client_id == client_id))
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
    assert [t.role for t in tasks] == ["intake"]  # intake started: the referral is in the intake queue
    html = supervisor.text(resp.headers["Location"])
    assert "Lena Okafor is registered." in html and "Ada Okafor" in html and "may be contacted" in html


def test_registration_errors_keep_every_answer(staff, cp):
    resp = staff("intake").post("/clients/new", {**NEW, "family_name": "", "birth_date": "2999-01-01"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "A birth date cannot be in the future." in html or 'id="f-family_name-error"' in html
    kept = form_data(html)
    assert kept["given_name"] == "Lena" and kept["contacts/0/name"] == "Ada Okafor" and kept["phone"] == "555-0100"
    with cp.db() as session:
        assert session.scalar(select(Client).where(Client.family_name == "Okafor")) is None


def test_missing_names_are_reported_at_their_fields(staff):
    resp = staff("intake").post("/clients/new", {"given_name": "", "family_name": "", "birth_date": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for name in ("given_name", "family_name", "birth_date"):
        assert f'id="f-{name}-error"' in html


def test_case_managers_register_but_do_not_assign_case_managers(staff):
    html = staff("case_manager").text("/clients/new")
    assert 'name="case_manager"' not in html


def test_client_page_shows_details_contacts_and_cases(staff, driver):
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    with driver.cp.db() as session:
        client_id = session.get(Case, case_id).client_id
    html = staff("quality").text(f"/clients/{client_id}")
    assert "Maria Lopez" in html and f'href="/cases/{case_id}"' in html
    assert "Edit details" not in html  # quality staff read, they do not change records
    assert "Open a new case" not in staff("intake").text(f"/clients/{client_id}")  # one is open


def test_edit_details_and_assign_a_case_manager(staff, driver, cp):
    case_id = driver.new_case("Maria", "Lopez")
    with cp.db() as session:
        client_id = session.get(Case, case_id).client_id
    supervisor = staff("supervisor")
    data = form_data(supervisor.text(f"/clients/{client_id}/edit"))
    assert data["given_name"] == "Maria"
    for key, value in {"phone": "555-0199", "case_manager": "case_manager", "preferred_language": ""}.items():
        data[key] = value
    resp = supervisor.post(f"/clients/{client_id}/edit", data)
    assert resp.status_code == 302
    with cp.db() as session:
        client = session.get(Client, client_id)
        assert client.phone == "555-0199" and client.case_manager.username == "case_manager"
        assert client.preferred_language is None  # emptied, so cleared


def test_open_a_new_case_when_none_is_open(staff, driver, cp):
    from carepath.engine import clients

    with cp.db.begin() as session:
        client = clients.create_client(
            session,
            driver.actors["intake"],
            {"given_name": "No", "family_name": "Case", "birth_date": "1980-01-01"},
            cp.clock.now(),
        )
    intake = staff("intake")
    assert "Open a new case" in intake.text(f"/clients/{client['id']}")
    resp = intake.post(f"/clients/{client['id']}/cases")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/cases/")
    resp = intake.post(f"/clients/{client['id']}/cases", follow_redirects=True)
    assert "already has an open case" in resp.get_data(as_text=True)


def test_unknown_client_is_a_friendly_404(staff):
    assert staff("intake").get("/clients/999999").status_code == 404
