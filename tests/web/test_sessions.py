"""Sessions and tokens that end (engine/signin.py, engine/people.py), on SQLite and PostgreSQL: sign-out ends
the session on the server, a disabled account stops at once, tokens expire and can be revoked, idle sessions
time out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carepath.engine.models import User
from ui_support import StaffClient


@pytest.fixture
def world(any_database_url, make_carepath):
    from carepath.web import create_app
    from support import ApiClient

    cp = make_carepath(any_database_url)
    app = create_app(carepath=cp)
    app.config.update(TESTING=True)
    return cp, app, ApiClient(app.test_client(), cp)


def _copy_cookie(person: StaffClient, app) -> StaffClient:
    """Another browser holding a copy of the person's session cookie (captured, say, from a shared machine)."""
    thief = StaffClient(app)
    cookie = person.client.get_cookie("carepath_session")
    thief.client.set_cookie("carepath_session", cookie.value)
    return thief


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(world):
    cp, app, _api = world
    person = StaffClient(app, "case_manager")
    thief = _copy_cookie(person, app)
    assert thief.get("/inbox").status_code == 200  # the copy works while the session lives
    assert person.post("/signout").status_code == 302
    assert thief.get("/inbox").status_code == 302  # …and stops when its owner signs out
    assert thief.get("/api/v1/me").status_code == 401  # cookies never open the API


def test_disabling_a_user_ends_sessions_and_tokens_at_once(world):
    cp, app, api = world
    person = StaffClient(app, "clinician")
    assert api.get("/api/v1/me", "clinician")[0] == 200
    done = cp.set_user_active("clinician", False)
    assert done == {"user": "clinician", "active": False, "sessions_ended": 1, "tokens_revoked": 1}
    assert person.get("/inbox").status_code == 302
    assert api.get("/api/v1/me", "clinician")[0] == 401
    assert StaffClient(app).signin("clinician").status_code == 401
    cp.set_user_active("clinician", True)
    assert person.get("/inbox").status_code == 302  # what was ended stays ended
    assert api.get("/api/v1/me", "clinician")[0] == 401
    assert StaffClient(app).signin("clinician").status_code == 302


def test_idle_sessions_time_out_and_every_session_ends_in_the_end(world):
    cp, app, _api = world
    person = StaffClient(app, "intake")
    cp.clock.advance(minutes=29)
    assert person.get("/inbox").status_code == 200  # activity keeps it alive
    cp.clock.advance(minutes=29)
    assert person.get("/inbox").status_code == 200
    cp.clock.advance(minutes=31)
    resp = person.get("/inbox")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/?next=")
    busy, start = StaffClient(app, "intake"), cp.clock.now()
    while busy.get("/inbox").status_code == 200:
        cp.clock.advance(minutes=15)
        assert cp.clock.now() - start <= timedelta(hours=12)
    assert cp.clock.now() - start == timedelta(hours=12)  # at most 12 hours, however busy


def test_tokens_expire_and_can_be_listed_and_revoked(world):
    cp, app, api = world
    token_id, token = cp.issue_token("quality", days=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 200
    listed = cp.list_tokens("quality")
    assert [(t["id"], t["status"]) for t in listed] == [(token_id, "active")]
    assert "cp_" not in str(listed)
    cp.clock.advance(days=1)
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 401
    assert cp.list_tokens("quality")[0]["status"] == "expired"
    second_id, second = cp.issue_token("quality")
    assert cp.list_tokens("quality")[0]["expires_at"] == (cp.clock.now() + timedelta(days=30)).isoformat()
    cp.revoke_token(second_id)
    assert api.call("GET", "/api/v1/me", headers={"Authorization": f"Bearer {second}"})[0] == 401
    assert cp.list_tokens("quality")[0]["status"] == "revoked"


def test_a_password_hashed_before_argon2id_still_signs_in_and_is_upgraded(world):
    import hashlib

    cp, app, _api = world
    salt = bytes(16)
    digest = hashlib.scrypt(b"old-password", salt=salt, dklen=32, n=2**14, r=8, p=1).hex()
    with cp.db.begin() as session:
        session.scalar(
            select(User).where(User.username == "crisis")
        ).password_hash = f"scrypt$16384$8$1${salt.hex()}${digest}"
    assert StaffClient(app).signin("crisis", "old-password").status_code == 302
    with cp.db() as session:
        assert session.scalar(select(User.password_hash).where(User.username == "crisis")).startswith("$argon2id$")
    assert StaffClient(app).signin("crisis", "old-password").status_code == 302


def test_a_token_acts_with_every_role_of_its_holder_and_stops_when_the_account_is_switched_off(world):
    """The token, its holder and the holder's roles are read together on every request: a second role
    counts at once, and so does an account made inactive in the database without its tokens revoked."""
    cp, app, api = world
    cp.add_user("dual", ["intake", "clinician"], None)
    _, token = cp.issue_token("dual")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.call("GET", "/api/v1/me", headers=headers) == (
        200,
        {"username": "dual", "roles": ["clinician", "intake"]},
    )
    with cp.db.begin() as session:
        session.scalar(select(User).where(User.username == "dual")).active = False
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 401


def test_a_tokens_last_use_is_kept_to_the_nearest_five_minutes(world):
    """Every request does not write: the last use moves when it is more than five minutes old."""
    cp, app, api = world
    token_id, token = cp.issue_token("quality")
    headers = {"Authorization": f"Bearer {token}"}
    assert cp.list_tokens("quality")[0]["last_used_at"] is None
    first_use = cp.clock.now()
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 200
    cp.clock.advance(minutes=4)
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 200
    assert cp.list_tokens("quality")[0]["last_used_at"] == first_use.isoformat()
    cp.clock.advance(minutes=2)
    assert api.call("GET", "/api/v1/me", headers=headers)[0] == 200
    assert cp.list_tokens("quality")[0]["last_used_at"] == cp.clock.now().isoformat()
