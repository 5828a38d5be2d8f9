"""The `carepath` command (CONTRACT.md): database, demo, server, worker, users, pathways, exports.

On bad input every command prints one line on stderr and exits non-zero, never a traceback.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from carepath.engine.app import Carepath
from carepath.engine.errors import CarepathError, PathwayInvalid
from carepath.engine.settings import Settings


class _Group(click.Group):
    """Turns engine errors and surprises into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except PathwayInvalid as exc:
            # The findings are the report (stdout, one per line, file:line: message); stderr gets one line.
            for finding in exc.findings:
                click.echo(str(finding))
            first = exc.findings[0] if exc.findings else "the pathway files are not valid"
            raise click.ClickException(f"{len(exc.findings)} problem(s) in the pathway files, first: {first}") from None
        except CarepathError as exc:
            raise click.ClickException(exc.message) from None
        except Exception as exc:  # noqa: BLE001 - the contract: one line, no traceback
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


def _carepath() -> Carepath:
    return Carepath(Settings.from_env())


@click.group(cls=_Group)
def cli():
    """Carepath: care-pathway automation for mental-health case management."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every task state change (and, at DEBUG, task data: health records). Keep it quiet.
    for noisy in ("spiff", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# ---------- database and demo ----------

@cli.group()
def db():
    """Database commands."""


@db.command("upgrade")
def db_upgrade():
    """Create or migrate the database (CAREPATH_DATABASE_URL; default SQLite under instance/)."""
    from carepath.engine.migrate import upgrade
    settings = Settings.from_env()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@cli.command()
def demo():
    """Load the demo agency (idempotent): a user per role (password `demo`) and a few clients."""
    from carepath.engine import demo as demo_data
    cp = _carepath()
    cp.sync_library()
    created = demo_data.load(cp)
    click.echo(f"demo agency ready: {created['users']} user(s) and {created['clients']} client(s) added")


# ---------- serving ----------

@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn")
@click.option("--with-worker", is_flag=True, help="also run `carepath worker` beside the web server")
def serve(host, port, workers, dev, with_worker):
    """Serve the web app and the API."""
    cp = _carepath()
    cp.sync_library()  # once, before forking: a broken library stops here with its findings
    cp.close()
    timer_worker = None
    if with_worker:
        timer_worker = subprocess.Popen([sys.executable, "-m", "carepath.web.cli", "worker"])
    try:
        if dev:
            from carepath.web import create_app
            create_app().run(host=host, port=port)
        else:
            _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": 4,
                       "timeout": 60, "graceful_timeout": 10, "accesslog": "-", "errorlog": "-",
                       # Path only: query strings (a client search) and referrers can carry names.
                       "access_log_format": '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'}).run()
    finally:
        if timer_worker is not None:
            timer_worker.send_signal(signal.SIGTERM)
            timer_worker.wait(timeout=15)


try:
    from gunicorn.app.base import BaseApplication
except ImportError:  # pragma: no cover - gunicorn is a dependency; Windows lacks it
    BaseApplication = object


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from carepath.web import create_app
        return create_app()


@cli.command()
@click.option("--once", is_flag=True, help="one sweep, then exit")
@click.option("--now", "now_text", help="fire what is due at this instant (ISO 8601, UTC)")
@click.option("--interval", default=15.0, show_default=True, help="seconds between sweeps")
def worker(once, now_text, interval):
    """Fire due timers and jobs (escalations, review cycles, follow-ups)."""
    from carepath.engine.timers import Worker
    now = _parse_instant(now_text) if now_text else None
    cp = _carepath()
    w = Worker(cp)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    while True:
        result = w.sweep(now)
        if result.fired or result.failed or once:
            click.echo(f"fired {result.fired} job(s), {result.failed} failed, {result.incidents} incident(s)")
        for error in result.errors:
            click.echo(error, err=True)
        if once or now is not None or stop["now"]:
            break
        for _ in range(int(interval * 10)):
            if stop["now"]:
                break
            time.sleep(0.1)
        if stop["now"]:
            break


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.ClickException(f"--now must be an ISO 8601 instant, e.g. 2026-12-01T09:00:00Z; got {text!r}")
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


# ---------- users ----------

@cli.group()
def user():
    """Staff accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="repeat for several roles")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def user_add(name, roles, password_stdin):
    """Create a user."""
    from carepath.engine import people
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("no password on standard input")
    cp = _carepath()
    with cp.db.begin() as session:
        people.add_user(session, name, list(roles), password, cp.clock.now())
    click.echo(f"user {name} added with role(s) {', '.join(roles)}")


@user.command("token")
@click.argument("name")
def user_token(name):
    """Print a new API token for the user (the last line is the token alone)."""
    from carepath.engine import people
    cp = _carepath()
    with cp.db.begin() as session:
        token = people.issue_token(session, name, cp.clock.now())
    click.echo(f"API token for {name} (shown once; keep it secret):")
    click.echo(token)


# ---------- pathways ----------

@cli.group()
def pathways():
    """Check and publish BPMN, DMN and form files."""


def _files(paths):
    from carepath.engine.pathway_files import FileSet
    files, findings = FileSet.from_paths([Path(p) for p in paths])
    if findings:
        raise PathwayInvalid(findings)
    settings = Settings.from_env()
    library, _ = FileSet.from_library(settings.workflows_dir, settings.forms_dir)
    # Forms and decision tables not given on the command line come from the library folders.
    support = {n: t for n, t in library.files.items() if not n.endswith(".bpmn")}
    return files, FileSet({**support, **files.files})


@pathways.command("validate")
@click.argument("paths", nargs=-1, required=True)
def pathways_validate(paths):
    """Check pathway files; print each problem with its file and line."""
    from carepath.engine import library
    given, files = _files(paths)
    only = {n[:-5] for n in given.files if n.endswith(".bpmn")}
    built = library.build(files, only=only)
    forms = [n for n in given.files if n.endswith(".json")]
    for name in forms:
        from carepath.engine.pathway_files import check_form
        _, findings = check_form(name, given.files[name])
        if findings:
            raise PathwayInvalid(findings)
    click.echo(f"ok: {len(built)} pathway(s), {len(forms)} form file(s) valid")


@pathways.command("check")
@click.argument("paths", nargs=-1)
@click.option("--episodes", default=200, show_default=True, type=click.IntRange(1, 1_000_000),
              help="random episodes to run (2000 or more for a deep check)")
@click.option("--seed", default=0, show_default=True, type=int, help="the same seed replays the same episodes")
@click.option("--first", default=0, show_default=True, type=click.IntRange(0), help="number of the first episode "
              "(with --episodes 1, replays one episode of a report)")
def pathways_check(paths, episodes, seed, first):
    """Run the pathway library on the real engine over random episodes and check the safety invariants.

    Without PATHs, checks the library folders; PATHs given replace the library's files of the same name."""
    from carepath.engine.safety.checker import check_library
    files = _library_with(paths)
    report = check_library(files, episodes=episodes, seed=seed, first=first)
    click.echo(report.text())
    if report.violations:
        raise click.ClickException(f"{len(report.violations)} safety invariant(s) broken; reproductions above")


@pathways.command("publish")
@click.argument("paths", nargs=-1, required=True)
@click.option("--accept-risk", "accept_risk", help="publish although the checker finds an invariant broken; the reason "
              "is recorded with the version")
@click.option("--episodes", default=200, show_default=True, type=click.IntRange(1, 1_000_000),
              help="episodes the pathway checker runs before publishing")
@click.option("--seed", default=0, show_default=True, type=int)
def pathways_publish(paths, accept_risk, episodes, seed):
    """Publish pathway files as new versions (running instances keep theirs), once the pathway checker finds
    every safety invariant held (or --accept-risk "reason")."""
    from carepath.engine.safety.gate import UnsafeLibrary, gated_publish
    given, _ = _files(paths)
    only = {n[:-5] for n in given.files if n.endswith(".bpmn")}
    if not only:
        raise click.ClickException("give at least one .bpmn file to publish")
    files = _library_with(paths)
    cp = _carepath()
    try:
        with cp.db.begin() as session:
            result = gated_publish(session, files, only, cp.clock.now(), origin="publish", by="cli",
                                   episodes=episodes, seed=seed, accept_risk=accept_risk)
            rows = [(row.process_id, row.version) for row in result.versions]
    except UnsafeLibrary as exc:
        click.echo(exc.report.text())
        raise click.ClickException(exc.message) from None
    click.echo(result.report.summary())
    if result.report.violations:
        click.echo(f"published over {len(result.report.violations)} broken invariant(s); accepted risk recorded: "
                   f"{accept_risk.strip()}")
    for process_id, version in rows:
        click.echo(f"published {process_id} version {version}")


def _library_with(paths):
    """The library folders' files, with the files given replacing those of the same name."""
    from carepath.engine.pathway_files import FileSet
    settings = Settings.from_env()
    library_files, _ = FileSet.from_library(settings.workflows_dir, settings.forms_dir)
    if not paths:
        return library_files
    given, findings = FileSet.from_paths([Path(p) for p in paths])
    if findings:
        raise PathwayInvalid(findings)
    return FileSet({**library_files.files, **given.files})


# ---------- exports ----------

@cli.group()
def export():
    """Exports."""


@export.command("events")
@click.option("--format", "fmt", type=click.Choice(["csv", "xes"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="file to write (default: stdout)")
def export_events(fmt, output):
    """The event log, for adherence review and process mining."""
    from carepath.engine import audit
    from carepath.engine.export import events_csv, events_xes
    cp = _carepath()
    with cp.db.begin() as session:
        text = events_csv(session) if fmt == "csv" else events_xes(session)
        audit.record(session, None, "export", "events", fmt, None, cp.clock.now())
    if output:
        Path(output).write_text(text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def main():
    """Run the CLI; a usage mistake is one line on stderr (exit 2), like every other error (exit 1)."""
    try:
        cli.main(prog_name="carepath", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        click.echo(f"Error: {exc.format_message()} (see carepath --help)", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
