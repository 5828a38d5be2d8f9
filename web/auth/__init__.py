"""Sign-in and sign-out for staff, and the decorator every staff page uses to check the caller's role."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from carepath.engine.access import Actor
from carepath.engine.errors import NotAllowed, NotAuthenticated, TooManyAttempts

from ..appstate import cp

bp = Blueprint("auth", __name__)


def current_actor() -> Actor | None:
    """The signed-in person, re-read from the database on each request (a disabled account stops at once)."""
    if "actor" in g:
        return g.actor
    user_id = session.get("user_id")
    actor = cp().actor_by_id(user_id) if isinstance(user_id, int) else None
    g.actor = actor
    return actor


def login_required(roles=None):
    """Staff pages: signed in, and (if `roles`) holding one of them; checked on the server every time."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return redirect(url_for("auth.signin", next=request.full_path if request.method == "GET" else None))
            if roles is not None and not actor.has_any(roles):
                raise NotAllowed("Your role does not give access to this page.")
            return view(*args, **kwargs)
        return wrapped
    return decorate


@bp.app_context_processor
def _inject_actor():
    return {"actor": current_actor()}


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an attacker's link must not bounce a signed-in user elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def landing_url() -> str:
    endpoint = current_app.config.get("CAREPATH_HOME_ENDPOINT", "auth.home")
    return url_for(endpoint)


@bp.route("/", methods=["GET", "POST"])
def signin():
    if request.method == "GET" and current_actor() is not None:
        return redirect(landing_url())
    status, error = 200, None
    if request.method == "POST":
        try:
            actor = cp().sign_in(request.form.get("username", ""), request.form.get("password", ""))
        except NotAuthenticated as exc:
            status, error = 401, exc.message
        except TooManyAttempts as exc:
            status, error = 429, exc.message
        if error is None:
            session.clear()  # a fresh session on sign-in (no fixation)
            session["user_id"] = actor.id
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or landing_url())
    return render_template("auth/signin.html", error=error, username=request.form.get("username", "")), status


@bp.post("/signout")
def signout():
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.signin"))


@bp.get("/home")
@login_required()
def home():
    return render_template("auth/home.html")
