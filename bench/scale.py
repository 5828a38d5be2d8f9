"""An agency at scale: generate one through Carepath's own schema, then time the reads staff make all day.

    .venv/bin/python bench/scale.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/carepath_scale \\
        --clients 100000 [--keep] [--seed 7] [--reads 200]

For N clients (default 100,000) it writes: 200 staff (cm001–cm140, clin01–clin25, sup01–sup10,
intake01–intake10, crisis01–crisis10, quality1–quality3, admin1, admin2; password `demo`); one case per
client (15 % closed) with about five pathway instances; ten human tasks per client (1,000,000 for 100,000
clients) of which one in twenty is open (about 50,000, spread evenly over the case managers and the team
queues); fifty events per client (5,000,000); PHQ-9 and GAD-7 scores; a form submission per completed task.
Within those totals, about 8 % of clients have a positive suicide-risk screen with its safety planning, about
4 % a crisis response, and about 2 % a hospital stay or emergency visit with its 7- and 30-day follow-up visits,
some on time, some late, some never done (bench/scale_episodes.py), so every quality measure has rows.
The open work sits on real pathway instances: a few template cases are walked through the shipped pathways
by the engine, and their instances are copied for each open task, so any open task can be completed.

The database in the URL is created if missing (PostgreSQL) and must hold no Carepath tables. Without
`--keep` it is dropped at the end; with it, the agency stays for other tools (the quality benchmark, a load
test, the acceptance checks). Bulk rows go in with COPY on PostgreSQL. Prints how long each part took and
p50/p95 of each read, with the machine's load average. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from carepath.engine import people
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.form_samples import valid_sample
from carepath.engine.migrate import upgrade
from carepath.engine.models import Client, HumanTask, MessageWait, PathwayInstance, PathwayVersion, User
from carepath.engine.settings import Settings
from carepath.engine.spiff import load_spec
from carepath.engine.timers import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_episodes import Client as EpisodeClient  # noqa: E402 - beside this script, not a package import
from scale_episodes import Episodes, Rows  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
YEARS = 3
TASKS_PER_CLIENT = 10
OPEN_EVERY = 20  # one task in twenty is open
EVENTS_PER_CLIENT = 50

GIVEN = (
    "Maria James Aisha Tom Grace Daniel Rosa Ahmed Li Fatima John Mary Carlos Ana Wei Priya Samuel Emma Noah "
    "Olivia Liam Sofia Lucas Mia Ethan Amara Kwame Yuki Hana Omar Leila Ivan Elena Tariq Nia Diego Lucia "
    "Kofi Zara Mateo Chloe Aryan Isla Felix Ruth Joseph Esther David Sarah"
).split()
FAMILY = (
    "Lopez Carter Khan Nguyen Okafor Kim Diaz Smith Johnson Williams Brown Jones Garcia Miller Davis "
    "Rodriguez Martinez Hernandez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez "
    "Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Roberts Phillips Evans Turner Parker "
    "Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Bell Gomez Kelly "
    "Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray James Reyes Cruz Hughes Price Myers Long "
    "Foster Sanders Ross Morales Powell Sullivan Russell Ortiz Jenkins Gutierrez Perry Butler Barnes Fisher "
    "Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Kimura Wallace Okonkwo Mensah "
    "Adeyemi Chen Wang Zhang Liu Singh Patel Shah Ali Hussain Ahmed Ibrahim Yilmaz Kaya Novak Kowalski "
    "Nowak Ivanova Petrov Silva Santos Oliveira Costa Pereira Ferreira Almeida Tanaka Suzuki Sato Park Choi "
    "Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Ryu Hong Jeon Ko Moon Yang Son Bae Baek "
    "Heo Nam Sim Noh Ha Kwak Seong Cha Joo Woo Koo Min Ra Jin Eom Byun Chae Won"
).split()
STAFF = (
    [(f"cm{i:03d}", "case_manager") for i in range(1, 141)]
    + [(f"clin{i:02d}", "clinician") for i in range(1, 26)]
    + [(f"sup{i:02d}", "supervisor") for i in range(1, 11)]
    + [(f"intake{i:02d}", "intake") for i in range(1, 11)]
    + [(f"crisis{i:02d}", "crisis") for i in range(1, 11)]
    + [(f"quality{i}", "quality") for i in range(1, 4)]
    + [("admin1", "admin"), ("admin2", "admin")]
)
# Open work copied from template cases: (pathway, BPMN element of the open task).
TEMPLATES = (
    ("intake", "record_referral"),
    ("assessment", "needs_assessment"),
    ("assessment", "clinical_review"),
    ("planning", "treatment_plan"),
    ("assessment", "supervisor_signoff"),
    ("periodic_review", "progress_review"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------- the database ----------


def prepare_database(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar():
                conn.execute(text(f'CREATE DATABASE "{u.database}"'))
        admin.dispose()
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    if tables & {"clients", "events", "human_tasks"}:
        raise SystemExit(f"{u.render_as_string()} already holds Carepath tables; give an empty database")
    upgrade(url)


def drop_database(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        admin.dispose()
    elif u.database and Path(u.database).exists():
        Path(u.database).unlink()


BULK_TABLES = (
    "clients",
    "cases",
    "pathway_instances",
    "human_tasks",
    "events",
    "form_submissions",
    "scores",
    "timer_jobs",
    "message_waits",
)


class Bulk:
    """Fast inserts of plain rows with explicit ids: COPY on PostgreSQL, executemany elsewhere.

    On PostgreSQL the secondary indexes of the bulk tables are dropped while the rows go in and built again
    at the end (one sorted build is many times faster than millions of index insertions), and, when the
    role may (a superuser), foreign-key triggers are skipped for the COPY sessions: every id is generated
    here, parents first."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.dropped: list[str] = []
        self.replica = self.pg
        if self.pg:
            self._drop_indexes()

    def _drop_indexes(self) -> None:
        with self.engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                    "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
                    "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                    "AND NOT x.indisprimary AND NOT x.indisunique"
                ),
                {"tables": list(BULK_TABLES)},
            ).all()
            for name, definition in rows:
                conn.execute(text(f'DROP INDEX "{name}"'))
                self.dropped.append(definition)

    def restore_indexes(self) -> None:
        if not self.dropped:
            return
        with self.engine.begin() as conn:
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
            for definition in self.dropped:
                conn.execute(text(definition))
        self.dropped = []

    def insert(self, table: str, columns: list[str], rows) -> int:
        count = 0
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if self.pg:
                from psycopg.types.json import Json

                cur.execute("SET synchronous_commit = off")
                if self.replica:
                    try:
                        cur.execute("SET session_replication_role = replica")
                    except Exception:  # noqa: BLE001 - not a superuser: keep the checks
                        raw.rollback()
                        self.replica = False
                # Only the JSON columns need wrapping (found on the first row); every other row goes as it is.
                json_at = [i for i, v in enumerate(rows[0]) if isinstance(v, (dict, list))] if rows else []
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    if json_at:
                        for row in rows:
                            row = list(row)
                            for i in json_at:
                                row[i] = Json(row[i])
                            copy.write_row(row)
                    else:
                        for row in rows:
                            copy.write_row(row)
                    count += len(rows)
            else:
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                batch = []
                for row in rows:
                    batch.append(tuple(_sqlite_value(v) for v in row))
                    if len(batch) == 10_000:
                        cur.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                cur.executemany(sql, batch)
                count += len(batch)
            raw.commit()
            if self.pg:
                cur.execute("SET session_replication_role = DEFAULT")
                raw.commit()
        finally:
            raw.close()
        return count

    def reset_sequence(self, table: str) -> None:
        if self.pg:
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


# ---------- generating the agency ----------


@dataclass
class UserTaskKind:
    pathway: str
    bpmn_id: str
    title: str
    role: str
    form_id: str | None


def task_kinds(cp: Carepath) -> list[UserTaskKind]:
    """Every user task of the published library: what completed work looks like in this agency."""
    kinds = []
    with cp.db() as session:
        for version in session.scalars(select(PathwayVersion).where(PathwayVersion.is_current.is_(True))):
            spec, subs = load_spec(version.spec)
            for s in [spec, *subs.values()]:
                for ts in s.task_specs.values():
                    if getattr(ts, "manual", False) and ts.bpmn_id:
                        props = (ts.extensions or {}).get("properties", {}) or {}
                        form = props.get("formJsonSchemaFilename")
                        role = "_".join((ts.lane or "case manager").lower().split())
                        kinds.append(
                            UserTaskKind(
                                version.process_id,
                                ts.bpmn_id,
                                ts.bpmn_name or ts.bpmn_id,
                                role,
                                form.removesuffix(".schema.json") if form else None,
                            )
                        )
    return sorted(kinds, key=lambda k: (k.pathway, k.bpmn_id))


def add_staff(cp: Carepath) -> dict[str, int]:
    password = people.hash_password("demo")
    with cp.db.begin() as session:
        for username, role in STAFF:
            user = people.add_user(session, username, [role], None, NOW, display_name=username)
            user.password_hash = password
    with cp.db() as session:
        return dict(session.execute(select(User.username, User.id)).all())


def walk_templates(cp: Carepath, staff: dict[str, int]) -> dict[tuple[str, str], dict]:
    """Walk a real case to each template task; keep its instance (state, version) and task row."""
    with cp.db() as session:
        actors = {name: people.actor_of(session.get(User, uid), "cli") for name, uid in staff.items()}
    by_role = {
        "intake": actors["intake01"],
        "case_manager": actors["cm001"],
        "clinician": actors["clin01"],
        "supervisor": actors["sup01"],
        "crisis": actors["crisis01"],
    }
    found = {}
    for pathway, bpmn_id in TEMPLATES:
        client = cp.register_client(
            by_role["intake"],
            {
                "given_name": "Template",
                "family_name": f"Case {bpmn_id}",
                "birth_date": "1980-01-01",
                "case_manager": "cm001",
            },
        )
        case_id = cp.start_case(by_role["intake"], client["id"])["id"]
        for _ in range(80):
            with cp.db() as session:
                open_rows = session.scalars(
                    select(HumanTask)
                    .where(HumanTask.case_id == case_id, HumanTask.status == "open")
                    .order_by(HumanTask.id)
                ).all()
            hit = [t for t in open_rows if t.process_id == pathway and t.bpmn_id == bpmn_id]
            if hit:
                task = hit[0]
                with cp.db() as session:
                    inst = session.get(PathwayInstance, task.instance_id)
                    waits = session.scalars(
                        select(MessageWait.message_name).where(MessageWait.instance_id == inst.id)
                    ).all()
                    found[(pathway, bpmn_id)] = {
                        "state": inst.state,
                        "pathway_version_id": inst.pathway_version_id,
                        "spiff_task_id": task.spiff_task_id,
                        "title": task.title,
                        "role": task.role,
                        "form_id": task.form_id,
                        "instructions": task.instructions,
                        "waits": list(waits),
                    }
                break
            if not open_rows:
                # Waiting for a date (the next review): let the worker move time on, as it would.
                if not Worker(cp).sweep(NOW + timedelta(days=400)).fired:
                    break
                continue
            step = open_rows[0]
            actor = by_role.get(step.role, by_role["case_manager"])
            answers = {
                "eligibility": {"eligible": True},
                "consent": {"consent_to_services": True},
                "assessment_signoff": {"approved": True},
                "clinical_review": {"risk_level_reviewed": True},
                "plan_approval": {"approved": True},
                "asq": {"q1": False, "q2": False, "q3": False, "q4": False},
            }.get(step.form_id, {})
            cp.complete_task(actor, step.id, lambda schema, a=answers: valid_sample(schema, a))
        if (pathway, bpmn_id) not in found:
            log(f"  template {pathway}/{bpmn_id} not reached; its share of open work uses the others")
    if not found:
        raise SystemExit("no template task was reached: is the pathway library published?")
    return found


def generate(cp: Carepath, n: int, seed: int) -> dict:
    rng = random.Random(seed)
    started = time.perf_counter()
    staff = add_staff(cp)
    cms = [staff[u] for u, r in STAFF if r == "case_manager"]
    names = {uid: name for name, uid in staff.items()}
    team = {r: [staff[u] for u, rr in STAFF if rr == r] for r in ("intake", "clinician", "supervisor", "crisis")}
    kinds = task_kinds(cp)
    versions = {}
    with cp.db() as session:
        for v in session.scalars(select(PathwayVersion).where(PathwayVersion.is_current.is_(True))):
            versions[v.process_id] = (v.id, v.version)
    templates = walk_templates(cp, staff)
    episodes = Episodes(cp, random.Random(seed + 2), versions, names, team, NOW)
    bulk = Bulk(cp.engine)
    template_list = list(templates.items())
    with cp.db() as session:
        base = {t: (session.scalar(select(func.max(t.id))) or 0) for t in (Client, HumanTask, PathwayInstance)}
        case_base = session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM cases"))
        event_base = session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM events"))
    log(f"staff, library and {len(templates)} template cases in {time.perf_counter() - started:.1f} s")

    span = timedelta(days=365 * YEARS)
    # Exact totals, counting what the template walks wrote: n clients, 10 n tasks, 50 n events.
    with cp.db() as session:
        have = {t: session.scalar(text(f"SELECT COUNT(*) FROM {t}")) for t in ("clients", "human_tasks", "events")}
    m = n - have["clients"]
    task_budget = spread(TASKS_PER_CLIENT * n - have["human_tasks"], m)
    event_budget = spread(EVENTS_PER_CLIENT * n - have["events"], m)
    clients, cases = [], []
    t = time.perf_counter()
    for i in range(m):
        cid = base[Client] + i + 1
        opened = NOW - span * rng.random() ** 0.7
        born = datetime(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28)).date()
        clients.append(
            (
                cid,
                rng.choice(GIVEN),
                rng.choice(FAMILY),
                born,
                "English",
                None,
                None,
                None,
                [],
                cms[i % len(cms)],
                opened,
            )
        )
        closed = rng.random() < 0.15
        cases.append(
            (
                case_base + i + 1,
                cid,
                "closed" if closed else "open",
                rng.choice(("low", "moderate", "high")),
                opened,
                opened + timedelta(days=rng.randrange(30, 300)) if closed else None,
                "Goals met" if closed else None,
            )
        )
    bulk.insert(
        "clients",
        [
            "id",
            "given_name",
            "family_name",
            "birth_date",
            "preferred_language",
            "phone",
            "email",
            "address",
            "contacts",
            "case_manager_id",
            "created_at",
        ],
        clients,
    )
    bulk.insert("cases", ["id", "client_id", "status", "risk_level", "opened_at", "closed_at", "close_reason"], cases)
    log(f"{m:,} clients and cases in {time.perf_counter() - t:.1f} s")
    # About half a task open per client (50,000 for 100,000), all on open cases, evenly: the clients rotate
    # over the case managers, and the open tasks over the template tasks (so over the team queues too).
    open_cases = [i for i in range(m) if cases[i][2] == "open"]
    open_total = min(n // 2, sum(task_budget[i] for i in open_cases))
    open_budget = dict(zip(open_cases, spread(open_total, len(open_cases)), strict=True))

    # Instances, tasks, submissions, events and scores, case by case, streamed into COPY.
    t = time.perf_counter()
    instances, tasks, submissions, jobs, waits = [], [], [], [], []
    events = []
    scores = []
    next_instance = base[PathwayInstance] + 1
    next_task = base[HumanTask] + 1
    next_event = event_base + 1
    open_count = 0
    events_due = 0
    tasks_due = 0
    episode_counts: dict[str, int] = {}
    pathway_order = ["intake", "assessment", "planning", "periodic_review", "periodic_review"]
    for i, (cid, *_rest) in enumerate(clients):
        case_id, _client, status, _risk, opened, closed_at, _reason = cases[i]
        cm = cms[i % len(cms)]
        case_instances = []
        for p in pathway_order:
            vid, _ver = versions.get(p, next(iter(versions.values())))
            case_instances.append((next_instance, p, vid))
            instances.append((next_instance, case_id, vid, p, "completed", {}, 1, opened, opened))
            next_instance += 1
        # Safety, crisis and hospital follow-up episodes (bench/scale_episodes.py) take their share of the
        # client's tasks and events; the last clients have none, so the totals come out exact.
        if i < m - 2000:
            rows = Rows(instances, tasks, submissions, events, next_instance, next_task, next_event, episode_counts)
            own = {p: iid for iid, p, _vid in case_instances}
            episodes.write(rows, EpisodeClient(case_id, cid, cm, opened, closed_at, own))
            next_instance, next_task, next_event = rows.next_instance, rows.next_task, rows.next_event
        tasks_due += task_budget[i]
        at = opened
        case_events = 0
        for k in range(max(open_budget.get(i, 0), tasks_due - (next_task - base[HumanTask] - 1))):
            is_open = k < open_budget.get(i, 0)
            if is_open:
                (pathway, bpmn_id), tmpl = template_list[open_count % len(template_list)]
                open_count += 1
                iid = next_instance
                next_instance += 1
                instances.append(
                    (iid, case_id, tmpl["pathway_version_id"], pathway, "running", tmpl["state"], 1, at, None)
                )
                for name in tmpl["waits"]:
                    waits.append((iid, case_id, name))
                role = tmpl["role"]
                assignee = (
                    cm
                    if role == "case_manager"
                    else (rng.choice(team[role]) if role in team and rng.random() < 0.3 else None)
                )
                created = NOW - timedelta(hours=rng.randrange(1, 24 * 30))
                due = created + timedelta(days=rng.choice((1, 3, 7, 14)))
                tasks.append(
                    (
                        next_task,
                        iid,
                        case_id,
                        cid,
                        pathway,
                        tmpl["spiff_task_id"],
                        bpmn_id,
                        tmpl["title"],
                        role,
                        assignee,
                        tmpl["form_id"],
                        tmpl["instructions"],
                        "open",
                        created,
                        due,
                        None,
                        None,
                    )
                )
                jobs.append(("task_overdue", None, next_task, case_id, due, "pending", 0))
                events.append(
                    (
                        next_event,
                        created,
                        case_id,
                        cid,
                        iid,
                        pathway,
                        1,
                        bpmn_id,
                        tmpl["title"],
                        "ready",
                        role,
                        None,
                        next_task,
                    )
                )
                next_event += 1
                case_events += 1
                next_task += 1
                continue
            kind = kinds[rng.randrange(len(kinds))]
            iid, _p, _vid = case_instances[min(k // 2, len(case_instances) - 1)]
            created = at
            done = created + timedelta(hours=rng.randrange(1, 24 * 12))
            due = created + timedelta(days=rng.choice((1, 3, 7, 14)))
            who = cm if kind.role == "case_manager" else rng.choice(team.get(kind.role, cms))
            tasks.append(
                (
                    next_task,
                    iid,
                    case_id,
                    cid,
                    kind.pathway,
                    f"00000000-0000-4000-8000-{next_task:012d}",
                    kind.bpmn_id,
                    kind.title,
                    kind.role,
                    who,
                    kind.form_id,
                    None,
                    "completed",
                    created,
                    due,
                    done,
                    who,
                )
            )
            if kind.form_id:
                submissions.append((next_task, case_id, kind.form_id, {"note": "Seen."}, who, done))
            for lifecycle, when_ in (("ready", created), ("completed", done)):
                events.append(
                    (
                        next_event,
                        when_,
                        case_id,
                        cid,
                        iid,
                        kind.pathway,
                        1,
                        kind.bpmn_id,
                        kind.title,
                        lifecycle,
                        kind.role,
                        None if lifecycle == "ready" else names[who],
                        next_task,
                    )
                )
                next_event += 1
                case_events += 1
            next_task += 1
            at = done + timedelta(hours=rng.randrange(1, 24 * 20))
        # The engine's own steps between people's work: scripts, messages, timers (to fifty events a case).
        events_due += event_budget[i]
        while next_event - event_base - 1 < events_due:
            iid, p, _vid = case_instances[rng.randrange(len(case_instances))]
            lifecycle = rng.choice(("completed", "completed", "message", "timer_fired"))
            when_ = opened + (min(at, NOW) - opened) * rng.random()
            events.append(
                (
                    next_event,
                    when_,
                    case_id,
                    cid,
                    iid,
                    p,
                    1,
                    f"step_{lifecycle}",
                    "Score the PHQ-9" if lifecycle == "completed" else f"Engine {lifecycle}",
                    lifecycle,
                    None,
                    None,
                    None,
                )
            )
            next_event += 1
        # PHQ-9 and GAD-7 at the start, 3 and 6 months and a year (CMS159 reads the year's PHQ-9), if by now.
        for days in (0, 90, 180, 365):
            when_ = opened + timedelta(days=days)
            if when_ > NOW:
                break
            scores.append((case_id, case_instances[1][0], "phq9", rng.randrange(0, 27), "moderate", when_))
            scores.append((case_id, case_instances[1][0], "gad7", rng.randrange(0, 21), "mild", when_))
        if len(events) > 200_000 or i == len(clients) - 1:
            flush(bulk, instances, tasks, submissions, jobs, waits, events, scores)
    log(", ".join(f"{v:,} {k}" for k, v in episode_counts.items()))
    log(f"rows written in {time.perf_counter() - t:.1f} s; indexes and statistics next")
    t = time.perf_counter()
    bulk.restore_indexes()
    for table in (
        "clients",
        "cases",
        "pathway_instances",
        "human_tasks",
        "events",
        "form_submissions",
        "scores",
        "timer_jobs",
        "message_waits",
    ):
        bulk.reset_sequence(table)
    with cp.engine.begin() as conn:
        if bulk.pg:
            conn.execute(text("ANALYZE"))
    with cp.db() as session:
        totals = {
            "staff": session.scalar(text("SELECT COUNT(*) FROM users")),
            "clients": session.scalar(text("SELECT COUNT(*) FROM clients")),
            "tasks": session.scalar(text("SELECT COUNT(*) FROM human_tasks")),
            "open tasks": session.scalar(text("SELECT COUNT(*) FROM human_tasks WHERE status = 'open'")),
            "events": session.scalar(text("SELECT COUNT(*) FROM events")),
            "instances": session.scalar(text("SELECT COUNT(*) FROM pathway_instances")),
        }
    log(f"indexes and statistics in {time.perf_counter() - t:.1f} s")
    log(", ".join(f"{v:,} {k}" for k, v in totals.items()))
    return totals


def spread(total: int, parts: int) -> list[int]:
    """`total` split over `parts` as evenly as whole numbers allow (the remainder to the first ones)."""
    if parts <= 0:
        return []
    each, extra = divmod(max(total, 0), parts)
    return [each + (1 if i < extra else 0) for i in range(parts)]


def flush(bulk: Bulk, instances, tasks, submissions, jobs, waits, events, scores) -> None:
    """Write what has been generated so far (parents first) and empty the lists."""
    bulk.insert(
        "pathway_instances",
        ["id", "case_id", "pathway_version_id", "process_id", "status", "state", "version", "started_at", "ended_at"],
        instances,
    )
    bulk.insert(
        "human_tasks",
        [
            "id",
            "instance_id",
            "case_id",
            "client_id",
            "process_id",
            "spiff_task_id",
            "bpmn_id",
            "title",
            "role",
            "assignee_id",
            "form_id",
            "instructions",
            "status",
            "created_at",
            "due_at",
            "completed_at",
            "completed_by",
        ],
        tasks,
    )
    bulk.insert(
        "form_submissions", ["human_task_id", "case_id", "form_id", "data", "submitted_by", "submitted_at"], submissions
    )
    bulk.insert("timer_jobs", ["kind", "instance_id", "human_task_id", "case_id", "due_at", "status", "attempts"], jobs)
    bulk.insert("message_waits", ["instance_id", "case_id", "message_name"], waits)
    bulk.insert(
        "events",
        [
            "id",
            "at",
            "case_id",
            "client_id",
            "instance_id",
            "process_id",
            "pathway_version",
            "activity",
            "activity_name",
            "lifecycle",
            "role",
            "username",
            "human_task_id",
        ],
        events,
    )
    bulk.insert("scores", ["case_id", "instance_id", "instrument", "total", "severity", "at"], scores)
    for rows in (instances, tasks, submissions, jobs, waits, events, scores):
        rows.clear()


# ---------- timing the reads ----------


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(label: str, calls: int, fn) -> None:
    times = []
    for i in range(calls):
        t = time.perf_counter()
        result = fn(i)
        times.append((time.perf_counter() - t) * 1000)
    size = len(result) if hasattr(result, "__len__") else "-"
    print(
        f"  {label:<58} p50 {statistics.median(times):8.2f} ms   p95 {pct(times, 0.95):8.2f} ms   "
        f"(n={calls}, last answer {size} rows)",
        flush=True,
    )


def time_reads(cp: Carepath, url: str, reads: int, seed: int) -> None:
    """The reads staff make all day, first through the engine's facade, then over HTTP (the Flask app in
    this process, with bearer tokens: routing, auth, JSON and the Link header, without a socket)."""
    rng = random.Random(seed + 1)
    with cp.db() as session:
        users = {u.username: people.actor_of(u, "api") for u in session.scalars(select(User))}
        case_ids = session.scalars(text("SELECT id FROM cases ORDER BY id LIMIT 5000")).all()
    cms = [users[f"cm{i:03d}"] for i in range(1, 141)]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"reads through the engine (load average {load}):")
    timed(
        "case manager's inbox (my tasks and my team queue)",
        reads,
        lambda i: cp.list_tasks(cms[i % len(cms)], view="all").items,
    )
    timed("supervisor's team queue (all open work)", reads, lambda i: cp.list_tasks(users["sup01"], view="all").items)
    timed("client search ?q=okafor", reads, lambda i: cp.search_clients(users["sup01"], "okafor").items)
    timed("a case's event log", reads, lambda i: cp.read_case_events(users["sup01"], rng.choice(case_ids)).items)
    timed("a case file", reads, lambda i: cp.read_case_file(users["sup01"], rng.choice(case_ids)))
    time_http(cp, reads, rng, case_ids)
    time_export(url)


def time_http(cp: Carepath, reads: int, rng: random.Random, case_ids: list[int]) -> None:
    from carepath.web import create_app

    app = create_app(carepath=cp)
    client = app.test_client()
    tokens = {name: cp.issue_token(name)[1] for name in [f"cm{i:03d}" for i in range(1, 141)] + ["sup01"]}

    def get(user: str, path: str) -> list:
        resp = client.get(path, headers={"Authorization": f"Bearer {tokens[user]}"})
        assert resp.status_code == 200, (path, resp.status_code)
        return resp.get_json()

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"the same reads over HTTP, the API in-process (load average {load}):")
    timed("GET /api/v1/tasks (a case manager)", reads, lambda i: get(f"cm{i % 140 + 1:03d}", "/api/v1/tasks"))
    timed("GET /api/v1/tasks (sup01: all open work)", reads, lambda i: get("sup01", "/api/v1/tasks"))
    timed("GET /api/v1/clients?q=okafor", reads, lambda i: get("sup01", "/api/v1/clients?q=okafor"))
    timed(
        "GET /api/v1/cases/{id}/events", reads, lambda i: get("sup01", f"/api/v1/cases/{rng.choice(case_ids)}/events")
    )


def time_export(url: str) -> None:
    env = dict(os.environ, CAREPATH_DATABASE_URL=url)
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"carepath-scale-export-{os.getpid()}.csv"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "carepath.web.cli", "export", "events", "--format", "csv", "--output", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    if proc.returncode:
        print(f"  export events: failed: {proc.stderr.strip()[-300:]}")
        return
    with out.open("rb") as f:
        rows = sum(1 for _ in f) - 1
    out.unlink()
    print(
        f"  {'export events --format csv':<58} {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s, "
        f"peak memory {peak_mb:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="leave the agency in the database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reads", type=int, default=200, help="calls per read timed (0: generate only)")
    args = parser.parse_args()
    started = time.perf_counter()
    log(f"load average {os.getloadavg()[0]:.2f}; generating {args.clients:,} clients")
    prepare_database(args.database_url)
    cp = Carepath(
        Settings(database_url=args.database_url, secret_key="bench", sync_library_on_start=False), FixedClock(NOW)
    )
    try:
        cp.sync_library()
        generate(cp, args.clients, args.seed)
        log(f"agency generated in {time.perf_counter() - started:.0f} s")
        if args.reads:
            time_reads(cp, args.database_url, args.reads, args.seed)
    finally:
        cp.close()
        if not args.keep:
            drop_database(args.database_url)
    log(f"done in {time.perf_counter() - started:.0f} s" + (" (kept)" if args.keep else " (dropped)"))


if __name__ == "__main__":
    main()
