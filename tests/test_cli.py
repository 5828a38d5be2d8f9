"""The `carepath` command as CONTRACT.md gives it, run as a real process on a private database."""
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
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAREPATH = [sys.executable, "-m", "carepath.web.cli"]


@pytest.fixture
def run(sqlite_url):
    env = dict(os.environ, CAREPATH_DATABASE_URL=sqlite_url, CAREPATH_SECRET_KEY="cli-test-secret")

    def run(*args, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*CAREPATH, *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                                text=True, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    run.env = env
    return run


def _one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_users_and_tokens(run):
    run("user", "add", "dana", "--role", "case_manager", "--role", "clinician", "--password-stdin",
        stdin="a long passphrase\n")
    token = run("user", "token", "dana").stdout.strip().splitlines()[-1]
    assert token.startswith("cp_") and " " not in token
    assert "already exists" in _one_line_error(run("user", "add", "dana", "--role", "intake", ok=False))
    assert "Roles must be among" in _one_line_error(run("user", "add", "eve", "--role", "wizard", ok=False))
    assert "No user" in _one_line_error(run("user", "token", "nobody", ok=False))


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
    assert rows and list(rows[0]) == ["case_id", "client_id", "pathway", "pathway_version", "instance_id", "activity",
                                      "activity_name", "lifecycle", "timestamp", "role", "user"]
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
    proc = subprocess.Popen([*CAREPATH, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=run.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        status, page = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert status == 200 and "Sign in" in page
        status, body = _wait_for(f"http://127.0.0.1:{port}/api/v1/me", proc)
        assert status == 401 and '"error"' in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
