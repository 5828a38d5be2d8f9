"""Time in pathways: timers fire when due and not before, overdue work escalates to the supervisor
without leaving its owner, the worker never fires a job twice, and failing jobs become incidents."""

from __future__ import annotations

from datetime import UTC, timedelta

import bpmn_fixtures as bf
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from carepath.engine.models import Event, HumanTask, PathwayInstance, TimerJob
from carepath.engine.timers import MAX_ATTEMPTS, Worker, list_incidents, retry_incident


@pytest.fixture
def cp(make_carepath, any_database_url):
    """Every test here runs on SQLite and on PostgreSQL: the worker's guard and a new task's overdue job are
    written differently on each (one statement each on PostgreSQL: engine/step_reads.py, engine/projection.py)."""
    return make_carepath(any_database_url)


WAIT_THEN_TASK = (
    '<bpmn:intermediateCatchEvent id="x" name="Wait two days"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    "</bpmn:intermediateCatchEvent>" + bf.user_task("after_wait", "After the wait") + '<bpmn:endEvent id="end"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="after_wait"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="after_wait" targetRef="end"/>'
)


def _waiting_case(cp, driver) -> int:
    """A case whose `waiting` instance sits on its two-day timer."""
    case_id, first = bf.started(cp, driver, "waiting", WAIT_THEN_TASK, extra_lane_nodes=["after_wait"])
    driver.complete(first, {"text": "started"})
    return case_id


def _open(cp, case_id, pathway=None):
    with cp.db() as session:
        stmt = select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")
        if pathway:
            stmt = stmt.where(HumanTask.process_id == pathway)
        return list(session.scalars(stmt.order_by(HumanTask.id)))


def test_a_bpmn_timer_fires_when_due_and_not_before(cp, driver, clock):
    case_id = _waiting_case(cp, driver)
    started = clock.now()
    worker = Worker(cp)

    worker.sweep(started + timedelta(days=2) - timedelta(seconds=1))
    assert [t.bpmn_id for t in _open(cp, case_id, "waiting")] == []
    assert _timer_events(cp, case_id) == []

    worker.sweep(started + timedelta(days=2))
    assert [t.bpmn_id for t in _open(cp, case_id, "waiting")] == ["after_wait"]
    assert _timer_events(cp, case_id) == ["x"]
    worker.sweep(started + timedelta(days=2))  # the same instant again: nothing more
    assert _timer_events(cp, case_id) == ["x"]
    assert len(_open(cp, case_id, "waiting")) == 1


def _timer_events(cp, case_id):
    with cp.db() as session:
        return session.scalars(
            select(Event.activity).where(
                Event.case_id == case_id, Event.process_id == "waiting", Event.lifecycle == "timer_fired"
            )
        ).all()


def test_overdue_task_escalates_to_the_supervisor_and_stays_with_its_owner(cp, driver, clock):
    case_id = driver.new_case()
    referral = driver.task(case_id, "record_referral")
    assert referral.due_at == clock.now() + timedelta(days=1)
    worker = Worker(cp)

    assert worker.sweep(referral.due_at - timedelta(minutes=1)).fired == 0
    assert worker.sweep(referral.due_at).fired == 1
    tasks = {t.role: t for t in _open(cp, case_id)}
    assert set(tasks) == {"intake", "supervisor"}
    assert tasks["intake"].id == referral.id  # the overdue task is still open, with its owner
    assert tasks["supervisor"].process_id == "overdue_escalation"

    before = len(_open(cp, case_id))
    assert worker.sweep(referral.due_at).fired == 0
    assert worker.sweep(referral.due_at + timedelta(days=30)).fired == 0  # the review itself never escalates
    assert len(_open(cp, case_id)) == before


def test_completing_a_task_drops_its_escalation(cp, driver, clock):
    case_id = driver.new_case()
    referral = driver.task(case_id, "record_referral")
    clock.advance(hours=2)
    opened = driver.complete(referral)
    with cp.db() as session:
        job = session.scalar(select(TimerJob).where(TimerJob.human_task_id == referral.id))
        next_due = min(session.get(HumanTask, i).due_at for i in opened)
    assert job.status == "dropped"
    assert next_due > referral.due_at
    assert Worker(cp).sweep(referral.due_at + timedelta(minutes=1)).fired == 0


def test_worker_cli_fires_once_for_the_same_instant(cp, driver, monkeypatch):
    from carepath.web.cli import cli

    case_id = driver.new_case()
    due = driver.task(case_id, "record_referral").due_at
    monkeypatch.setenv("CAREPATH_DATABASE_URL", cp.settings.database_url)
    runner = CliRunner()
    at = (due + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = runner.invoke(cli, ["worker", "--once", "--now", at])
    assert first.exit_code == 0 and "fired 1 job(s)" in first.output
    second = runner.invoke(cli, ["worker", "--once", "--now", at])
    assert second.exit_code == 0 and "fired 0 job(s)" in second.output
    assert {t.role for t in _open(cp, case_id)} == {"intake", "supervisor"}
    bad = runner.invoke(cli, ["worker", "--once", "--now", "next tuesday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output and "Traceback" not in bad.output


def test_a_failing_job_is_retried_then_becomes_an_incident_an_admin_can_retry(cp, driver, actors, clock):
    broken = (
        '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        '<bpmn:scriptTask id="broken" name="Broken script"><bpmn:script>ratio = 1 / zero</bpmn:script>'
        '</bpmn:scriptTask><bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="broken"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="broken" targetRef="end"/>'
    )
    case_id, first = bf.started(cp, driver, "fragile", broken)
    driver.complete(first, {"text": "go"})
    real = [clock.now()]
    worker = Worker(cp, real_now=lambda: real[0])
    when = clock.now() + timedelta(days=2)

    for _attempt in range(1, MAX_ATTEMPTS + 1):
        result = worker.sweep(when)
        assert result.failed == 1
        assert worker.sweep(when).failed == 0  # backing off: not retried at once
        real[0] += timedelta(hours=1)
    assert result.incidents == 1
    with cp.db() as session:
        incidents = list_incidents(session)
        instance = session.scalar(select(PathwayInstance).where(PathwayInstance.process_id == "fragile"))
    # The incident names the error's types, never its message (which may quote a record; admins read none).
    assert len(incidents) == 1 and incidents[0]["error"].endswith("NameError")
    assert instance.status == "running"  # nothing half-written: still waiting on its timer
    assert worker.sweep(when + timedelta(days=1)).failed == 0  # incidents are left alone

    fixed = broken.replace("ratio = 1 / zero", "ratio = 1")
    bf.publish(cp, bf.files(fragile=bf.pathway("fragile", after=fixed, start_message="go_fragile")))
    with cp.db.begin() as session:
        retry_incident(session, incidents[0]["id"])
    # The running instance keeps its version: retrying still fails, and says so again.
    assert worker.sweep(when).failed == 1


@pytest.mark.postgres
def test_two_workers_racing_over_a_thousand_jobs_fire_each_once(postgres_url, make_carepath):
    import threading

    from support import CaseDriver, actors_of

    cp = make_carepath(postgres_url)
    _waiting_case(cp, CaseDriver(cp, actors_of(cp)))
    _clone_waiting_instances(cp, count=999)
    with cp.db() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(TimerJob)
                .where(TimerJob.status == "pending", TimerJob.kind == "bpmn_timer")
            )
            == 1000
        )
    when = cp.clock.now() + timedelta(days=3)
    with cp.db() as session:  # the 1000 timers, and the intake task that is overdue by then
        due = session.scalar(
            select(func.count()).select_from(TimerJob).where(TimerJob.status == "pending", TimerJob.due_at <= when)
        )
    assert due == 1001
    workers = [Worker(make_carepath(postgres_url), worker_id=f"w{i}", batch=20) for i in range(2)]
    results = [None, None]

    def run(i):
        results[i] = workers[i].sweep(when)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)

    assert results[0].fired + results[1].fired == due
    assert results[0].fired > 0 and results[1].fired > 0  # both did work
    assert results[0].failed == results[1].failed == 0
    with cp.db() as session:
        fired = session.execute(
            select(Event.instance_id, func.count())
            .where(Event.lifecycle == "timer_fired", Event.process_id == "waiting")
            .group_by(Event.instance_id)
        ).all()
        after_wait = session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.bpmn_id == "after_wait", HumanTask.status == "open")
        )
        pending = session.scalar(
            select(func.count())
            .select_from(TimerJob)
            .where(TimerJob.status == "pending", TimerJob.kind == "bpmn_timer")
        )
    assert len(fired) == 1000 and {n for _, n in fired} == {1}
    assert after_wait == 1000 and pending == 0


def _clone_waiting_instances(cp, count: int) -> None:
    """Copies of one waiting instance, each with its own timer job: a thousand due timers, quickly."""
    from sqlalchemy import insert

    with cp.db.begin() as session:
        source = session.scalar(select(PathwayInstance).where(PathwayInstance.process_id == "waiting"))
        job = session.scalar(select(TimerJob).where(TimerJob.instance_id == source.id))
        for _ in range(count):
            new_id = session.execute(
                insert(PathwayInstance)
                .values(
                    case_id=source.case_id,
                    pathway_version_id=source.pathway_version_id,
                    process_id="waiting",
                    status="running",
                    state=source.state,
                    version=1,
                    started_at=source.started_at,
                )
                .returning(PathwayInstance.id)
            ).scalar_one()
            session.add(
                TimerJob(
                    kind="bpmn_timer",
                    instance_id=new_id,
                    case_id=source.case_id,
                    due_at=job.due_at,
                    status="pending",
                    attempts=0,
                )
            )


@pytest.mark.postgres
def test_a_worker_killed_mid_job_leaves_it_to_another_after_the_lease(postgres_url, make_carepath):
    """A real `carepath worker` process is killed while its step waits inside the transaction; the job
    stays claimed until its lease runs out, then another worker fires it exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import create_engine, text

    from support import CaseDriver, actors_of

    cp = make_carepath(postgres_url)
    _waiting_case(cp, CaseDriver(cp, actors_of(cp)))
    with cp.db() as session:
        instance_id = session.scalar(select(PathwayInstance.id).where(PathwayInstance.process_id == "waiting"))
    when = cp.clock.now() + timedelta(days=2, hours=1)

    blocker_engine = create_engine(postgres_url)
    blocker = blocker_engine.connect()
    blocker.begin()
    blocker.execute(text("SELECT id FROM pathway_instances WHERE id = :id FOR UPDATE"), {"id": instance_id})
    env = dict(os.environ, CAREPATH_DATABASE_URL=postgres_url)
    watcher = create_engine(postgres_url, isolation_level="AUTOCOMMIT")  # stats are per transaction
    proc = subprocess.Popen(
        [sys.executable, "-m", "carepath.web.cli", "worker", "--once", "--now", when.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    waiting = None  # the stuck worker's database process
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until the worker is stuck on our lock, mid-step
            with watcher.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar()
            if waiting:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.1)
        else:
            pytest.fail("the worker never reached the instance")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        blocker.rollback()
        blocker.close()
        blocker_engine.dispose()
        # The dead worker's transaction ends when PostgreSQL notices its client is gone, just after our lock is
        # released; until then it still holds the job's row, which the next claim would skip (SKIP LOCKED).
        # A lease lasts minutes, so in service this never races; on a loaded test machine it can.
        deadline = time.time() + 30
        while waiting and time.time() < deadline:
            with watcher.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": waiting}).first():
                    break
            time.sleep(0.05)
        watcher.dispose()

    with cp.db() as session:
        job = session.scalar(select(TimerJob).where(TimerJob.instance_id == instance_id, TimerJob.kind == "bpmn_timer"))
        assert job.status == "pending" and job.locked_by is not None  # claimed by the dead worker
    assert _waiting_tasks(cp, instance_id) == []

    assert Worker(cp, worker_id="second").sweep(when).fired <= 1  # the overdue intake task only: lease holds
    assert _waiting_tasks(cp, instance_id) == []

    later = Worker(cp, worker_id="third", real_now=lambda: datetime_now() + timedelta(minutes=6))
    later.sweep(when)
    assert _waiting_tasks(cp, instance_id) == ["after_wait"]
    assert later.sweep(when).fired == 0
    with cp.db() as session:
        fired = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.instance_id == instance_id, Event.lifecycle == "timer_fired")
        )
    assert fired == 1


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_a_worker_whose_lease_passed_to_another_does_nothing_with_the_job(backend, request, make_carepath):
    """A slow worker's lease runs out and a second worker fires the job; when the first comes back to it, it
    finds the job no longer its own and leaves it: one firing, one task."""
    from support import CaseDriver, actors_of

    cp = make_carepath(request.getfixturevalue("postgres_url" if backend == "postgres" else "sqlite_url"))
    _waiting_case(cp, CaseDriver(cp, actors_of(cp)))
    with cp.db() as session:
        instance_id = session.scalar(select(PathwayInstance.id).where(PathwayInstance.process_id == "waiting"))
    when = cp.clock.now() + timedelta(days=2, hours=1)

    slow = Worker(cp, worker_id="slow")
    claimed = [job for job in slow._claim(when) if job[2] == instance_id]
    assert len(claimed) == 1
    job_id, kind, _, human_task_id, _ = claimed[0]
    later = Worker(cp, worker_id="second", real_now=lambda: datetime_now() + timedelta(minutes=6))
    assert later.sweep(when).fired >= 1
    assert _waiting_tasks(cp, instance_id) == ["after_wait"]

    assert slow._fire(job_id, kind, instance_id, human_task_id, when) == "skipped"
    assert _waiting_tasks(cp, instance_id) == ["after_wait"]
    with cp.db() as session:
        job = session.get(TimerJob, job_id)
        assert (job.status, job.locked_by) == ("done", "second")
        fired = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.instance_id == instance_id, Event.lifecycle == "timer_fired")
        )
    assert fired == 1


def datetime_now():
    from datetime import datetime

    return datetime.now(UTC)


def _waiting_tasks(cp, instance_id):
    with cp.db() as session:
        return session.scalars(
            select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
        ).all()


def test_date_timers_and_event_based_gateways_are_armed_and_fire(cp, driver, actors, clock):
    """A timeDate timer, and an event-based gateway waiting for a message or a timer, whichever is first."""
    after = (
        '<bpmn:intermediateCatchEvent id="x" name="Until the date"><bpmn:timerEventDefinition>'
        "<bpmn:timeDate>add_days(now(), 3)</bpmn:timeDate></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:eventBasedGateway id="race"/>'
        '<bpmn:intermediateCatchEvent id="called_back"><bpmn:messageEventDefinition messageRef="m_cb"/>'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:intermediateCatchEvent id="gave_up"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        + bf.user_task("after_wait", "Chase the call-back")
        + '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="race"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="race" targetRef="called_back"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="race" targetRef="gave_up"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="called_back" targetRef="end2"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="gave_up" targetRef="after_wait"/>'
        '<bpmn:sequenceFlow id="f7" sourceRef="after_wait" targetRef="end"/>'
    )
    text = bf.pathway("dated", after=after, start_message="go_dated").replace(
        '<bpmn:process id="dated"', '<bpmn:message id="m_cb" name="called_back"/><bpmn:process id="dated"'
    )
    text = text.replace(
        "<bpmn:flowNodeRef>first</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>first</bpmn:flowNodeRef><bpmn:flowNodeRef>after_wait</bpmn:flowNodeRef>",
    )
    bf.publish(cp, bf.files(dated=text))
    worker = Worker(cp)

    def run_case(reply: bool):
        case_id = driver.new_case()
        cp.deliver_message(actors["case_manager"], case_id, "go_dated", {})
        driver.complete((case_id, "first"), {"text": "go"})
        start = clock.now()
        worker.sweep(start + timedelta(days=3) - timedelta(minutes=1))
        with cp.db() as session:
            job = session.scalar(
                select(TimerJob).where(
                    TimerJob.kind == "bpmn_timer", TimerJob.case_id == case_id, TimerJob.status == "pending"
                )
            )
        assert job is not None and job.due_at == start + timedelta(days=3)  # the date timer, armed
        worker.sweep(start + timedelta(days=3))
        with cp.db() as session:  # now waiting on the gateway: a message wait and the 1-day timer
            job = session.scalar(
                select(TimerJob).where(
                    TimerJob.kind == "bpmn_timer", TimerJob.case_id == case_id, TimerJob.status == "pending"
                )
            )
        assert job is not None and job.due_at > start + timedelta(days=3)
        if reply:
            cp.deliver_message(actors["case_manager"], case_id, "called_back", {})
        worker.sweep(start + timedelta(days=5))
        return [t.bpmn_id for t in _open(cp, case_id, "dated")]

    assert run_case(reply=True) == []  # the call-back came first: done
    assert run_case(reply=False) == ["after_wait"]  # the timer came first: chase it


def test_a_user_task_inside_a_subprocess_can_be_completed(cp, driver, actors):
    inner = (
        '<bpmn:subProcess id="x" name="Follow-up visit">'
        '<bpmn:startEvent id="sub_start"/>' + bf.user_task("visit", "Home visit") + '<bpmn:endEvent id="sub_end"/>'
        '<bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="visit"/>'
        '<bpmn:sequenceFlow id="s2" sourceRef="visit" targetRef="sub_end"/></bpmn:subProcess>'
        '<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end"/>'
    )
    text = bf.pathway("nested", after=inner, start_message="go_nested").replace(
        "<bpmn:flowNodeRef>first</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>first</bpmn:flowNodeRef><bpmn:flowNodeRef>visit</bpmn:flowNodeRef>",
    )
    bf.publish(cp, bf.files(nested=text))
    case_id = driver.new_case()
    cp.deliver_message(actors["case_manager"], case_id, "go_nested", {})
    driver.complete((case_id, "first"), {"text": "go"})
    visit = driver.task(case_id, "visit")
    driver.complete(visit, {"text": "visited"})
    with cp.db() as session:
        instance = session.get(PathwayInstance, visit.instance_id)
        assert instance.status == "completed"
        assert session.get(HumanTask, visit.id).status == "completed"
