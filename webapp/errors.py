"""Error pages and JSON errors: one ``error_response()`` for the API, friendly pages for people."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from catalog import CatalogError
from indexer.results import SearchError

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

KEPT_HEADERS = ("Allow", "Retry-After")


def wants_json() -> bool:
    """API paths and ``.json`` variants answer errors in JSON."""
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_code(status: int) -> str:
    """A stable snake_case code for an HTTP status ("not_found")."""
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_").replace("'", "")


def error_response(status: int, message: str, error: str | None = None) -> Response:
    """The API's error body: ``{"error": code, "message": text}`` with the matching status."""
    response = jsonify({"error": error or error_code(status), "message": message})
    response.status_code = status
    return response


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(SearchError)
def handle_search_error(exc: SearchError) -> Response | tuple[str, int]:
    """A bad search parameter is the client's mistake: 400."""
    if wants_json():
        return error_response(400, str(exc), exc.code)
    return _page(400, "That search could not be run", str(exc))


@bp.app_errorhandler(CSRFError)
def handle_csrf(exc: CSRFError) -> Response | tuple[str, int]:
    """A missing or stale form token: the form's page explains (the review form has its own handler in reviews)."""
    if wants_json():
        return error_response(400, exc.description, "csrf_failed")
    return _page(400, "This form has expired",
                 "For your security each form works for a limited time and only from this site. "
                 "Go back, reload the page and try again.")


@bp.app_errorhandler(HTTPException)
def handle_http(exc: HTTPException) -> Response | tuple[str, int]:
    """404, 405, 413 and friends, as JSON for the API and as a page for people."""
    status = exc.code or 500
    if wants_json():
        response = error_response(status, exc.description or error_code(status))
    else:
        titles = {404: "Page not found", 403: "Not allowed", 405: "Method not allowed",
                  413: "That was too large", 429: "Too many requests"}
        messages = {404: "There is no page at this address. It may have been removed, or the link may be wrong."}
        body, _ = _page(status, titles.get(status, HTTP_STATUS_CODES.get(status, "Error")),
                        messages.get(status, exc.description or ""))
        response = Response(body, status=status, mimetype="text/html")
    original = exc.get_response()
    for name in KEPT_HEADERS:
        if name in original.headers:
            response.headers[name] = original.headers[name]
    return response


@bp.app_errorhandler(CatalogError)
def handle_catalog_error(exc: CatalogError) -> Response | tuple[str, int]:
    """The catalog cannot be read: say so (503) rather than crash."""
    log.error("catalog unavailable: %s", exc)
    if wants_json():
        return error_response(503, "The catalog is not available right now.", "catalog_unavailable")
    return _page(503, "Temporarily unavailable", "The catalog cannot be read right now. Please try again soon.")


@bp.app_errorhandler(Exception)
def handle_unexpected(exc: Exception) -> Response | tuple[str, int]:
    """Anything else is our bug: log it whole, show a friendly 500 with no internals."""
    if isinstance(exc, HTTPException):  # pragma: no cover - routed to handle_http
        return handle_http(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_json():
        return error_response(500, "Something went wrong on our side; it has been logged.")
    return _page(500, "Something went wrong",
                 "Something went wrong on our side. It has been logged; please try again in a moment.")
