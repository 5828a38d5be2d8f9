"""The step limit in a real server: `carepath serve` (gunicorn, threaded workers, where SIGALRM cannot
reach the threads serving requests) keeps answering while a request runs a looping script, and that
request gets its JSON error within about the limit.

On SQLite every transaction takes the database's one write lock (BEGIN IMMEDIATE), so requests that
touch the database wait for the looping step to be stopped (that wait is what the limit bounds); the
others are answered at once. On PostgreSQL the database requests are answered at once as well."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from hostile_code import LIMIT, SLACK, start

from carepath.engine import people
from carepath.engine.app import Carepath
from carepath.engine.settings import Settings
from support import CaseDriver, actors_of

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn and the sandbox need Linux")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, path: str, token: str, body: dict | None = None, timeout: float = 30.0):
    request = urllib.request.Request(
        base + path,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    return status, json.loads(payload or b"null"), time.monotonic() - started


@pytest.fixture
def served(any_database_url, clock, tmp_path):
    """A served app on a free port whose case waits at a task followed by `while True: pass`."""
    cp = Carepath(
        Settings(database_url=any_database_url, secret_key="test-secret-key", sync_library_on_start=False), clock
    )
    actors = actors_of(cp)
    case_id, task = start(cp, CaseDriver(cp, actors), actors, "spin_served", "script", "while True: pass")
    with cp.db.begin() as session:
        # The server runs on real time (the tests' clock is months behind it): tokens must be valid now.
        tokens = {u: people.issue_token(session, u, datetime.now(UTC)) for u in ("case_manager", "admin")}
    cp.close()
    port = _free_port()
    env = {
        **os.environ,
        "CAREPATH_DATABASE_URL": any_database_url,
        "CAREPATH_INSTANCE_DIR": str(tmp_path / "instance"),
        "CAREPATH_SECRET_KEY": "served-test-key",
        "CAREPATH_STEP_TIME_LIMIT": str(LIMIT),
    }
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "carepath.web.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        yield {"base": base, "task_id": task.id, "tokens": tokens, "sqlite": any_database_url.startswith("sqlite")}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_the_server_answers_during_and_after_a_looping_step(served):
    base, tokens = served["base"], served["tokens"]
    outcome = {}

    def complete():
        outcome["answer"] = _call(
            base,
            f"/api/v1/tasks/{served['task_id']}/complete",
            tokens["case_manager"],
            {"data": {"text": "go on"}},
            timeout=LIMIT + 20,
        )

    poster = threading.Thread(target=complete, daemon=True)
    poster.start()
    time.sleep(LIMIT / 3)
    assert poster.is_alive()
    status, _, took = _call(base, "/api/v1/openapi.json", tokens["case_manager"])
    assert status == 200 and took < 0.5, (status, took)
    assert poster.is_alive()
    status, me, took = _call(base, "/api/v1/me", tokens["case_manager"])
    assert status == 200 and me["username"] == "case_manager", status
    assert took < (LIMIT + SLACK if served["sqlite"] else 0.5), took

    poster.join(LIMIT + 25)
    assert not poster.is_alive(), "the looping request never came back"
    status, body, took = outcome["answer"]
    assert status == 500 and body["error"]["code"] == "pathway_error", body
    assert "time limit" in body["error"]["message"] and took < LIMIT + SLACK + 0.5, (took, body)

    status, _, took = _call(base, "/api/v1/me", tokens["case_manager"])
    assert status == 200 and took < 1.0
    status, incidents, _ = _call(base, "/api/v1/incidents", tokens["admin"])
    assert status == 200 and [(i["source"], i["kind"], i["element"]) for i in incidents] == [
        ("step", "time_limit", "x")
    ]
