"""Installing the crawl queue's tables: ``apply_queue_schema``, called by ``collegesearch db upgrade``."""

from __future__ import annotations

from collegesearch.config import Settings
from ops.queue.app import QueueError, database_url


def apply_queue_schema(settings: Settings) -> bool:
    """Install procrastinate's tables in the DATABASE_URL database unless they are there; True when it did.

    Safe to call twice, and from two processes at once (one installs, the other finds them).
    QueueError when DATABASE_URL is unset or the database refuses.
    """
    from procrastinate.schema import SchemaManager

    from catalog.queue_schema import QueueSchemaError, install_queue_schema

    url = database_url(settings, "the crawl queue")
    try:
        return install_queue_schema(url, SchemaManager.get_schema())
    except QueueSchemaError as exc:
        raise QueueError(str(exc)) from None
