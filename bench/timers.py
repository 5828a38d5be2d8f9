"""Worker throughput on PostgreSQL: jobs fired per second for 10,000 due timers, with one worker process
and with two racing over the same queue (FOR UPDATE SKIP LOCKED).

    .venv/bin/python bench/timers.py [--jobs 10000] [--postgres URL]

Each run gets a scratch database holding one case with `--jobs` waiting timer instances (copies of one
real instance, each with its own timer job), all due. Then `carepath worker --once --now T` processes
are started and timed until the queue is empty. Prints jobs/s and checks nothing fired twice.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

# `bench.engine` holds the set-up the benchmarks share; run from anywhere, import it from the project root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from bench.engine import T0, new_client, setup
from carepath.engine import library
from carepath.engine.models import Event, PathwayInstance, TimerJob
from carepath.engine.pathway_files import FileSet

WAITING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bench">
  <bpmn:message id="m" name="bench_wait"/>
  <bpmn:process id="bench_wait" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Case Manager">
      <bpmn:flowNodeRef>follow_up</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Thirty days"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>"P30D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="follow_up" name="Follow up"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="bench_note.schema.json"/>
      <spiffworkflow:property name="dueIn" value='"P7D"'/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="follow_up"/>
    <bpmn:sequenceFlow id="f3" sourceRef="follow_up" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def prepare(url: str, jobs: int):
    cp, actors = setup(url)
    from bench.engine import NOTE

    built = library.build(FileSet({"bench_wait.bpmn": WAITING, "bench_note.schema.json": NOTE}))
    with cp.db.begin() as session:
        library.publish(session, built, T0, origin="publish")
    case_id = cp.start_case(actors["intake"], new_client(cp, actors["intake"]))["id"]
    cp.deliver_message(actors["case_manager"], case_id, "bench_wait", {})
    with cp.db.begin() as session:
        # Leave only the timers in the queue (the intake's overdue job would be fired too otherwise).
        session.execute(TimerJob.__table__.delete().where(TimerJob.kind == "task_overdue"))
        source = session.scalar(select(PathwayInstance).where(PathwayInstance.process_id == "bench_wait"))
        due = session.scalar(select(TimerJob.due_at).where(TimerJob.instance_id == source.id))
        rows = [
            dict(
                case_id=case_id,
                pathway_version_id=source.pathway_version_id,
                process_id="bench_wait",
                status="running",
                state=source.state,
                version=1,
                started_at=T0,
            )
            for _ in range(jobs - 1)
        ]
        ids = session.scalars(insert(PathwayInstance).returning(PathwayInstance.id), rows).all()
        session.execute(
            insert(TimerJob),
            [
                dict(kind="bpmn_timer", instance_id=i, case_id=case_id, due_at=due, status="pending", attempts=0)
                for i in ids
            ],
        )
    cp.close()
    return due


def run_workers(url: str, count: int, when) -> float:
    env = dict(os.environ, CAREPATH_DATABASE_URL=url)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "carepath.web.cli", "worker", "--once", "--now", when.isoformat()],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"worker failed: {err.decode()[-500:]}")
    return time.perf_counter() - start


def check(url: str, jobs: int) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        fired = conn.execute(select(func.count()).select_from(Event).where(Event.lifecycle == "timer_fired")).scalar()
        twice = conn.execute(
            select(func.count()).select_from(
                select(Event.instance_id)
                .where(Event.lifecycle == "timer_fired")
                .group_by(Event.instance_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar()
        pending = conn.execute(
            select(func.count())
            .select_from(TimerJob)
            .where(TimerJob.status == "pending", TimerJob.kind == "bpmn_timer")
        ).scalar()
    engine.dispose()
    return f"fired {fired}/{jobs}, fired twice {twice}, left pending {pending}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("CAREPATH_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres URL or set CAREPATH_TEST_POSTGRES_URL")
    base = make_url(args.postgres)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    for workers in (1, 2):
        name = f"carepath_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        try:
            due = prepare(url, args.jobs)
            seconds = run_workers(url, workers, due + timedelta(minutes=1))
            print(
                f"{workers} worker(s): {args.jobs} due timers in {seconds:.1f} s = {args.jobs / seconds:.0f} jobs/s"
                f"   ({check(url, args.jobs)})"
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
