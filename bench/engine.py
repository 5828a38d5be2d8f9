"""Engine latency: start a case to its first open task, and complete one task (validate, step, commit),
on SQLite and on PostgreSQL; the cost of a step for a client with 1 and with 40 earlier review
hand-overs (it must stay flat: each review is its own small instance); and what the script sandbox
costs: one expression, one scoring script, and a step that runs a PHQ-9 scoring script, the risk-level
decision table (DMN), a gateway condition and a `dueIn` expression.

    .venv/bin/python bench/engine.py [--runs 200] [--postgres URL]

PostgreSQL runs when --postgres or CAREPATH_TEST_POSTGRES_URL is given (a scratch database is created
and dropped). Prints median and p95 in milliseconds. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from carepath.engine import clients, library, people, scripting
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.form_samples import valid_sample
from carepath.engine.migrate import upgrade
from carepath.engine.models import HumanTask
from carepath.engine.pathway_files import FileSet
from carepath.engine.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
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
# A scored screen: the PHQ-9 scoring script of the assessment pathway, its risk-level DMN table, a gateway.
SCORED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d2" targetNamespace="http://bench">
  <bpmn:message id="m2" name="bench_scored_go"/>
  <bpmn:process id="bench_scored" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Case Manager">
      <bpmn:flowNodeRef>screen</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m2"/></bpmn:startEvent>
    <bpmn:userTask id="screen" name="PHQ-9"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="bench_phq9.schema.json"/>
      <spiffworkflow:property name="dataKey" value="phq9"/>
      <spiffworkflow:property name="dueIn" value='"P3D"'/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:scriptTask id="score" name="Score"><bpmn:script>asq_result = "negative"
gad7_total = 4
phq9_total = sum([phq9["item" + str(i)] for i in range(1, 10)])
if phq9_total &gt;= 20:
    phq9_severity = "severe"
elif phq9_total &gt;= 15:
    phq9_severity = "moderately_severe"
elif phq9_total &gt;= 10:
    phq9_severity = "moderate"
elif phq9_total &gt;= 5:
    phq9_severity = "mild"
else:
    phq9_severity = "minimal"
record_score("phq9", phq9_total, phq9_severity)</bpmn:script></bpmn:scriptTask>
    <bpmn:businessRuleTask id="decide" name="Risk level"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>risk_level</spiffworkflow:calledDecisionId>
    </bpmn:extensionElements></bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="gw" default="f_low"/>
    <bpmn:userTask id="review" name="Review"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="bench_note.schema.json"/>
      <spiffworkflow:property name="dueIn" value='"P7D" if risk_level == "low" else "P2D"'/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="screen"/>
    <bpmn:sequenceFlow id="f2" sourceRef="screen" targetRef="score"/>
    <bpmn:sequenceFlow id="f3" sourceRef="score" targetRef="decide"/>
    <bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_high" sourceRef="gw" targetRef="review">
      <bpmn:conditionExpression>risk_level in ("high", "imminent")</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_low" sourceRef="gw" targetRef="review"/>
    <bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
PHQ9 = (
    '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {'
    + ", ".join(f'"item{i}": {{"type": "integer", "minimum": 0, "maximum": 3}}' for i in range(1, 10))
    + "}}"
)
PHQ9_ANSWERS = {f"item{i}": i % 4 for i in range(1, 10)}
SCORING = SCORED.split("<bpmn:script>")[1].split("</bpmn:script>")[0].replace("&gt;", ">")
NOTE = (
    '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["note"],'
    ' "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 2000}}}'
)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def line(label, values):
    print(
        f"  {label:<62} median {statistics.median(values):7.2f} ms   "
        f"p95 {pct(values, 0.95):7.2f} ms   (n={len(values)})"
    )


def setup(url: str) -> tuple[Carepath, dict]:
    upgrade(url)
    cp = Carepath(Settings(database_url=url, secret_key="bench", sync_library_on_start=False), FixedClock(T0))
    cp.sync_library()
    library_files = cp.library_files().files
    extra = library.build(
        FileSet(
            {
                "bench_review.bpmn": REVIEW_LOOP,
                "bench_note.schema.json": NOTE,
                "bench_scored.bpmn": SCORED,
                "bench_phq9.schema.json": PHQ9,
                "risk_level.dmn": library_files["risk_level.dmn"],
            }
        )
    )
    with cp.db.begin() as session:
        library.publish(session, extra, T0, origin="publish")
        for role in ("intake", "case_manager"):
            people.add_user(session, role, [role], None, T0)
    with cp.db() as session:
        actors = {r: people.actor_of(people.user_named(session, r), "api") for r in ("intake", "case_manager")}
    return cp, actors


def new_client(cp, actor) -> int:
    with cp.db.begin() as session:
        return clients.create_client(
            session, actor, {"given_name": "Bench", "family_name": "Client", "birth_date": "1980-01-01"}, T0
        )["id"]


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
    sandbox_costs(cp, intake, cm, runs)
    cp.close()


def micro_line(label, seconds):
    us = [v * 1e6 for v in seconds]
    print(f"  {label:<62} median {statistics.median(us):7.1f} us   p95 {pct(us, 0.95):7.1f} us   (n={len(us)})")


def sandbox_costs(cp, intake, cm, runs: int) -> None:
    """What running pathway code costs: one expression, one script, and a step that runs a lot of it."""
    env = cp.runtime.script_engine.environment
    data = {"phq9": PHQ9_ANSWERS, "asq_result": "negative", "referral": dict(REFERRAL), "risk_level": "moderate"}
    for label, expression in (
        ("pathway code: a straight-line condition (evaluate)", 'risk_level in ("high", "imminent")'),
        ("pathway code: a condition that calls (evaluate)", 'len(referral["reason"]) > 10'),
    ):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            env.evaluate(expression, data)
            times.append(time.perf_counter() - t)
        micro_line(label, times)
    times = []
    for _ in range(runs):
        context = dict(data)
        _effects, token = scripting.begin_effects()
        try:
            t = time.perf_counter()
            env.execute(SCORING, context)
            times.append(time.perf_counter() - t)
        finally:
            scripting.end_effects(token)
    micro_line("pathway code: PHQ-9 scoring script (execute)", times)

    # A whole step, and the part of it spent running its pathway code (script, DMN cells, condition, dueIn):
    # the second figure is what the sandbox costs per step, without the database's noise.
    calls, spent = [0], [0.0]
    evaluate, execute = env.evaluate, env.execute

    def counted(method):
        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                calls[0] += 1
                spent[0] += time.perf_counter() - t

        return call

    env.evaluate, env.execute = counted(evaluate), counted(execute)
    # Each round opens a scored screen in the same case (a new instance, started by message) and completes it.
    case_id = cp.start_case(intake, new_client(cp, intake))["id"]
    times, code_times = [], []
    for _ in range(max(50, runs // 2)):
        cp.deliver_message(cm, case_id, "bench_scored_go", {})
        task_id = open_task(cp, case_id, "screen")
        calls[0], spent[0] = 0, 0.0
        t = time.perf_counter()
        cp.complete_task(cm, task_id, PHQ9_ANSWERS)
        times.append((time.perf_counter() - t) * 1000)
        code_times.append(spent[0] * 1000)
    del env.evaluate, env.execute
    line(f"complete a PHQ-9 step ({calls[0]} pieces of pathway code)", times)
    line("  of which running its pathway code", code_times)


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
