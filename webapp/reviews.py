"""Write a review: validated server-side, CSRF-protected, honeypot and per-client rate limit, lands as pending."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from webapp import errors
from webapp.db import get_catalog, get_writer
from webapp.forms import ReviewForm, clean_text
from webapp.page_data import check_id
from webapp.security import client_hash

bp = Blueprint("reviews", __name__)
log = logging.getLogger(__name__)


def _since(hours: float) -> str:
    moment = datetime.now(UTC) - timedelta(hours=hours)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def render_form(institution: dict, form: ReviewForm, *, status: int = 200, notice: str | None = None
                ) -> tuple[str, int]:
    """The form page; on errors it shows every value the visitor typed and a message beside each field."""
    return render_template("reviews/write.html", institution=institution, form=form, notice=notice), status


@bp.route("/institutions/<unitid>/review", methods=["GET", "POST"])
def write(unitid: str) -> Response | tuple[str, int]:
    """Show the form, or check and store a submitted review as pending."""
    stored = get_catalog().fused.get("institution", check_id(unitid))
    if stored is None:
        abort(404)
    institution = dict(stored.data, id=stored.item_id)
    form = ReviewForm()
    if not form.is_submitted():
        return render_form(institution, form)
    if form.website.data:
        # A bot filled the invisible field: answer like a success so it learns nothing, store nothing.
        log.info("review honeypot triggered for institution %s", unitid)
        return redirect(url_for("reviews.thanks", unitid=unitid))
    if not form.validate():
        return render_form(institution, form, status=422,
                           notice="Please fix the problems marked below; everything you typed is still here.")
    limit = current_app.config["REVIEW_RATE_LIMIT"]
    who = client_hash("review")
    writer = get_writer()
    if writer.recent_submissions(who, _since(1)) >= limit:
        return render_form(
            institution, form, status=429,
            notice=f"You have sent {limit} reviews in the last hour, the most we accept. "
                   "Your text is still here; please try again later.",
        )
    review_id = writer.add_user_review(
        institution_unitid=stored.item_id,
        institution_name=institution.get("name"),
        rating=int(form.rating.data),
        body=clean_text(form.body.data),
        category=form.category.data,
        author_role=form.author_role.data,
        title=clean_text(form.title.data),
        client_hash=who,
    )
    log.info("user review %s submitted for institution %s (pending)", review_id, unitid)
    return redirect(url_for("reviews.thanks", unitid=unitid))


@bp.get("/institutions/<unitid>/review/thanks")
def thanks(unitid: str) -> str:
    """Confirmation: the review waits for a moderator."""
    stored = get_catalog().fused.get("institution", check_id(unitid))
    if stored is None:
        abort(404)
    return render_template("reviews/thanks.html", institution=dict(stored.data, id=stored.item_id))


@bp.errorhandler(CSRFError)
def expired_form(exc: CSRFError) -> Response | tuple[str, int]:
    """A missing or stale token on the review form: the form comes back with everything typed, nothing stored.

    A blueprint handler runs before the app-wide one in ``errors`` for this blueprint's requests
    (CSRFProtect raises in ``before_request``, after the URL is matched), so ``errors`` needs to
    know nothing about reviews; anything else falls back to the app-wide answer.
    """
    if request.endpoint == "reviews.write":
        stored = get_catalog().fused.get("institution", str((request.view_args or {}).get("unitid", "")))
        if stored is not None:
            return render_form(
                dict(stored.data, id=stored.item_id), ReviewForm(), status=400,
                notice="This form had expired (or came from another site), so nothing was sent. "
                       "Your text is still here: check it and send it again.",
            )
    return errors.handle_csrf(exc)
