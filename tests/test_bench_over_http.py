"""bench/over_http.py keeps working: a tiny run against real `carepath serve` processes (SQLite; PostgreSQL too
when CAREPATH_TEST_POSTGRES_URL is set). It checks that the work was done, never how fast (that is the
benchmark's own output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "over_http.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn needs a POSIX system")


def test_the_http_benchmark_runs_and_every_task_is_completed_exactly_once(tmp_path):
    postgres = os.environ.get("CAREPATH_TEST_POSTGRES_URL")
    args = [sys.executable, str(BENCH), "--runs", "3", "--counts", "2", "--completions", "16", "--warmup", "1"]
    done = subprocess.run(
        args + (["--postgres", postgres] if postgres else []),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "CAREPATH_TEST_POSTGRES_URL"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "start: POST /cases + GET /tasks?case_id=" in done.stdout
    assert "complete: POST /tasks/{id}/complete" in done.stdout
    assert "Python function calls" in done.stdout  # the counts made in the benchmark's own process
    if postgres:
        assert "answers 24 x 200" in done.stdout  # 16 timed + 1 warm-up per thread
        assert "every task completed exactly once" in done.stdout
