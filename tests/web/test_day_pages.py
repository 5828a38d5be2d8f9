"""A case manager's day on the staff pages: contacts, drafts without JavaScript, the duplicate warning, the
caseload and week, client copies, crisis details beside crisis work, and the inbox's landing and names."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from carepath.engine.models import Client, Contact, HumanTask, User
from ui_support import POSITIVE_ASQ, add_user, form_data


def _contact_form(**extra) -> dict:
    return {
        "at": "2026-03-02T08:30",
        "minutes": "35",
        "modality": "home_visit",
        "with_whom": "Client and mother",
        "note": "Went through the rent arrears letter.",
        **extra,
    }


def test_a_contact_is_recorded_from_the_case_file_shown_on_the_timeline_then_amended(staff, referral, cp):
    cm = staff("case_manager")
    case = referral["case_id"]
    refused = cm.post(f"/cases/{case}/contacts", _contact_form(minutes="half an hour", modality=""))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="error-summary"' in html and "Choose how the contact took place" in html
    assert "Went through the rent arrears letter." in html  # what was typed stays
    resp = cm.post(f"/cases/{case}/contacts", _contact_form())
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{case}"
    timeline = cm.text(f"/cases/{case}").split('id="contacts"')[1].split("</section>")[0]
    assert "Home visit contact</a>, 35 min with Client and mother" in timeline
    contact_url = "/contacts/" + timeline.split('href="/contacts/')[1].split('"')[0]
    assert "Edit this contact" in cm.text(contact_url)
    assert "Edit this contact" not in staff("supervisor").text(contact_url)
    with cp.db.begin() as session:  # a day later (moving the clock would end the sign-in too)
        session.execute(update(Contact).values(created_at=cp.clock.now() - timedelta(hours=25)))
    page = cm.text(contact_url)
    assert "Amend this contact" in page
    no_reason = cm.post(contact_url, _contact_form(minutes="40"))
    assert no_reason.status_code == 422 and "say why you amend it" in no_reason.get_data(as_text=True)
    assert cm.post(contact_url, _contact_form(minutes="40", reason="Travel time left out")).status_code == 302
    history = cm.text(contact_url)
    assert "“Travel time left out”" in history and "Before: 35 minutes" in history


def test_the_billing_csv_streams_one_staff_members_period(staff, referral):
    staff("case_manager").post(f"/cases/{referral['case_id']}/contacts", _contact_form())
    sup = staff("supervisor")
    assert "Download the CSV" in sup.text("/contacts/billing")
    resp = sup.get("/contacts/billing?from=2026-03-01&to=2026-03-02&staff=case_manager")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).splitlines()
    assert lines[0].startswith("contact_id,date") and ",35,home_visit,case_manager," in lines[1]
    assert "rent arrears" not in resp.get_data(as_text=True)
    assert sup.get("/contacts/billing?from=2026-03-05&to=2026-03-01").status_code == 400


def test_save_draft_without_javascript_restores_and_goes_on_completion(staff, referral, driver):
    intake = staff("intake")
    url = f"/tasks/{referral['task_id']}"
    fields = form_data(intake.text(url), "task-form")
    text_field = next(k for k in fields if k not in ("csrf_token",) and not k.startswith("_"))
    fields[text_field] = "Typed before the phone rang"
    resp = intake.post(f"{url}/draft", fields)
    assert resp.status_code == 302 and resp.headers["Location"] == url
    page = intake.text(url)
    assert "Your draft from" in page and "Typed before the phone rang" in page
    assert "Typed before the phone rang" not in staff("supervisor").text(url)  # drafts are per person
    driver.complete((referral["case_id"], "record_referral"))
    assert "Typed before the phone rang" not in intake.text(url)


def test_registering_the_same_person_twice_warns_and_links_only_what_one_may_open(staff, cp):
    maria = {"given_name": "Maria", "family_name": "Lopez", "birth_date": "1987-03-14"}
    cm = staff("case_manager")
    assert cm.post("/clients/new", maria).status_code == 302
    warned = cm.post("/clients/new", {**maria, "given_name": "María"}).get_data(as_text=True)
    assert "This person may already be registered" in warned and 'href="/clients/' in warned
    add_user(cp, "cm2", ["case_manager"])
    other = staff("cm2").post("/clients/new", maria).get_data(as_text=True)
    assert "This person may already be registered" in other and "Maria Lopez</a>" not in other
    assert "Ask a supervisor" in other or "Ask their case manager" in other
    assert staff("cm2").post("/clients/new", {**maria, "_not_duplicate": "yes"}).status_code == 302


def test_caseload_and_week_list_my_clients_and_due_work(staff, driver, cp):
    case_id = driver.new_case("Ana", "Aguilar", case_manager="case_manager")
    driver.new_case("Bo", "Elsewhere")
    cm = staff("case_manager")
    cm.post(f"/cases/{case_id}/contacts", _contact_form())
    html = cm.text("/caseload")
    assert "Ana Aguilar" in html and "Bo Elsewhere" not in html and "Mon 2 Mar 2026" in html
    week = cm.text("/caseload/week?start=2026-03-02")
    assert "Monday 2 March" in week and "Sunday 8 March" in week


def test_plans_read_as_lists_with_dates_in_words_and_print_as_client_copies(staff, task_with_form, driver):
    task = task_with_form("safety_plan", POSITIVE_ASQ)
    driver.complete(
        task,
        {
            "warning_signs": ["Not sleeping", "Giving things away"],
            "help_contacts": [{"name": "Rosa (sister)", "phone": "555-0101"}],
        },
    )
    client_id = task.client_id
    copy = staff("supervisor").text(f"/clients/{client_id}/documents/safety-plan")
    assert "Step 1: Warning signs" in copy and "Not sleeping" in copy and "Rosa (sister) — " in copy
    assert "Step 6: Making the environment safe" in copy and "data-print" in copy
    case = staff("supervisor").text(f"/cases/{task.case_id}")
    assert '<ul class="answer-list"><li>Not sleeping</li>' in case
    assert staff("supervisor").get(f"/clients/{client_id}/documents/nothing").status_code == 404


def test_crisis_work_shows_phone_address_contacts_and_the_risk_follows_the_crisis(staff, driver, crisis_ready):
    case_id = driver.new_case("Cris", "Isaacs", case_manager="case_manager")
    with crisis_ready.db.begin() as session:
        session.execute(
            update(Client).values(
                phone="555-0142",
                address="12 Elm Street",
                contacts=[{"name": "Dana Isaacs", "relationship": "sister", "phone": "555-0143"}],
            )
        )
    staff("case_manager").post(f"/cases/{case_id}/crisis", {"reason": "Called saying they cannot stay safe"})
    task = next(t for t in driver.open_tasks(case_id) if t.role == "crisis")
    page = staff("crisis").text(f"/tasks/{task.id}")
    context = page.split('class="context"')[1].split("</aside>")[0]
    assert "555-0142" in context and "12 Elm Street" in context and "Dana Isaacs" in context
    assert "Active crisis" in context and "Not assessed yet" not in context
    assert "Active crisis" in staff("case_manager").text(f"/cases/{case_id}")


def test_queue_roles_land_on_the_team_queue_and_people_are_named(staff, cp, driver, referral):
    landing = staff("intake").text("/inbox")
    assert '<input type="hidden" name="view" value="team">' in landing
    assert '<input type="hidden" name="view" value="mine">' in staff("case_manager").text("/inbox")
    with cp.db.begin() as session:
        session.execute(update(User).where(User.username == "intake").values(display_name="Ida Intake"))
        session.execute(
            update(HumanTask)
            .where(HumanTask.id == referral["task_id"])
            .values(assignee_id=select(User.id).where(User.username == "intake").scalar_subquery())
        )
    driver.new_case("Maria", "Lopez", birth_date="1990-01-01", case_manager="case_manager")
    html = staff("supervisor").text("/inbox?view=all")
    assert "Ida Intake" in html
    assert f"(client {referral['client_id']})" in html  # two Maria Lopez rows told apart
