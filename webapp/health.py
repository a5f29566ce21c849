"""Health checks for load balancers: ``/healthz`` (the process answers) and ``/readyz`` (it can serve searches).

Both answer JSON with a status code a load balancer reads (200 or 503) and ``Cache-Control: no-store``,
so no proxy ever answers for a node that has gone down.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from collegesearch import __version__
from ops.status import index_lag
from webapp.db import get_catalog
from webapp.index import get_search_service

bp = Blueprint("health", __name__)


def _no_store(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: 200 while the process answers; opens neither the catalog nor the index."""
    # A liveness probe that touched the database would restart healthy web nodes whenever the
    # database has a bad minute; readiness (below) is what takes a node out of rotation.
    return _no_store({"status": "ok", "version": __version__}, 200)


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 when the catalog answers, the index is open and not too far behind; else 503 with reasons."""
    settings = current_app.config["SETTINGS"]
    limit = settings.READY_MAX_CHANGES_BEHIND
    reasons: list[str] = []
    catalog: dict[str, Any] = {"ok": False}
    cat = None
    try:
        cat = get_catalog()
        catalog = {"ok": True, "change_seq": cat.fused.max_change_seq()}
    except Exception as exc:  # noqa: BLE001 - any failure to read the catalog means "not ready", never a 500
        cat = None
        reasons.append(f"catalog: {exc}")
    index = get_search_service().status(catalog.get("change_seq"))
    index_body: dict[str, Any] = {"ok": bool(index["available"]), "state": index["state"],
                                  "generation": index["generation"], "doc_count": index["doc_count"]}
    if not index["available"]:
        reasons.append(f"index: {index['message'] or 'not available'}")
    behind = index_lag(settings, cat)["changes_behind"] if cat is not None and index["available"] else None
    index_body["changes_behind"] = behind
    if behind is not None and behind > limit:
        index_body["ok"] = False
        reasons.append(f"index: {behind:,} catalog changes behind (READY_MAX_CHANGES_BEHIND is {limit:,}); "
                       "run `collegesearch index sync` or start `collegesearch index follow`")
    if reasons:
        return _no_store({"status": "not ready", "reasons": reasons, "catalog": catalog, "index": index_body}, 503)
    return _no_store({"status": "ready", "catalog": catalog, "index": index_body}, 200)
