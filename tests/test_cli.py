"""The `carepath` command as the README gives it, on a private database: in-process with Click's runner
(the same entry point the installed command runs), and `serve` end to end as a real process."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from carepath.web.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CAREPATH = [sys.executable, "-m", "carepath.web.cli"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(sqlite_url, tmp_path):
    env = {
        "CAREPATH_DATABASE_URL": sqlite_url,
        "CAREPATH_SECRET_KEY": "cli-test-secret",
        "CAREPATH_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    runner = CliRunner(env=env)

    def run(*args, stdin: str | None = None, ok: bool = True) -> Ran:
        result = runner.invoke(cli, list(args), input=stdin, catch_exceptions=False)
        ran = Ran(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert ran.returncode == 0, ran.stderr
        return ran

    run.env = dict(os.environ, **env)
    return run


def _one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_users_and_tokens(run):
    run(
        "user",
        "add",
        "dana",
        "--role",
        "case_manager",
        "--role",
        "clinician",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    token = run("user", "token", "dana").stdout.strip().splitlines()[-1]
    assert token.startswith("cp_") and " " not in token
    assert "already exists" in _one_line_error(run("user", "add", "dana", "--role", "intake", ok=False))
    assert "Roles must be among" in _one_line_error(run("user", "add", "eve", "--role", "wizard", ok=False))
    assert "No user" in _one_line_error(run("user", "token", "nobody", ok=False))


def test_tokens_are_listed_revoked_and_end_with_a_disabled_user(run, sqlite_url):
    """`carepath user tokens / revoke / disable` against the API the tokens open (a real app on the database)."""
    from carepath.engine.app import Carepath
    from carepath.engine.settings import Settings
    from carepath.web import create_app

    first = run("user", "token", "quality").stdout.strip().splitlines()
    second = run("user", "token", "quality", "--days", "2").stdout.strip().splitlines()[-1]
    token_id = int(first[0].split()[2])
    listed = run("user", "tokens", "quality").stdout
    assert len(listed.splitlines()) == 2 and "active" in listed and "cp_" not in listed
    cp = Carepath(Settings(database_url=sqlite_url, secret_key="cli-test-secret", sync_library_on_start=False))
    api = create_app(carepath=cp).test_client()

    def me(token):
        return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    assert (me(first[-1]), me(second)) == (200, 200)
    assert run("user", "revoke", str(token_id)).stdout.strip() == f"token {token_id} of quality revoked"
    assert (me(first[-1]), me(second)) == (401, 200)
    assert "revoked" in run("user", "tokens", "quality").stdout
    assert "No API token" in _one_line_error(run("user", "revoke", "99999", ok=False))
    assert "1 token(s) revoked" in run("user", "disable", "quality").stdout
    assert me(second) == 401
    assert "is disabled" in _one_line_error(run("user", "token", "quality", ok=False))
    run("user", "enable", "quality")
    assert me(second) == 401  # a disabled user's old tokens stay revoked
    cp.close()


def test_db_upgrade_and_demo_are_idempotent(run):
    assert run("db", "upgrade").returncode == 0
    first = run("demo").stdout
    assert "7 user(s)" not in first  # the test database already has one user per role
    second = run("demo").stdout
    assert "0 user(s) and 0 client(s) added" in second


def test_pathways_validate_and_publish(run, tmp_path):
    ok = run("pathways", "validate", *sorted(str(p) for p in (ROOT / "workflows").glob("*")))
    assert ok.stdout.startswith("ok:")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not really")
    result = run("pathways", "validate", str(bad), ok=False)
    assert "bad.bpmn:1: not well-formed XML" in result.stdout  # the report: one finding a line
    assert "1 problem(s)" in _one_line_error(result)
    assert "no such file" in _one_line_error(run("pathways", "validate", str(tmp_path / "none.bpmn"), ok=False))
    assert "Missing argument" in _one_line_error(run("pathways", "validate", ok=False))
    assert "--role" in _one_line_error(run("user", "add", "nobody", ok=False))

    edited = tmp_path / "intake.bpmn"
    edited.write_text((ROOT / "workflows" / "intake.bpmn").read_text() + "<!-- agency edit -->\n")
    published = run("pathways", "publish", str(edited), "--episodes", "3").stdout
    assert "published intake version 2" in published and "0 violation(s)" in published


def test_pathways_check_runs_the_library_and_reports_its_figures(run):
    out = run("pathways", "check", "--episodes", "2", "--seed", "5").stdout
    assert "2 episodes" in out and "tasks completed" in out and "distinct paths" in out and "0 violation(s)" in out
    assert "--seed" in _one_line_error(run("pathways", "check", "--seed", "x", ok=False))


def test_export_events_csv_and_xes(run, tmp_path):
    run("demo")
    text = run("export", "events", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0]) == [
        "case_id",
        "client_id",
        "pathway",
        "pathway_version",
        "instance_id",
        "activity",
        "activity_name",
        "lifecycle",
        "timestamp",
        "role",
        "user",
    ]
    assert {r["lifecycle"] for r in rows} >= {"ready", "completed"}
    assert all(r["timestamp"].endswith("Z") for r in rows)
    out = tmp_path / "events.xes"
    run("export", "events", "--format", "xes", "--output", str(out))
    log = ElementTree.parse(out).getroot()
    ns = {"x": "http://www.xes-standard.org/"}
    traces = log.findall("x:trace", ns)
    assert len(traces) == len({r["case_id"] for r in rows})
    events = log.findall("x:trace/x:event", ns)
    assert len(events) == len(rows)
    keys = {el.get("key") for el in events[0]}
    assert {"concept:name", "lifecycle:transition", "time:timestamp"} <= keys
    assert "'pdf' is not one of" in _one_line_error(run("export", "events", "--format", "pdf", ok=False))
    import getpass

    from sqlalchemy import create_engine, text

    engine = create_engine(run.env["CAREPATH_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, channel, record_id FROM audit_log WHERE action = 'export' ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (f"os:{getpass.getuser()}", "cli", "events.csv"),
        (f"os:{getpass.getuser()}", "cli", "events.xes"),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            assert proc.poll() is None, "server exited"
            time.sleep(0.2)
    raise AssertionError("server did not answer")


def test_serve_answers_and_stops_cleanly(run):
    port = _free_port()
    proc = subprocess.Popen(
        [*CAREPATH, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        status, page = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert status == 200 and "Sign in" in page
        status, body = _wait_for(f"http://127.0.0.1:{port}/api/v1/me", proc)
        assert status == 401 and '"error"' in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
