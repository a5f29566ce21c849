"""Admin pages: login, moderation queue, crawl runs, index status. Every route refuses anonymous users.

Other admin pages (the schedule, "crawl now", the chart of items per run, the change feed: see
``webapp.admin_crawl``) add their routes to this ``bp`` from their own module, which imports this
one and never the other way round; ``webapp.create_app`` imports them before registering ``bp``.
Their routes are protected by ``require_admin`` automatically; they are listed in ``ADMIN_NAV``
and fill the ``runs_toolbar`` / ``runs_chart`` / ``dashboard_extra`` blocks of the admin templates.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from webapp.db import get_catalog, get_writer
from webapp.forms import ActionForm, LoginForm
from webapp.index import get_search_service
from webapp.security import RateLimiter, SessionRegistry, SharedRateLimiter, SharedSessionRegistry, client_hash

bp = Blueprint("admin", __name__)
log = logging.getLogger(__name__)

# (endpoint, label) of each admin page, in menu order (the last two are served by webapp.admin_crawl).
ADMIN_NAV: tuple[tuple[str, str], ...] = (
    ("admin.dashboard", "Overview"),
    ("admin.moderation", "Reviews to moderate"),
    ("admin.runs", "Crawl runs"),
    ("admin.index_status", "Search index"),
    ("admin.schedule", "Schedule"),
    ("admin.admin_changes", "What changed"),
)
OPEN_ENDPOINTS = frozenset({"admin.login"})
LOGIN_WINDOW_SECONDS = 15 * 60
SESSION_KEY = "admin"


def password_hash_problem(value: str | None) -> str | None:
    """Why the configured hash cannot be used (None when it can)."""
    if not value:
        return "not_set"
    method = value.split("$", 1)[0]
    if value.count("$") != 2 or not method.startswith(("pbkdf2", "scrypt")):
        return "invalid"
    return None


def session_registry() -> SessionRegistry | SharedSessionRegistry:
    """The server-side list of live admin sessions (logout revokes; a copied cookie dies with it).

    A file under DATA_DIR on one machine; the shared catalog database when several web nodes serve.
    """
    settings = current_app.config["SETTINGS"]
    return SharedSessionRegistry() if settings.multi_node else SessionRegistry(settings.data_dir / "sessions")


def _password_tag() -> str:
    # Binds a session to the configured hash: changing the admin password ends every session.
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    value = str(current_app.config.get("ADMIN_PASSWORD_HASH") or "").encode("utf-8")
    return hmac.new(key, value, hashlib.sha256).hexdigest()[:32]


def is_admin() -> bool:
    """Whether this session belongs to a logged-in admin (and the admin is still enabled)."""
    if "is_admin" in g:
        return bool(g.is_admin)
    ok = False
    if not password_hash_problem(current_app.config.get("ADMIN_PASSWORD_HASH")):
        info = session.get(SESSION_KEY)
        ok = (isinstance(info, dict) and info.get("ok") is True
              and hmac.compare_digest(str(info.get("pw", "")), _password_tag())
              and session_registry().is_live(info.get("sid")))
    g.is_admin = ok
    return ok


@bp.before_request
def require_admin() -> Response | tuple[str, int] | None:
    """Disabled until a password hash is configured; anonymous users go to the login page (POSTs get 403)."""
    problem = password_hash_problem(current_app.config.get("ADMIN_PASSWORD_HASH"))
    if problem:
        return render_template("admin/disabled.html", problem=problem), 403
    if request.endpoint in OPEN_ENDPOINTS or is_admin():
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("admin.login", next=request.full_path if request.args else request.path))
    abort(403)


@bp.context_processor
def admin_context() -> dict[str, Any]:
    """The admin menu and a CSRF-protected form for small POST buttons."""
    return {"admin_nav": ADMIN_NAV, "action_form": ActionForm(), "pending_count": _pending_count()}


def _pending_count() -> int | None:
    if not is_admin():
        return None
    return get_catalog().count_user_reviews("pending")


def _safe_next(target: str | None) -> str:
    # Only same-site admin paths: the login form must not become an open redirect.
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.dashboard")


def login_limiter() -> RateLimiter | SharedRateLimiter:
    """The shared per-client counter of login attempts (across web nodes in multi-node mode)."""
    settings = current_app.config["SETTINGS"]
    if settings.multi_node:
        return SharedRateLimiter("admin_login", current_app.config["LOGIN_RATE_LIMIT"], LOGIN_WINDOW_SECONDS)
    return RateLimiter(settings.data_dir / "ratelimit", "admin_login", current_app.config["LOGIN_RATE_LIMIT"],
                       LOGIN_WINDOW_SECONDS)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """Check the password against ADMIN_PASSWORD_HASH, at most LOGIN_RATE_LIMIT tries per 15 minutes."""
    if is_admin():
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.is_submitted():
        return render_template("admin/login.html", form=form, error=None)
    allowed, retry_after = login_limiter().hit(client_hash("login"))
    if not allowed:
        minutes = max(1, round(retry_after / 60))
        page = render_template("admin/login.html", form=form,
                               error=f"Too many login attempts. Try again in about {minutes} minutes.")
        return Response(page, status=429, headers={"Retry-After": str(retry_after)})
    if not form.validate():
        return render_template("admin/login.html", form=form, error=None), 400
    stored_hash = current_app.config["ADMIN_PASSWORD_HASH"]
    if not check_password_hash(stored_hash, form.password.data or ""):
        log.warning("failed admin login from client %s", client_hash("log")[:8])
        return render_template("admin/login.html", form=form, error="That password is not right."), 401
    # A fresh session on login, so a session fixed before login is worth nothing after it.
    session.clear()
    session.permanent = True
    sid = secrets.token_urlsafe(24)
    session_registry().add(sid, current_app.permanent_session_lifetime.total_seconds())
    session[SESSION_KEY] = {"ok": True, "at": int(time.time()), "sid": sid, "pw": _password_tag()}
    g.pop("is_admin", None)
    flash("You are logged in.", "success")
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End the admin session."""
    if not ActionForm().validate():
        abort(400)
    info = session.get(SESSION_KEY)
    if isinstance(info, dict):
        session_registry().revoke(info.get("sid"))
    session.clear()
    g.pop("is_admin", None)
    flash("You are logged out.", "success")
    return redirect(url_for("views.home"))


@bp.get("/")
def dashboard() -> str:
    """Pending reviews, the latest runs and the index state at a glance."""
    cat = get_catalog()
    return render_template(
        "admin/dashboard.html", runs=cat.list_runs(limit=5), counts=cat.fused.counts_by_kind(),
        index_status=get_search_service().status(cat.fused.max_change_seq()), catalog_seq=cat.fused.max_change_seq(),
        last_updated=cat.fused.last_updated(),
    )


@bp.get("/reviews")
def moderation() -> str:
    """The moderation queue (pending first) and the latest decisions."""
    cat = get_catalog()
    status = request.args.get("status", "pending")
    if status not in ("pending", "approved", "rejected"):
        status = "pending"
    return render_template(
        "admin/moderation.html", status=status, reviews=cat.list_user_reviews(status, limit=200),
        counts={s: cat.count_user_reviews(s) for s in ("pending", "approved", "rejected")},
    )


@bp.post("/reviews/<int:review_id>/<any(approve, reject):action>")
def moderate(review_id: int, action: str) -> Response:
    """Approve (publish and sync the index so it is searchable at once) or reject one review."""
    form = ActionForm()
    if not form.validate():
        abort(400)
    writer = get_writer()
    approve = action == "approve"
    if not writer.moderate_user_review(review_id, approve=approve, moderator="admin", note=form.note.data or None):
        flash(f"Review {review_id} was already moderated or does not exist.", "warning")
        return redirect(url_for("admin.moderation"))
    if not approve:
        flash(f"Review {review_id} rejected.", "success")
        return redirect(url_for("admin.moderation"))
    outcome = get_search_service().sync_index(current_app.config["SETTINGS"])
    if outcome.ok:
        flash(f"Review {review_id} approved and published; the search index is up to date.", "success")
    else:
        flash(f"Review {review_id} approved and published. The search index was not synced now "
              f"({outcome.message}); it will show in search after the next sync.", "warning")
    return redirect(url_for("admin.moderation"))


@bp.get("/runs")
def runs() -> str:
    """Crawl runs, newest first, with their stats."""
    cat = get_catalog()
    source = request.args.get("source") or None
    return render_template("admin/runs.html", runs=cat.list_runs(source, limit=100), source=source)


@bp.get("/runs/<int:run_id>")
def run_detail(run_id: int) -> str:
    """One run with all its stats and the index sync that followed it."""
    run = get_catalog().get_run(run_id)
    if run is None:
        abort(404)
    return render_template("admin/run.html", run=run)


@bp.get("/index")
def index_status() -> str:
    """The index generation, document count and how far it lags behind the catalog."""
    from ops.status import index_lag

    cat = get_catalog()
    return render_template("admin/index.html", index_status=get_search_service().status(cat.fused.max_change_seq()),
                           catalog_seq=cat.fused.max_change_seq(), counts=cat.fused.counts_by_kind(),
                           lag=index_lag(current_app.config["SETTINGS"], cat))


@bp.post("/index/sync")
def sync_now() -> Response:
    """Bring the index up to date with the catalog now."""
    if not ActionForm().validate():
        abort(400)
    outcome = get_search_service().sync_index(current_app.config["SETTINGS"])
    flash(("Index synced: " if outcome.ok else "Index sync failed: ") + outcome.message,
          "success" if outcome.ok else "error")
    return redirect(url_for("admin.index_status"))
