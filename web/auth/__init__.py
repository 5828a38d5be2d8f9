"""Sign-in and sign-out for staff, and the decorator every staff page uses to check the caller's role.

The session cookie (signed by Flask) carries only a random session id; the session lives on the server
(engine/signin.py), so signing out, an idle timeout or a disabled account ends it for every copy of the
cookie."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from carepath.engine.access import Actor
from carepath.engine.errors import NotAllowed, NotAuthenticated, TooManyAttempts

from ..appstate import cp
from ..hardening import safe_path

bp = Blueprint("auth", __name__)


SESSION_KEY = "sid"


def current_actor() -> Actor | None:
    """The signed-in person of a live server-side session, re-read on each request (a session that was
    signed out, idled too long or belongs to a disabled account stops at once)."""
    if "actor" in g:
        return g.actor
    token = session.get(SESSION_KEY)
    actor = cp().actor_for_session(token) if isinstance(token, str) else None
    if actor is None and token is not None:
        session.pop(SESSION_KEY, None)
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


def landing_url() -> str:
    endpoint = current_app.config.get("CAREPATH_HOME_ENDPOINT", "auth.home")
    return url_for(endpoint)


@bp.route("/", methods=["GET", "POST"])
def signin():
    if request.method == "GET" and current_actor() is not None:
        return redirect(landing_url())
    status, error, headers = 200, None, {}
    if request.method == "POST":
        try:
            signed_in = cp().sign_in(
                request.form.get("username", ""), request.form.get("password", ""), request.remote_addr or "unknown"
            )
        except NotAuthenticated as exc:
            status, error = 401, exc.message
        except TooManyAttempts as exc:
            status, error, headers = 429, exc.message, {"Retry-After": str(exc.retry_after)}
        if error is None:
            session.clear()  # a fresh session on sign-in (no fixation)
            session[SESSION_KEY] = signed_in.session_token
            session.permanent = True
            # Only same-site paths: an attacker's link must not bounce a signed-in person elsewhere.
            return redirect(safe_path(request.args.get("next")) or landing_url())
    return (
        render_template("auth/signin.html", error=error, username=request.form.get("username", "")[:64]),
        status,
        headers,
    )


@bp.post("/signout")
def signout():
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        cp().sign_out(token)  # on the server: a copy of the cookie stops working too
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.signin"))


@bp.get("/home")
@login_required()
def home():
    return render_template("auth/home.html")
