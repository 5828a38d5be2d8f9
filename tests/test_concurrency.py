"""Many people completing the same task at once: one wins, everyone else gets 409, and the pathway
moves on exactly once. On PostgreSQL (real row locks) and on SQLite (its write lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from carepath.engine.form_samples import valid_sample
from carepath.engine.models import Event, HumanTask
from support import ApiClient

THREADS = 20


def _race(app, cp, task_id: int, data: dict, user: str) -> list[tuple[int, dict]]:
    api = ApiClient(app.test_client(), cp)
    token = api.token(user)
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def attempt():
        client = app.test_client()  # one client per thread, like separate browsers
        barrier.wait()
        resp = client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers={"Authorization": f"Bearer {token}"}
        )
        with lock:
            results.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_twenty_people_complete_one_task(backend, request, make_carepath):
    from carepath.web import create_app
    from support import CaseDriver, actors_of

    url = request.getfixturevalue("postgres_url" if backend == "postgres" else "sqlite_url")
    cp = make_carepath(url)
    app = create_app(carepath=cp)
    driver = CaseDriver(cp, actors_of(cp))
    case_id = driver.new_case()
    task = driver.task(case_id, "record_referral")
    data = valid_sample(driver.form_schema(task))

    results = _race(app, cp, task.id, data, "intake")

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    assert all(body["error"]["code"] in ("task_not_open", "conflict") for status, body in results if status == 409)
    winner = next(body for status, body in results if status == 200)
    with cp.db() as session:
        follow_ups = session.scalars(
            select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.status == "open")
        ).all()
        completions = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.case_id == case_id, Event.activity == "record_referral", Event.lifecycle == "completed")
        )
    # One set of follow-up tasks (the winner's), not twenty.
    assert winner["next_tasks"] and sorted(follow_ups) == sorted(t["id"] for t in winner["next_tasks"])
    assert completions == 1
