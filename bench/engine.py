"""Engine latency: start a case to its first open task, and complete one task (validate, step, commit),
on SQLite and on PostgreSQL; and the cost of a step for a client with 1 and with 40 earlier review
hand-overs (it must stay flat: each review is its own small instance).

    .venv/bin/python bench/engine.py [--runs 200] [--postgres URL]

PostgreSQL runs when --postgres or CAREPATH_TEST_POSTGRES_URL is given (a scratch database is created
and dropped). Prints median and p95 in milliseconds. Not a test: nothing here asserts.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path


from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from carepath.engine import clients, library, people
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.form_samples import valid_sample
from carepath.engine.migrate import upgrade
from carepath.engine.models import HumanTask
from carepath.engine.pathway_files import FileSet
from carepath.engine.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
REFERRAL = {"referral_date": "2026-03-02", "source": "self", "reason": "Low mood for months.", "urgency": "routine"}

# A review cycle stand-in: each instance is one review with one task, handing over to the next by message.
REVIEW_LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bench">
  <bpmn:message id="m" name="bench_review_due"/>
  <bpmn:process id="bench_review" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Case Manager">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review progress"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="bench_note.schema.json"/>
      <spiffworkflow:property name="dueIn" value='"P7D"'/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:scriptTask id="score" name="Score"><bpmn:script>cycles = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:messageEventDefinition messageRef="m"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="score"/>
    <bpmn:sequenceFlow id="f3" sourceRef="score" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
NOTE = ('{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["note"],'
        ' "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 2000}}}')


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def line(label, values):
    print(f"  {label:<62} median {statistics.median(values):7.2f} ms   p95 {pct(values, 0.95):7.2f} ms   (n={len(values)})")


def setup(url: str) -> tuple[Carepath, dict]:
    upgrade(url)
    cp = Carepath(Settings(database_url=url, secret_key="bench", sync_library_on_start=False), FixedClock(T0))
    cp.sync_library()
    extra = library.build(FileSet({"bench_review.bpmn": REVIEW_LOOP, "bench_note.schema.json": NOTE}))
    with cp.db.begin() as session:
        library.publish(session, extra, T0, origin="publish")
        for role in ("intake", "case_manager"):
            people.add_user(session, role, [role], None, T0)
    with cp.db() as session:
        actors = {r: people.actor_of(people.user_named(session, r), "api") for r in ("intake", "case_manager")}
    return cp, actors


def new_client(cp, actor) -> int:
    with cp.db.begin() as session:
        return clients.create_client(session, actor, {"given_name": "Bench", "family_name": "Client",
                                                      "birth_date": "1980-01-01"}, T0)["id"]


def open_task(cp, case_id, bpmn_id=None) -> int:
    with cp.db() as session:
        stmt = select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.status == "open")
        if bpmn_id:
            stmt = stmt.where(HumanTask.bpmn_id == bpmn_id)
        return session.scalars(stmt.order_by(HumanTask.id)).first()


def run(url: str, label: str, runs: int) -> None:
    cp, actors = setup(url)
    intake, cm = actors["intake"], actors["case_manager"]
    print(f"{label}:")

    starts, case_ids = [], []
    for _ in range(runs):
        client_id = new_client(cp, intake)
        t = time.perf_counter()
        case_id = cp.start_case(intake, client_id)["id"]
        open_task(cp, case_id)
        starts.append((time.perf_counter() - t) * 1000)
        case_ids.append(case_id)
    line("start case -> first open task", starts)

    schema = json.loads(cp.library_files().files["referral.schema.json"])
    referral = valid_sample(schema, {k: v for k, v in REFERRAL.items() if k in schema.get("properties", {})})
    completes = []
    for case_id in case_ids:
        task_id = open_task(cp, case_id, "record_referral")
        t = time.perf_counter()
        cp.complete_task(intake, task_id, referral)
        completes.append((time.perf_counter() - t) * 1000)
    line("complete one task (validate, step, commit)", completes)

    # Each timed step starts from its own case with exactly `history` earlier hand-overs, so the figure for
    # "after 40" is never a step after 41 or 90 (timing several steps on one case would add to its history).
    base = None
    for history in (1, 40):
        cases = []
        for _ in range(max(20, runs // 4)):
            case_id = cp.start_case(intake, new_client(cp, intake))["id"]
            cp.deliver_message(cm, case_id, "bench_review_due", {})
            for _ in range(history):  # each completion hands over to a new review instance
                cp.complete_task(cm, open_task(cp, case_id, "review"), {"note": "Seen; plan continues."})
            cases.append(case_id)
        times = []
        for case_id in cases:
            task_id = open_task(cp, case_id, "review")
            t = time.perf_counter()
            cp.complete_task(cm, task_id, {"note": "Seen; plan continues."})
            times.append((time.perf_counter() - t) * 1000)
        line(f"complete a review task after exactly {history} earlier hand-over(s)", times)
        if base is None:
            base = statistics.median(times)
        else:
            print(f"  {'ratio 40 / 1 (flat in history when <= 1.25)':<62} {statistics.median(times) / base:7.2f}")
    cp.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("CAREPATH_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite (file, WAL)", args.runs)
    if args.postgres:
        base = make_url(args.postgres)
        name = f"carepath_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(base.set(database=name).render_as_string(hide_password=False), "PostgreSQL", args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        print("PostgreSQL: skipped (give --postgres URL or set CAREPATH_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
