"""The pathway library's pages through Flask's test client: each route's roles, CSRF, the editors' save and
preview endpoints, a refused save writing nothing, an upload over the limit, the safety gate's page, roll back."""

from __future__ import annotations

import io
import json

import foreign_diagrams as F
import pytest

from authoring_support import (
    DueTimeGate,
    due_of_record_referral,
    with_record_referral_due,
    without_due_on_record_referral,
)
from carepath.engine.models import ROLES
from support import actors_of

LIBRARY = {"admin", "supervisor", "quality"}


@pytest.fixture
def draft(cp):
    """A draft of intake, started by admin."""
    return cp.start_draft(actors_of(cp)["admin"], "intake")


PAGES = [
    ("/pathways/", LIBRARY),
    ("/pathways/intake", LIBRARY),
    ("/pathways/intake/versions/1", LIBRARY),
    ("/pathways/intake/versions/1/files/intake.bpmn", LIBRARY),
    ("/pathways/intake/versions/1/export.zip", LIBRARY),
    ("/pathways/intake/compare?from=1&to=1", LIBRARY),
    ("/pathways/drafts/{draft}", LIBRARY),
    ("/pathways/drafts/{draft}/files/intake.bpmn", LIBRARY),
    ("/pathways/drafts/{draft}/edit/intake.bpmn", {"admin"}),
    ("/pathways/drafts/{draft}/edit/referral.schema.json", {"admin"}),
    ("/pathways/import", {"admin"}),
]


@pytest.mark.parametrize("path,allowed", PAGES)
def test_each_page_answers_only_its_roles(staff, draft, path, allowed):
    for role in ROLES:
        resp = staff(role).get(path.format(draft=draft))
        assert resp.status_code == (200 if role in allowed else 403), (role, path, resp.status_code)
    assert staff().get(path.format(draft=draft)).status_code == 302  # signed out: to sign in


def test_posts_need_the_csrf_token(staff, draft):
    admin = staff("admin")
    for path in ("/pathways/intake/drafts", f"/pathways/drafts/{draft}/submit", "/pathways/intake/versions/1/rollback"):
        assert admin.post(path, {}, csrf=False).status_code == 400, path
    resp = admin.client.post(f"/pathways/drafts/{draft}/save", json={"files": {"x.bpmn": "<x/>"}})
    assert resp.status_code == 400


def _save(client, draft, files):
    return client.client.post(
        f"/pathways/drafts/{draft}/save", json={"files": files}, headers={"X-CSRFToken": client.token}
    )


def test_a_save_answers_with_findings_and_a_refused_one_writes_nothing(staff, cp, draft):
    admin = staff("admin")
    bpmn = cp.draft_file(actors_of(cp)["admin"], draft, "intake.bpmn")
    resp = _save(admin, draft, {"intake.bpmn": with_record_referral_due(bpmn, "P3D")})
    assert resp.status_code == 200
    assert resp.get_json() == {"saved": True, "refused": [], "findings": [], "pathways": ["intake"]}
    resp = _save(admin, draft, {"intake.bpmn": F.XXE})
    body = resp.get_json()
    assert resp.status_code == 422 and body["saved"] is False and "DOCTYPE" in body["refused"][0]["message"]
    assert due_of_record_referral(cp.draft_file(actors_of(cp)["admin"], draft, "intake.bpmn")) == "P3D"  # it stands
    assert _save(admin, draft, {"intake.bpmn": 7}).status_code == 400
    assert _save(staff("supervisor"), draft, {"intake.bpmn": bpmn}).status_code == 403


def test_only_the_author_edits_a_draft(staff, cp, draft):
    from ui_support import add_user

    add_user(cp, "admin2", ["admin"])
    other = staff("admin2")
    assert _save(other, draft, {"intake.bpmn": "<x/>"}).status_code == 403
    page = other.get(f"/pathways/drafts/{draft}/edit/intake.bpmn").get_data(as_text=True)
    assert "Save to the draft" not in page and "written by admin" in page


def test_the_form_preview_is_the_task_page_renderer(staff):
    admin = staff("admin")
    schema = {
        "type": "object",
        "title": "Follow-up call",
        "properties": {
            "reached": {"type": "boolean", "title": "Was the client reached?"},
            "notes": {"type": "string", "title": "Notes", "maxLength": 500},
        },
        "required": ["reached"],
    }
    resp = admin.client.post(
        "/pathways/forms/preview", json={"schema": json.dumps(schema), "ui": ""}, headers={"X-CSRFToken": admin.token}
    )
    html = resp.get_json()["html"]
    assert 'name="reached"' in html and "Was the client reached?" in html and "Notes" in html
    resp = admin.client.post(
        "/pathways/forms/preview", json={"schema": "{not json", "ui": ""}, headers={"X-CSRFToken": admin.token}
    )
    assert resp.get_json()["html"] is None and "not valid JSON" in resp.get_json()["findings"][0]["message"]
    assert staff("quality").client.post("/pathways/forms/preview", json={}).status_code in (400, 403)


def test_an_upload_over_the_limit_gets_the_findings_page(staff, cp):
    admin = staff("admin")
    before = len(cp.pathway_library(actors_of(cp)["admin"])["drafts"])
    # The body is built here as bytes: the test client would spool a large file to an unclosed temp file.
    boundary = "carepath-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{admin.token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bpmn"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * 4_300_000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    resp = admin.client.post("/pathways/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 413 and "larger than 4 MB" in resp.get_data(as_text=True)
    resp = admin.post(
        "/pathways/import",
        {"files": (io.BytesIO(F.BILLION_LAUGHS.encode()), "lolz.bpmn")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "Nothing was imported" in resp.get_data(as_text=True)
    assert len(cp.pathway_library(actors_of(cp)["admin"])["drafts"]) == before


def test_the_safety_gate_page_shows_each_violation_and_asks_for_a_reason(staff, cp, draft):
    cp.safety_gate = DueTimeGate()
    admin, supervisor = staff("admin"), staff("supervisor")
    bpmn = cp.draft_file(actors_of(cp)["admin"], draft, "intake.bpmn")
    _save(admin, draft, {"intake.bpmn": without_due_on_record_referral(bpmn)})
    admin.post(f"/pathways/drafts/{draft}/submit", {"title": "No deadline on recording a referral"})
    resp = supervisor.post(f"/pathways/drafts/{draft}/approve", {})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "found 1 safety problem" in page and "user task record_referral: no dueIn" in page
    assert 'name="accept_risk"' in page
    assert "found 1 safety problem" in supervisor.text(f"/pathways/drafts/{draft}")  # kept with the draft
    resp = supervisor.post(f"/pathways/drafts/{draft}/approve", {"accept_risk": "Tracked daily by the lead"})
    assert resp.status_code == 302
    page = supervisor.text(f"/pathways/drafts/{draft}")
    assert "Published" in page and "A safety risk was accepted: “Tracked daily by the lead”" in page


def test_roll_back_from_the_pathway_page(staff, cp, draft):
    admin = staff("admin")
    bpmn = cp.draft_file(actors_of(cp)["admin"], draft, "intake.bpmn")
    _save(admin, draft, {"intake.bpmn": with_record_referral_due(bpmn, "P4D")})
    admin.post(f"/pathways/drafts/{draft}/submit", {"title": "Four days to record a referral"})
    assert staff("supervisor").post(f"/pathways/drafts/{draft}/approve", {}).status_code == 302
    resp = admin.post("/pathways/intake/versions/1/rollback", {"reason": "short"})
    assert resp.status_code == 302  # back to the page, with the reason's message
    assert "at least 10 characters" in admin.text("/pathways/intake")
    resp = admin.post("/pathways/intake/versions/1/rollback", {"reason": "Four days was a mistake"})
    assert resp.status_code == 302
    page = admin.text("/pathways/intake")
    assert "published again as version 3" in page and "Roll back to version 1: Four days was a mistake" in page
    assert staff("quality").post("/pathways/intake/versions/1/rollback", {"reason": "x" * 20}).status_code == 403
