"""Settings: every value comes from a CAREPATH_* environment variable, read once, in one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The installed `carepath` package (the source tree in a development install): the bundled pathway library
# lives beside the engine, in carepath/workflows and carepath/forms.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _default_instance_dir() -> Path:
    return Path("instance").resolve()


@dataclass(frozen=True)
class Settings:
    # Where this installation keeps its own files: the SQLite database by default, the generated secret key.
    instance_dir: Path = field(default_factory=_default_instance_dir)
    database_url: str = ""
    workflows_dir: Path = PACKAGE_ROOT / "workflows"
    forms_dir: Path = PACKAGE_ROOT / "forms"
    secret_key: str = ""
    # Seconds one engine step (scripts, conditions, DMN, timer expressions) may run before it is stopped.
    step_time_limit: float = 2.0
    # Megabytes of memory pathway code may take (in its sandbox process) on top of the interpreter's own.
    script_memory_mb: int = 256
    # Episodes the pathway checker runs when a supervisor approves a draft or rolls back (it runs inside that
    # request, about a second an episode); `carepath pathways publish --episodes` and `pathways check` go deeper.
    approval_episodes: int = 25
    # Cookies marked Secure only travel over HTTPS; off for the local demo on plain http://127.0.0.1.
    secure_cookies: bool = False
    # Sign-in throttle (engine/signin.py): failures of one account at one address, and of one address at any
    # account, before that pair or address must wait (30 s, doubling up to 15 min); failures are remembered
    # for `signin_window` seconds; each failure on an account beyond `signin_account_delay_after` (from
    # anywhere) delays its next attempts by 0.25 s, at most `signin_account_delay_max` seconds.
    signin_max_failures: int = 5
    signin_address_failures: int = 20
    signin_window: int = 900
    signin_account_delay_after: int = 5
    signin_account_delay_max: float = 2.0
    # A signed-in browser's session ends after this many idle minutes, and in any case after `session_max_hours`.
    session_idle_minutes: float = 30.0
    session_max_hours: float = 12.0
    # Days a new API token lasts (`carepath user token NAME --days N` to choose per token).
    token_days: float = 30.0
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted for the client's address (0: none;
    # the sign-in throttle then keys on the connecting address).
    proxy_hops: int = 0
    sync_library_on_start: bool = True
    # The agency's time zone, for showing times to staff (IANA name). Everything is stored in UTC.
    display_timezone: str = "UTC"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if env.get("CAREPATH_INSTANCE_DIR"):
            values["instance_dir"] = Path(env["CAREPATH_INSTANCE_DIR"]).resolve()
        if env.get("CAREPATH_DATABASE_URL"):
            values["database_url"] = env["CAREPATH_DATABASE_URL"]
        if env.get("CAREPATH_WORKFLOWS_DIR"):
            values["workflows_dir"] = Path(env["CAREPATH_WORKFLOWS_DIR"])
        if env.get("CAREPATH_FORMS_DIR"):
            values["forms_dir"] = Path(env["CAREPATH_FORMS_DIR"])
        if env.get("CAREPATH_STEP_TIME_LIMIT"):
            values["step_time_limit"] = float(env["CAREPATH_STEP_TIME_LIMIT"])
        if env.get("CAREPATH_SCRIPT_MEMORY_MB"):
            values["script_memory_mb"] = int(env["CAREPATH_SCRIPT_MEMORY_MB"])
        if env.get("CAREPATH_APPROVAL_EPISODES"):
            values["approval_episodes"] = int(env["CAREPATH_APPROVAL_EPISODES"])
        if env.get("CAREPATH_SECURE_COOKIES"):
            values["secure_cookies"] = env["CAREPATH_SECURE_COOKIES"].lower() in ("1", "true", "yes")
        if env.get("CAREPATH_TIMEZONE"):
            values["display_timezone"] = env["CAREPATH_TIMEZONE"]
        for name, kind in (
            ("session_idle_minutes", float),
            ("session_max_hours", float),
            ("token_days", float),
            ("proxy_hops", int),
            ("signin_max_failures", int),
            ("signin_address_failures", int),
            ("signin_account_delay_max", float),
        ):
            text = env.get(f"CAREPATH_{name.upper()}")
            if text:
                try:
                    values[name] = kind(text)
                except ValueError:
                    raise ValueError(f"CAREPATH_{name.upper()} must be a number; got {text!r}") from None
        values["secret_key"] = env.get("CAREPATH_SECRET_KEY", "")
        settings = cls(**values)
        settings.zone()  # fail fast on a misspelt time zone
        return settings

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.instance_dir / 'carepath.db'}")

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.display_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"CAREPATH_TIMEZONE {self.display_timezone!r} is not a known time zone "
                "(use an IANA name such as America/Chicago)"
            ) from None

    def session_secret(self) -> str:
        """The key that signs session cookies and CSRF tokens.

        Without CAREPATH_SECRET_KEY a random key is kept in the instance directory, which suits one host;
        several hosts behind a load balancer must share CAREPATH_SECRET_KEY."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()
