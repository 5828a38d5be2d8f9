"""The `carepath` command (README, "Command line"): database, demo, server, worker, users, pathways, exports.

On bad input every command prints one line on stderr and exits non-zero, never a traceback.
"""

from __future__ import annotations

import getpass
import logging
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
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

    def main(self, args=None, prog_name=None, **extra):
        """Run the CLI; a usage mistake is one line on stderr (exit 2), like every other error (exit 1)."""
        try:
            return super().main(args, prog_name or "carepath", standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            click.echo(f"Error: {exc.format_message()} (see carepath --help)", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)


def _carepath() -> Carepath:
    """The engine for this command, closed (its connections released) when the command ends."""
    cp = Carepath(Settings.from_env())
    click.get_current_context().call_on_close(cp.close)
    return cp


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
            _Gunicorn(
                {
                    "bind": f"{host}:{port}",
                    "workers": workers,
                    "worker_class": "gthread",
                    "threads": 4,
                    "timeout": 60,
                    "graceful_timeout": 10,
                    "accesslog": "-",
                    "errorlog": "-",
                    # Path only: query strings (a client search) and referrers can carry names.
                    "access_log_format": '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
                }
            ).run()
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
        raise click.ClickException(
            f"--now must be an ISO 8601 instant, e.g. 2026-12-01T09:00:00Z; got {text!r}"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


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
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("no password on standard input")
    _carepath().add_user(name, list(roles), password)
    click.echo(f"user {name} added with role(s) {', '.join(roles)}")


@user.command("token")
@click.argument("name")
@click.option(
    "--days",
    type=click.FloatRange(min=0.001, max=3650),
    default=None,
    help="how long it lasts (default CAREPATH_TOKEN_DAYS, 30)",
)
def user_token(name, days):
    """Print a new API token for the user (the last line is the token alone)."""
    token_id, token = _carepath().issue_token(name, days)
    click.echo(
        f"API token {token_id} for {name} (shown once; keep it secret; `carepath user revoke {token_id}` ends it):"
    )
    click.echo(token)


@user.command("tokens")
@click.argument("name")
def user_tokens(name):
    """List the user's API tokens: id, status, created, expires, last used (never the tokens)."""
    rows = _carepath().list_tokens(name)
    if not rows:
        click.echo(f"{name} has no API tokens")
    for t in rows:
        click.echo(
            f"{t['id']}\t{t['status']}\tcreated {t['created_at']}\texpires {t['expires_at']}"
            f"\tlast used {t['last_used_at'] or 'never'}"
        )


@user.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
def user_revoke(token_id):
    """Revoke one API token by its id (from `carepath user tokens NAME`); it stops working at once."""
    done = _carepath().revoke_token(token_id)
    click.echo(f"token {done['id']} of {done['user']} revoked")


@user.command("disable")
@click.argument("name")
def user_disable(name):
    """The user can no longer sign in; their sessions and API tokens stop working at once."""
    done = _carepath().set_user_active(name, False)
    click.echo(
        f"user {name} disabled: {done['sessions_ended']} session(s) ended, {done['tokens_revoked']} token(s) revoked"
    )


@user.command("enable")
@click.argument("name")
def user_enable(name):
    """Let a disabled user sign in again (their old sessions and tokens stay ended)."""
    _carepath().set_user_active(name, True)
    click.echo(f"user {name} enabled")


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
    support = FileSet({n: t for n, t in library.files.items() if not n.endswith(".bpmn")})
    return files, files.with_fallback(support)


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
@click.option(
    "--episodes",
    default=200,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="random episodes to run (2000 or more for a deep check)",
)
@click.option("--seed", default=0, show_default=True, type=int, help="the same seed replays the same episodes")
@click.option(
    "--first",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="number of the first episode (with --episodes 1, replays one episode of a report)",
)
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
@click.option(
    "--accept-risk",
    "accept_risk",
    help="publish although the checker finds an invariant broken; the reason is recorded with the version",
)
@click.option(
    "--episodes",
    default=200,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="episodes the pathway checker runs before publishing",
)
@click.option("--seed", default=0, show_default=True, type=int)
def pathways_publish(paths, accept_risk, episodes, seed):
    """Publish pathway files as new versions (running instances keep theirs), once the pathway checker finds
    every safety invariant held (or --accept-risk "reason")."""
    from carepath.engine.safety.gate import SafetyGate, UnsafeLibrary

    given, _ = _files(paths)
    only = {n[:-5] for n in given.files if n.endswith(".bpmn")}
    if not only:
        raise click.ClickException("give at least one .bpmn file to publish")
    files = _library_with(paths)
    try:
        rows, report = _carepath().publish_files(
            files, only, "cli", SafetyGate(episodes=episodes, seed=seed), accept_risk
        )
    except UnsafeLibrary as exc:
        click.echo(exc.report.text())
        raise click.ClickException(exc.message) from None
    click.echo(report.summary())
    if report.violations:
        click.echo(
            f"published over {len(report.violations)} broken invariant(s); accepted risk recorded: "
            f"{accept_risk.strip()}"
        )
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
@click.option("--from", "first", help="first UTC date to include (YYYY-MM-DD); default: the whole log")
@click.option("--to", "last", help="last UTC date to include (YYYY-MM-DD)")
def export_events(fmt, output, first, last):
    """The event log, for adherence review and process mining (streamed: any size, little memory)."""
    cp = _carepath()
    since, before = _utc_day(first, "--from"), _utc_day(last, "--to")
    if before is not None:
        before += timedelta(days=1)  # --to is included
    who = f"os:{getpass.getuser()}"[:64]  # the audit log says who exported (the account running the command)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as out:
            cp.export_events(fmt, out, who=who, target=str(Path(output).resolve()), since=since, before=before)
        click.echo(f"wrote {output}", err=True)
    else:
        cp.export_events(fmt, sys.stdout, who=who, since=since, before=before)


def _utc_day(text: str | None, option: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date written YYYY-MM-DD.", param_hint=option) from None


def main() -> None:
    cli.main()


if __name__ == "__main__":
    main()
