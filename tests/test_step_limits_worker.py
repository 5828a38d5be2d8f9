"""The step limit in the worker: a timer whose following script loops, or whose next timer's expression
does, stops at the step's bound; the job becomes an incident at once (retrying would only burn the limit
again), nothing of the step is written, and the next sweep has nothing left to do. On both databases,
and on PostgreSQL no transaction is left open."""

from __future__ import annotations

from datetime import timedelta

import bpmn_fixtures as bf
import pytest
from hostile_code import LIMIT, SLACK, snapshot, warm_sandbox, within
from sqlalchemy import select, text, update

from carepath.engine.app import Carepath
from carepath.engine.models import TimerJob
from carepath.engine.settings import Settings
from carepath.engine.timers import Worker
from carepath.web import create_app
from support import ApiClient, CaseDriver, actors_of

WAIT = (
    '<bpmn:intermediateCatchEvent id="wait" name="Wait a day"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
)
THEN_LOOP = (
    '<bpmn:scriptTask id="x" name="Spin"><bpmn:script>while True: pass</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="x"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end"/>'
)
THEN_HOSTILE_TIMER = (
    '<bpmn:intermediateCatchEvent id="x" name="Wait again"><bpmn:timerEventDefinition>'
    "<bpmn:timeDuration>'P%dD' % sum(range(10**10))</bpmn:timeDuration>"
    '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="x"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end"/>'
)


def _pathway(process_id: str, after_wait: str) -> str:
    # `first` -> `wait` (a day) -> the hostile part; bf.pathway wires `first` to an element named `x`.
    text = bf.pathway(process_id, after=WAIT + after_wait, start_message=f"go_{process_id}")
    return text.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="first" targetRef="x"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="first" targetRef="wait"/>',
    )


@pytest.mark.parametrize(
    "after_wait,kind",
    [(THEN_LOOP, "time_limit"), (THEN_HOSTILE_TIMER, "time_limit")],
    ids=["script after the timer loops", "next timer expression loops"],
)
def test_the_worker_stops_a_hostile_step_and_makes_it_an_incident(after_wait, kind, any_database_url, clock):
    cp = Carepath(
        Settings(
            database_url=any_database_url,
            secret_key="test-secret-key",
            sync_library_on_start=False,
            step_time_limit=LIMIT,
        ),
        clock,
    )
    try:
        actors = actors_of(cp)
        driver = CaseDriver(cp, actors)
        bf.publish(cp, bf.files(waits=_pathway("waits", after_wait)))
        case_id = driver.new_case()
        cp.deliver_message(actors["case_manager"], case_id, "go_waits", {})
        cp.complete_task(actors["case_manager"], driver.task(case_id, "first").id, {"text": "go on"})
        with cp.db.begin() as session:
            # Only our timer is due in this sweep: the intake pathway's overdue escalations are set aside.
            session.execute(
                update(TimerJob)
                .where(TimerJob.case_id == case_id, TimerJob.kind != "bpmn_timer")
                .values(status="dropped")
            )
            job_id = session.scalar(
                select(TimerJob.id).where(TimerJob.case_id == case_id, TimerJob.status == "pending")
            )
        before = snapshot(cp, case_id)

        worker = Worker(cp)
        later = clock.now() + timedelta(days=2)
        warm_sandbox(cp)
        result, took = within(LIMIT + 15, lambda: worker.sweep(later))
        assert (result.fired, result.failed, result.incidents) == (0, 1, 1), result
        assert took < LIMIT + SLACK, f"the sweep took {took:.2f} s against a {LIMIT} s limit"

        after = snapshot(cp, case_id)
        assert {k: v for k, v in after.items() if k != "jobs"} == {k: v for k, v in before.items() if k != "jobs"}
        with cp.db() as session:
            job = session.get(TimerJob, job_id)
            assert job.status == "incident" and job.attempts == 1
            assert job.last_error.startswith(f"StepLimitExceeded: {kind} in waits at x")
            assert (
                session.scalars(select(TimerJob).where(TimerJob.case_id == case_id, TimerJob.status == "pending")).all()
                == []
            )

        api = ApiClient(create_app(carepath=cp).test_client(), cp)
        status, incidents = api.get("/api/v1/incidents", "admin")
        assert status == 200
        assert [(i["source"], i["id"]) for i in incidents] == [("timer_job", job_id)]
        again, quick = within(10, lambda: worker.sweep(later))
        # Nothing fired or failed, and the sweep did not spend the step's limit on the job again. (An empty sweep
        # takes a few milliseconds; on a machine loaded by the rest of the suite one took 0.76 s once, so the
        # bound is the limit itself, which is what a retried hostile step would cost.)
        assert (again.fired, again.failed) == (0, 0) and quick < LIMIT

        if cp.engine.dialect.name == "postgresql":
            with cp.engine.connect() as conn:
                idle = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state LIKE 'idle in transaction%'"
                    )
                ).scalar()
            assert idle == 0
    finally:
        cp.close()


def test_an_ordinary_failure_is_still_retried_before_it_becomes_an_incident(cp, driver, actors, clock):
    # Only a bound makes an incident at once; a script error keeps the retries with back-off.
    bf.publish(cp, bf.files(flaky=_pathway("flaky", THEN_LOOP.replace("while True: pass", "y = 1 / 0"))))
    case_id = driver.new_case()
    cp.deliver_message(actors["case_manager"], case_id, "go_flaky", {})
    cp.complete_task(actors["case_manager"], driver.task(case_id, "first").id, {"text": "go on"})
    result = Worker(cp).sweep(clock.now() + timedelta(days=2))
    assert (result.failed, result.incidents) == (1, 0) and result.errors[0].startswith("retry")
