"""The engine over real HTTP: `carepath serve` (gunicorn) in its own processes, a keep-alive client here.

a) SQLite file database, `--workers 1`: start a case for a registered client (POST /api/v1/cases, as
   intake), find its first open task (GET /api/v1/tasks?case_id=), complete it with a valid referral form
   (POST /api/v1/tasks/{id}/complete). Median and p95 of the start (POST + GET), the completion, and both.
   Then the same three requests through the app in this process (`--counts`, Flask's test client): the
   statements and the Python function calls each takes, figures that do not move with the machine's load.
b) PostgreSQL, `--workers 2`, 8 client threads: cases prepared through the engine (real pathway instances,
   each waiting at its referral task), then the threads complete distinct tasks as fast as the server
   answers; completions per second, then a check in the database that every task was completed exactly
   once (one completion event, one form submission) and how many requests got anything but 200.

    .venv/bin/python bench/over_http.py [--runs 100] [--counts 20] [--completions 400] [--threads 8] [--postgres URL]

PostgreSQL runs when --postgres or CAREPATH_TEST_POSTGRES_URL is given. Scratch databases (a temporary
SQLite file, a PostgreSQL database named carepath_bench_http_*) are created and dropped here; the servers
bind 127.0.0.1 on a free port. Prints figures with the load average; asserts only that the work was done
right (exit status 1 when a task was not completed exactly once or a request failed).

Not named bench/http.py: a script's folder comes first on the import path, so a file of that name would
stand in for the standard library's `http` package in every benchmark run from bench/ (urllib, which the
engine imports, needs http.client).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from carepath.engine import clients, people
from carepath.engine.app import Carepath
from carepath.engine.form_samples import valid_sample
from carepath.engine.migrate import upgrade
from carepath.engine.models import Event, FormSubmission, HumanTask
from carepath.engine.settings import Settings
from carepath.web import create_app

REFERRAL = {"referral_date": "2026-03-02", "source": "self", "reason": "Low mood for months.", "urgency": "routine"}
FIRST_TASK = "record_referral"  # intake's first task, in the intake lane


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def line(label: str, values: list[float]) -> None:
    print(
        f"  {label:<58} median {statistics.median(values):7.2f} ms   p95 {pct(values, 0.95):7.2f} ms   "
        f"(n={len(values)}; load average {load()})",
        flush=True,
    )


# ---------- the agency and the server ----------


def prepare(url: str, clients_wanted: int) -> tuple[Carepath, dict[str, str], list[int], dict[str, Any]]:
    """Schema, library, an intake worker and a case manager with API tokens, and registered clients. The
    engine runs on real time here: the server checks the tokens against its own clock."""
    upgrade(url)
    cp = Carepath(Settings(database_url=url, secret_key="bench", sync_library_on_start=False))
    cp.sync_library()
    for role in ("intake", "case_manager"):
        cp.add_user(role, [role], None)
    tokens = {role: cp.issue_token(role)[1] for role in ("intake", "case_manager")}
    with cp.db() as session:
        intake = people.actor_of(people.user_named(session, "intake"), "api")
    client_ids = []
    with cp.db.begin() as session:
        for i in range(clients_wanted):
            person = {"given_name": "Bench", "family_name": f"Client{i:05d}", "birth_date": "1980-01-01"}
            client_ids.append(clients.create_client(session, intake, person, cp.clock.now())["id"])
    schema = json.loads(cp.library_files().files["referral.schema.json"])
    referral = valid_sample(schema, {k: v for k, v in REFERRAL.items() if k in schema.get("properties", {})})
    return cp, tokens, client_ids, referral


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(url: str, workers: int, tmp: Path):
    """`carepath serve --workers N` on 127.0.0.1 and a free port; yields (port, the server's pid) once it
    answers."""
    port = _free_port()
    env = {
        **os.environ,
        "CAREPATH_DATABASE_URL": url,
        "CAREPATH_INSTANCE_DIR": str(tmp / "instance"),
        "CAREPATH_SECRET_KEY": "bench-http",
    }
    log_path = tmp / f"server-{port}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "carepath.web.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/api/v1/openapi.json")
                    conn.getresponse().read()
                    conn.close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start:\n" + log_path.read_text()[-2000:]) from None
                    time.sleep(0.2)
            yield port, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), from /proc (empty where there is none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far, from /proc (0 where there is none)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


class Api:
    """One keep-alive connection with one user's token."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.conn.close()


def expect(answer: tuple[int, Any], status: int, what: str) -> Any:
    if answer[0] != status:
        raise SystemExit(f"{what}: HTTP {answer[0]} (expected {status}): {json.dumps(answer[1])[:300]}")
    return answer[1]


# ---------- a) one case at a time, SQLite ----------


def start_and_complete(runs: int, warmup: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp}/bench.db"
        cp, tokens, client_ids, referral = prepare(url, runs + warmup)
        cp.close()
        with served(url, 1, tmp) as (port, _pid):
            api = Api(port, tokens["intake"])
            starts, completes, both = [], [], []
            for i, client_id in enumerate(client_ids):
                t0 = time.perf_counter()
                case = expect(api.call("POST", "/api/v1/cases", {"client_id": client_id}), 201, "start a case")
                tasks = expect(api.call("GET", f"/api/v1/tasks?case_id={case['id']}"), 200, "the case's tasks")
                task = next(t for t in tasks if t["task"] == FIRST_TASK)
                t1 = time.perf_counter()
                done = api.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": referral})
                expect(done, 200, "complete the first task")
                t2 = time.perf_counter()
                if i >= warmup:  # the first requests of a fresh worker load the pathway specs
                    starts.append((t1 - t0) * 1000)
                    completes.append((t2 - t1) * 1000)
                    both.append((t2 - t0) * 1000)
            api.close()
    print("a) start a case + complete its first task over HTTP (SQLite file, carepath serve --workers 1):")
    line("start: POST /cases + GET /tasks?case_id=", starts)
    line("complete: POST /tasks/{id}/complete", completes)
    line("both", both)
    return True


def counts_in_process(runs: int, warmup: int) -> bool:
    """(a)'s three requests through the app in this process (Flask's test client, a SQLite file): the
    statements each sends to the database (BEGIN included; COMMIT is a call of the driver, not a statement)
    and the Python function calls it makes (cProfile). Neither depends on how busy the machine is."""
    requests = ("POST /cases", "GET /tasks?case_id=", "POST /tasks/{id}/complete")
    measured: dict[str, list[tuple[int, int]]] = {name: [] for name in requests}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp}/bench.db"
        cp, tokens, client_ids, referral = prepare(url, runs + warmup)
        cp.close()
        cp = Carepath(Settings(database_url=url, secret_key="bench-http", instance_dir=str(tmp / "instance")))
        client = create_app(carepath=cp).test_client()
        headers = {"Authorization": f"Bearer {tokens['intake']}"}
        sent = [0]
        event.listen(cp.engine, "before_cursor_execute", lambda *_: sent.__setitem__(0, sent[0] + 1))

        def request(name: str, keep: bool, method: str, path: str, body: Any, status: int) -> Any:
            profile, before = cProfile.Profile(), sent[0]
            profile.enable()
            resp = client.open(path, method=method, json=body, headers=headers)
            profile.disable()
            expect((resp.status_code, resp.get_json(silent=True)), status, name)
            if keep:
                measured[name].append((sent[0] - before, pstats.Stats(profile).total_calls))
            return resp.get_json()

        for i, client_id in enumerate(client_ids):
            keep = i >= warmup
            case = request(requests[0], keep, "POST", "/api/v1/cases", {"client_id": client_id}, 201)
            tasks = request(requests[1], keep, "GET", f"/api/v1/tasks?case_id={case['id']}", None, 200)
            task = next(t for t in tasks if t["task"] == FIRST_TASK)
            request(requests[2], keep, "POST", f"/api/v1/tasks/{task['id']}/complete", {"data": referral}, 200)
        cp.close()
    print(f"a) the same requests in this process (Flask's test client), median of {runs}:")
    for name in requests:
        statements = statistics.median(n for n, _ in measured[name])
        calls = statistics.median(c for _, c in measured[name])
        print(f"  {name:<58} {statements:5.0f} statements   {calls:8,.0f} Python function calls")
    print(
        f"  {'all three':<58} {sum(statistics.median(n for n, _ in measured[r]) for r in requests):5.0f} statements"
        f"   {sum(statistics.median(c for _, c in measured[r]) for r in requests):8,.0f} Python function calls"
    )
    return True


# ---------- b) completions per second, PostgreSQL ----------


def completions_per_second(base_url: str, completions: int, threads: int, warmup: int) -> bool:
    base = make_url(base_url)
    name = f"carepath_bench_http_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            return _completions_per_second(url, completions, threads, warmup, Path(tmp_name))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _completions_per_second(url: str, completions: int, threads: int, warmup: int, tmp: Path) -> bool:
    total = completions + warmup
    t = time.perf_counter()
    cp, tokens, client_ids, referral = prepare(url, total)
    with cp.db() as session:
        intake = people.actor_of(people.user_named(session, "intake"), "api")
    case_ids = [cp.start_case(intake, client_id)["id"] for client_id in client_ids]
    with cp.db() as session:
        task_ids = list(
            session.scalars(
                select(HumanTask.id)
                .where(HumanTask.case_id.in_(case_ids), HumanTask.status == "open", HumanTask.bpmn_id == FIRST_TASK)
                .order_by(HumanTask.id)
            )
        )
    assert len(task_ids) == total, (len(task_ids), total)
    print(f"b) prepared {total} cases waiting at their referral task in {time.perf_counter() - t:.1f} s", flush=True)

    statuses: Counter[int] = Counter()
    with served(url, 2, tmp) as (port, server_pid):
        _complete_all(port, tokens["intake"], task_ids[:warmup], referral, threads, statuses)  # warm the workers
        timed_statuses: Counter[int] = Counter()
        with cp.db() as session:
            database_pids = list(
                session.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
            )
        server_pids = [server_pid, *children_of(server_pid)]
        cpu_before = cpu_seconds(server_pids), cpu_seconds(database_pids), time.process_time()
        load_before = load()
        t = time.perf_counter()
        _complete_all(port, tokens["intake"], task_ids[warmup:], referral, threads, timed_statuses)
        seconds = time.perf_counter() - t
        cpu_after = cpu_seconds(server_pids), cpu_seconds(database_pids), time.process_time()
        statuses.update(timed_statuses)
    ok = timed_statuses[200]
    server_ms, database_ms, client_ms = (
        (b - a) * 1000 / max(ok, 1) for a, b in zip(cpu_before, cpu_after, strict=True)
    )
    print(
        f"b) task completions over HTTP (PostgreSQL, carepath serve --workers 2, {threads} client threads):\n"
        f"  {ok} completions in {seconds:.2f} s = {ok / seconds:.1f} completions/s   "
        f"(load average before {load_before}, after {load()})\n"
        f"  CPU a completion: server {server_ms:.1f} ms, PostgreSQL {database_ms:.1f} ms, "
        f"this client {client_ms:.1f} ms",
        flush=True,
    )
    return _check_exactly_once(cp, task_ids, statuses)


def _complete_all(
    port: int, token: str, task_ids: list[int], referral: dict[str, Any], threads: int, statuses: Counter[int]
) -> None:
    """`threads` keep-alive clients take distinct tasks from one queue and complete each."""
    work: queue.Queue[int] = queue.Queue()
    for task_id in task_ids:
        work.put(task_id)
    lock = threading.Lock()

    def client() -> None:
        api = Api(port, token)
        mine: Counter[int] = Counter()
        try:
            while True:
                try:
                    task_id = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    status, _ = api.call("POST", f"/api/v1/tasks/{task_id}/complete", {"data": referral})
                except (OSError, http.client.HTTPException):
                    status = 0  # no answer at all
                    api.close()
                    api = Api(port, token)
                mine[status] += 1
        finally:
            api.close()
            with lock:
                statuses.update(mine)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def _check_exactly_once(cp: Carepath, task_ids: list[int], statuses: Counter[int]) -> bool:
    """Every task completed, with one completion in the event log (its instance's `record_referral`
    completed once) and one form submission, and every request answered 200."""
    with cp.db() as session:
        tasks = session.execute(select(HumanTask.status, HumanTask.instance_id).where(HumanTask.id.in_(task_ids)))
        task_status, instances = Counter[str](), []
        for status, instance_id in tasks:
            task_status[status] += 1
            instances.append(instance_id)
        completion_events = Counter(
            session.scalars(
                select(Event.instance_id).where(
                    Event.instance_id.in_(instances), Event.activity == FIRST_TASK, Event.lifecycle == "completed"
                )
            ).all()
        )
        submissions = session.scalar(
            select(func.count()).select_from(FormSubmission).where(FormSubmission.human_task_id.in_(task_ids))
        )
    cp.close()
    once = sum(1 for instance_id in instances if completion_events[instance_id] == 1)
    answered = ", ".join(f"{count} x {status or 'no answer'}" for status, count in sorted(statuses.items()))
    good = (
        statuses[200] == len(task_ids)
        and task_status["completed"] == len(task_ids)
        and once == len(task_ids)
        and submissions == len(task_ids)
    )
    print(
        f"  check: {len(task_ids)} tasks (warm-up included): answers {answered}; {task_status['completed']} "
        f"completed, {once} with exactly one completion event, {submissions} form submissions: "
        + ("every task completed exactly once" if good else "NOT every task completed exactly once")
    )
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="a) timed start + complete sequences")
    parser.add_argument("--completions", type=int, default=400, help="b) timed completions")
    parser.add_argument("--threads", type=int, default=8, help="b) client threads")
    parser.add_argument("--warmup", type=int, default=5, help="a) sequences, b) completions per thread, not timed")
    parser.add_argument("--postgres", default=os.environ.get("CAREPATH_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--counts", type=int, default=20, help="a) sequences counted in this process (0: none)")
    args = parser.parse_args()
    good = True
    if not args.skip_sqlite:
        if args.runs:
            good = start_and_complete(args.runs, args.warmup) and good
        if args.counts:
            good = counts_in_process(args.counts, args.warmup) and good
    if args.postgres:
        good = (
            completions_per_second(args.postgres, args.completions, args.threads, args.warmup * args.threads) and good
        )
    else:
        print("b) PostgreSQL: skipped (give --postgres URL or set CAREPATH_TEST_POSTGRES_URL)")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
