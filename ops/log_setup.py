"""How every process logs: text lines (the default) or, with ``LOG_FORMAT=json``, one JSON object per line.

The web app (gunicorn), the scheduler, the crawl worker, the index follower and the crawl child
all use ``setup_logging`` or ``JsonLogFormatter`` from here, so a log collector reads one shape
everywhere: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, plus ``request_id``,
``source`` and ``run_id`` where the record knows them and ``exc_info`` with a traceback.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"

# Record attributes that never go into a JSON line: Scrapy passes the spider and crawler objects
# as ``extra`` (the crawl's filter turns the spider into ``source``), uvicorn-style colour copies.
NOT_LOGGED = (*RESERVED_ATTRS, "spider", "crawler", "color_message", "taskName")


class JsonLogFormatter(JsonFormatter):
    """One JSON object per record: time, level, logger, message, then the record's context fields."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=list(NOT_LOGGED),
            **kwargs,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging API
        """ISO 8601 in UTC with milliseconds (``2026-12-02T17:40:41.562Z``), whatever the machine's zone."""
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT``: ``json`` or the readable text lines."""
    return JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str, log_format: str = "text") -> None:
    """Log to stderr at ``level`` in ``log_format`` (scheduler, worker, follower, and the crawl child in json).

    In text mode a process that already has a handler keeps its format (as before); in json mode
    every root handler gets the JSON formatter, so no line escapes as text.
    """
    root = logging.getLogger()
    root.setLevel(getattr(logging, level, logging.INFO))
    if level != "DEBUG":
        # Alembic announces each plugin and migration step at INFO whenever a catalog is opened.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        # At the level too, as Scrapy's own handler is: its loggers are set to DEBUG and propagate here.
        handler.setLevel(getattr(logging, level, logging.INFO))
        handler.setFormatter(make_formatter(log_format))
        root.addHandler(handler)
    elif log_format == "json":
        for existing in root.handlers:
            existing.setFormatter(JsonLogFormatter())
