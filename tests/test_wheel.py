"""The built wheel is a whole Carepath: installed into a fresh virtual environment (its declared dependencies
from the package index), it upgrades a database, loads the demo agency with the bundled pathways and serves
the app from an empty directory, with nothing taken from this source tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

from test_cli import _free_port, _wait_for

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list, cwd: Path, env: dict, timeout: int = 180) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_and_runs_from_an_empty_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREPATH_", "VIRTUAL_ENV", "PYTHON"))}
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        tmp_path,
        env,
    )
    wheel = next((tmp_path / "dist").glob("carepath-*.whl"))
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        tmp_path,
        env,
    )

    home = tmp_path / "empty"
    home.mkdir()
    carepath = str(bin_dir / "carepath")
    assert "up to date" in _run([carepath, "db", "upgrade"], home, env)
    assert "7 client(s) added" in _run([carepath, "demo"], home, env)
    assert (home / "instance" / "carepath.db").exists()  # the instance directory, not site-packages

    port = _free_port()
    proc = subprocess.Popen(
        [carepath, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        status, page = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert status == 200 and "Sign in" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    installed = _run(
        [str(bin_dir / "python"), "-c", "import carepath.engine.settings as s; print(s.PACKAGE_ROOT)"], home, env
    ).strip()
    assert installed.startswith(str(tmp_path / "venv"))  # the bundled library, from the installed package
