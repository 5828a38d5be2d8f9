"""Carepath web app: the staff UI (server-rendered) and the JSON API. Imports the engine, never the reverse."""

from __future__ import annotations

import logging

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from carepath.engine.app import Carepath
from carepath.engine.settings import Settings

from . import hardening

csrf = CSRFProtect()


def create_app(settings: Settings | None = None, carepath: Carepath | None = None) -> Flask:
    """Build the app. Tests pass `settings` (and may pass a `carepath` with a fixed clock)."""
    settings = settings or (carepath.settings if carepath else Settings.from_env())
    cp = carepath or Carepath(settings)
    if settings.sync_library_on_start:
        cp.sync_library()

    # The instance folder is ours to name (CAREPATH_INSTANCE_DIR): Flask cannot guess it for a namespace package.
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="carepath_session",
        # The cookie lasts as long as a session may; the session itself (idle time, sign-out, a disabled
        # account) is checked on the server at every request (engine/signin.py).
        PERMANENT_SESSION_LIFETIME=int(settings.session_max_hours * 3600),
        WTF_CSRF_TIME_LIMIT=int(settings.session_max_hours * 3600),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["carepath"] = cp
    if settings.proxy_hops:
        # Behind reverse proxies: the client's address (the sign-in throttle's key) from X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)
    hardening.init_app(app)
    csrf.init_app(app)

    from . import errors
    from .access import bp as access_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .caseload import bp as caseload_bp
    from .cases import bp as cases_bp
    from .clients import bp as clients_bp
    from .contacts import bp as contacts_bp
    from .documents import bp as documents_bp
    from .inbox import bp as inbox_bp
    from .pathways import bp as pathways_bp
    from .quality import bp as quality_bp
    from .supervision import bp as supervision_bp
    from .tasks import bp as tasks_bp
    from .ui import bp as ui_bp

    errors.register(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp)
    for staff_bp in (
        ui_bp,
        inbox_bp,
        tasks_bp,
        clients_bp,
        cases_bp,
        access_bp,
        pathways_bp,
        quality_bp,
        contacts_bp,
        caseload_bp,
        supervision_bp,
        documents_bp,
    ):
        app.register_blueprint(staff_bp)
    app.config["CAREPATH_HOME_ENDPOINT"] = "inbox.index"

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
        )
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Request logs carry paths and statuses only; bodies (health records) are never logged.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app
