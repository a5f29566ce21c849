"""The collegesearch web app: ``create_app()`` builds a Flask app from the settings (Flask tutorial factory).

``flask --app webapp run`` serves it for development; ``collegesearch serve`` runs it under gunicorn.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from collegesearch.config import SETTINGS_BY_NAME, Settings, load_settings
from webapp.config_error import AppConfigError
from webapp.db import shared_secret_key


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, then ``test_config``, extensions, blueprints, shared searcher."""
    app = Flask(__name__)

    settings = _settings_for(test_config)
    app.config.from_mapping(dataclasses.asdict(settings))
    if test_config:
        app.config.from_mapping(dict(test_config))
    app.config["SETTINGS"] = settings
    # Several web nodes must sign alike: in multi-node mode the key lives in the shared database.
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or (
        shared_secret_key(settings) if settings.multi_node else load_or_create_secret_key(settings.data_dir))

    # Cookies: HttpOnly (Flask's default), SameSite=Lax, Secure behind TLS; admin sessions expire.
    app.config["SESSION_COOKIE_NAME"] = "collegesearch_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(settings.SECURE_COOKIES)
    # Flask's own defaults exist for these keys (31-day sessions, no body limit), so setdefault would
    # keep them: ours apply unless the caller's test_config names them.
    given = dict(test_config or {})
    app.config["PERMANENT_SESSION_LIFETIME"] = given.get("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    app.config["WTF_CSRF_TIME_LIMIT"] = given.get("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config["MAX_CONTENT_LENGTH"] = given.get("MAX_CONTENT_LENGTH", 256 * 1024)
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from webapp import db, http_cache, metrics, rate_limits, request_id, security, templating
    from webapp.index import SearchService
    from webapp.records import Listings

    if settings.PROXY_HOPS:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a reverse proxy every request comes from the proxy's address: trust exactly the
        # configured number of X-Forwarded-* hops, so rate limits count visitors, not the proxy,
        # and a visitor cannot pick an address by sending the header themselves.
        hops = settings.PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    # First, so its timer starts before any other hook (a rate limit's 429 is timed and counted too).
    metrics.init_app(app)
    request_id.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    http_cache.init_app(app)
    # Built lazily on first use, so a gunicorn master that preloads the app opens no index before forking.
    app.extensions["collegesearch_search"] = SearchService(settings)
    app.extensions["collegesearch_listings"] = Listings()

    # Importing admin_crawl adds the schedule, "crawl now" and change pages to admin.bp before it is registered.
    from webapp import admin, admin_crawl, api, changes, errors, health, reviews, views  # noqa: F401

    app.register_blueprint(views.bp)
    app.register_blueprint(reviews.bp)
    app.register_blueprint(changes.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(errors.bp)
    app.register_blueprint(health.bp)
    # After the blueprints: it wraps the search views and limits the API blueprint by name.
    rate_limits.init_app(app)

    from webapp import commands

    commands.init_app(app)
    return app


def _settings_for(test_config: Mapping[str, Any] | None) -> Settings:
    """Settings from config.py, with any setting named in ``test_config`` applied on top."""
    given = (test_config or {}).get("SETTINGS")
    settings = given if isinstance(given, Settings) else load_settings()
    overrides = {k: v for k, v in (test_config or {}).items() if k in SETTINGS_BY_NAME}
    return settings.replace(**overrides) if overrides else settings


def load_or_create_secret_key(data_dir: Path) -> str:
    """The key in DATA_DIR/secret_key, created once (0600) so every worker process signs alike."""
    path = Path(data_dir) / "secret_key"
    try:
        existing = path.read_text(encoding="ascii").strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise AppConfigError(f"cannot read {path}: {exc.strerror}; set COLLEGESEARCH_SECRET_KEY instead") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        # Write a private temp file, then link it into place: two workers racing both end up with
        # the first one's key, and nobody ever reads a half-written file.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            key = path.read_text(encoding="ascii").strip()
        finally:
            tmp.unlink(missing_ok=True)
        return key
    except OSError as exc:
        raise AppConfigError(
            f"cannot create {path}: {exc.strerror}; make DATA_DIR writable or set COLLEGESEARCH_SECRET_KEY"
        ) from None
