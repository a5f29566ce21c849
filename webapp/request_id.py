"""Each request's id: taken from a sane ``X-Request-ID`` header or made up, echoed back, and put on log records.

A proxy in front (nginx ``$request_id``) usually sends one, so its access log, ours and the app's
JSON log lines of one request share an id. A header that is not a short plain token is replaced
rather than logged, so a client cannot inject text into the logs.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# gunicorn's access log record carries the response headers as atoms named "{header}o".
ACCESS_ATOM = "{" + HEADER.lower() + "}o"


def init_app(app: Flask) -> None:
    """Give every request an id and echo it in the response."""
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)


def assign_request_id() -> None:
    """The caller's ``X-Request-ID`` when it is a sane token, else a new random one."""
    given = request.headers.get(HEADER, "")
    g.request_id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """This request's id (None outside a request, or before ``assign_request_id`` ran)."""
    return g.get("request_id") if has_request_context() else None


def echo_request_id(response: Response) -> Response:
    """Send the id back, so a client can quote it when it reports a problem."""
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records logged while a request is handled, and to gunicorn's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only fills in its request id."""
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id()
            if request_id is None and record.name == "gunicorn.access" and isinstance(record.args, dict):
                request_id = record.args.get(ACCESS_ATOM) or None
            if request_id is not None:
                record.request_id = request_id
        return True
