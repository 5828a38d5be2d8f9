"""What every staff page shares: the engine and its clock, navigation by role, date and label filters."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, request, url_for

from carepath.engine.access import CLINICAL_ROLES, READ_EVERY_RECORD, RECORD_READERS, REGISTRARS, TEAM_LEADS
from carepath.engine.authoring.drafts import READERS as LIBRARY_READERS
from carepath.engine.quality.facade import MEASURE_READERS

from .appstate import cp, now
from .auth import current_actor
from .hardening import safe_path

bp = Blueprint("ui", __name__)

# (endpoint, label, roles that see it; None = everyone signed in). Routes check the same roles.
NAV = (
    ("inbox.index", "Inbox", None),
    ("caseload.index", "My caseload", frozenset({"case_manager"})),
    ("supervision.overdue", "Overdue work", TEAM_LEADS),
    ("clients.search", "Clients", RECORD_READERS),
    ("clients.new", "Register a client", REGISTRARS),
    ("access.log", "Break-the-glass log", READ_EVERY_RECORD),
    ("contacts.billing", "Contacts for billing", READ_EVERY_RECORD),
    ("pathways.index", "Pathways", LIBRARY_READERS),
    ("quality.index", "Quality", MEASURE_READERS),
)
INSTRUMENTS = {"phq9": "PHQ-9", "gad7": "GAD-7", "asq": "ASQ", "audit_c": "AUDIT-C", "auditc": "AUDIT-C"}


def safe_next(default: str) -> str:
    """A same-site path from the form's `next` field (where the person came from), else `default`."""
    return safe_path(request.form.get("next") or request.args.get("next")) or default


def back(default_endpoint: str, **values):
    return redirect(safe_next(url_for(default_endpoint, **values)))


def is_team_lead(actor) -> bool:
    return actor is not None and actor.has_any(TEAM_LEADS)


@bp.app_context_processor
def _navigation():
    actor = current_actor()
    items = []
    if actor is not None:
        for endpoint, label, roles in NAV:
            if roles is None or actor.has_any(roles):
                items.append(
                    {
                        "endpoint": endpoint,
                        "label": label,
                        "url": url_for(endpoint),
                        "current": request.endpoint == endpoint
                        or (request.blueprint == endpoint.split(".")[0] and endpoint.endswith(".index")),
                    }
                )
    return {"nav_items": items, "clinical_roles": CLINICAL_ROLES}


def _as_datetime(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@bp.app_template_filter("when")
def when(value, with_time: bool = True) -> str:
    """ "Mon 2 Mar 2026, 09:00" in the agency's time zone (CAREPATH_TIMEZONE; stored times are UTC)."""
    at = _as_datetime(value)
    if at is None:
        return "—"
    at = at.astimezone(cp().settings.zone())
    text = f"{at:%a} {at.day} {at:%b %Y}"
    return f"{text}, {at:%H:%M}" if with_time else text


@bp.app_template_filter("isodate")
def isodate(value) -> str:
    at = _as_datetime(value)
    return at.astimezone(UTC).isoformat() if at else ""


@bp.app_template_filter("relative")
def relative(value) -> str:
    """ "in 3 days", "2 hours ago": how far an instant is from now."""
    at = _as_datetime(value)
    if at is None:
        return ""
    seconds = (at - now()).total_seconds()
    span = abs(seconds)
    if span < 60:
        return "now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if span >= size:
            count = int(span // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if seconds > 0 else f"{text} ago"
    return "now"


@bp.app_template_filter("duration")
def duration(seconds) -> str:
    """A span of seconds in words: "2 days 3 hours", "45 minutes", "under a minute"."""
    if seconds is None:
        return "—"
    span, parts = abs(int(seconds)), []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, span = divmod(span, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "under a minute"


@bp.app_template_filter("overdue_by")
def overdue_by(value) -> str:
    return relative(value).removesuffix(" ago")


@bp.app_template_filter("label")
def label(name) -> str:
    """ "safety_planning" -> "Safety planning"; instrument ids get their published names."""
    if name is None:
        return ""
    text = str(name)
    if text in INSTRUMENTS:
        return INSTRUMENTS[text]
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


@bp.app_template_filter("risk_label")
def risk_label(level) -> str:
    """A case's current risk for people: a running crisis pathway reads "Active crisis"."""
    return "Active crisis" if level == "crisis" else label(level)


@bp.app_template_filter("day")
def day(value) -> str:
    """A date in words, "14 March 2026" (plans, client copies): never a raw ISO date."""
    at = _as_datetime(value)
    if at is None:
        return str(value or "—")
    if len(str(value)) > 10:
        at = at.astimezone(cp().settings.zone())
    return f"{at.day} {at:%B %Y}"
