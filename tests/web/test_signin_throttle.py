"""The sign-in throttle (engine/signin.py) on SQLite and PostgreSQL: guessing from one address is refused
with a growing back-off, guessing spread over addresses is slowed per account, parallel guesses queue, and
a stranger cannot lock a colleague out."""

from __future__ import annotations

import threading

import pytest

from carepath.engine.signin import Limits, account_delay, backoff
from ui_support import csrf_of

STRANGER, COLLEAGUE = "203.0.113.9", "198.51.100.7"  # documentation addresses: only REMOTE_ADDR strings here


@pytest.fixture
def app_cp(any_database_url, make_carepath):
    from carepath.web import create_app

    cp = make_carepath(any_database_url)
    app = create_app(carepath=cp)
    app.config.update(TESTING=True)
    return app, cp


class Browser:
    """One browser at one address."""

    def __init__(self, app, address: str):
        self.client, self.address = app.test_client(), address
        self.token = csrf_of(self.client.get("/", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))

    def signin(self, username: str, password: str):
        return self.client.post(
            "/",
            data={"csrf_token": self.token, "username": username, "password": password},
            environ_base={"REMOTE_ADDR": self.address},
        )


def test_a_stranger_cannot_lock_a_colleague_out(app_cp):
    app, cp = app_cp
    stranger = Browser(app, STRANGER)
    statuses = [stranger.signin("intake", f"guess-{i}").status_code for i in range(60)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    refused = stranger.signin("intake", "demo")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 30  # even the right one, there
    assert Browser(app, COLLEAGUE).signin("intake", "demo").status_code == 302  # …but not from elsewhere
    cp.clock.advance(seconds=30)
    assert stranger.signin("intake", "guess-61").status_code == 401  # one more try after the back-off
    resp = stranger.signin("intake", "guess-62")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) == 60  # then twice as long


def test_guessing_across_accounts_from_one_address_is_refused(app_cp):
    app, cp = app_cp
    stranger = Browser(app, STRANGER)
    for user in ("intake", "case_manager", "clinician", "crisis", "quality"):
        for i in range(4):  # under the per-account limit at this address
            assert stranger.signin(user, f"guess-{i}").status_code == 401
    assert stranger.signin("supervisor", "demo").status_code == 429  # 20 failures from this address
    assert Browser(app, COLLEAGUE).signin("supervisor", "demo").status_code == 302
    cp.clock.advance(seconds=30)
    assert stranger.signin("supervisor", "demo").status_code == 302


def test_guessing_spread_over_addresses_is_slowed_for_that_account_never_refused(app_cp):
    app, cp = app_cp
    for n in range(6):
        attacker = Browser(app, f"203.0.113.{20 + n}")
        for i in range(5):
            assert attacker.signin("quality", f"guess-{n}-{i}").status_code == 401
    before = getattr(cp.clock, "slept", 0.0)
    assert Browser(app, COLLEAGUE).signin("quality", "demo").status_code == 302
    assert getattr(cp.clock, "slept", 0.0) - before == Limits().account_delay_max  # waited, then let in


def test_parallel_guesses_queue_and_only_five_passwords_are_checked(app_cp):
    app, _cp = app_cp
    browsers = [Browser(app, STRANGER) for _ in range(24)]
    start = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def guess(browser, i):
        start.wait()
        statuses.append(browser.signin("case_manager", f"parallel-{i}").status_code)

    threads = [threading.Thread(target=guess, args=(b, i)) for i, b in enumerate(browsers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [401] * 5 + [429] * 19


def test_back_off_and_delay_grow_and_are_bounded():
    assert [backoff(n) for n in range(7)] == [30, 60, 120, 240, 480, 900, 900]
    limits = Limits()
    assert [account_delay(n, limits) for n in (0, 5, 6, 9, 40)] == [0, 0, 0.25, 1.0, 2.0]


def test_quiet_keys_are_forgotten(app_cp):
    from sqlalchemy import select

    from carepath.engine.access_models import SigninThrottle

    app, cp = app_cp
    Browser(app, STRANGER).signin("intake", "wrong")
    cp.clock.advance(hours=1)
    assert Browser(app, COLLEAGUE).signin("intake", "demo").status_code == 302
    with cp.db() as session:
        keys = set(session.scalars(select(SigninThrottle.key)))
    assert not any(STRANGER in k for k in keys) and any(COLLEAGUE in k for k in keys)
