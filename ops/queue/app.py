"""The crawl queue's procrastinate app, on the catalog's PostgreSQL database (multi-node mode only).

Jobs are ``crawl`` tasks on the ``crawls`` queue with ``source`` and ``trigger`` arguments. Each
job carries the source's crawl lock name twice: as procrastinate's ``lock`` (no two jobs of one
source run at once, on any worker) and as its ``queueing_lock`` (no two wait at once either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collegesearch.config import Settings
from ops.jobs import ScheduleError

if TYPE_CHECKING:
    from procrastinate import App

QUEUE = "crawls"
"""The procrastinate queue crawl jobs wait in."""
TASK = "crawl"
"""The name of the task that runs one source's crawl."""


class QueueError(ScheduleError):
    """The crawl queue cannot be used; the message says what to fix in one line."""


def database_url(settings: Settings, what: str) -> str:
    """DATABASE_URL, or QueueError saying that ``what`` needs it."""
    if not settings.DATABASE_URL:
        raise QueueError(f"{what} needs COLLEGESEARCH_DATABASE_URL: the crawl queue lives in the shared PostgreSQL "
                         "catalog (see README, 'Scale out')")
    return settings.DATABASE_URL


def check_queue(settings: Settings, what: str) -> str:
    """DATABASE_URL once the database answers and holds the queue's tables (QueueError says what to do)."""
    from catalog.database import display_location
    from catalog.queue_schema import QueueSchemaError, queue_schema_installed

    url = database_url(settings, what)
    try:
        installed = queue_schema_installed(url)
    except QueueSchemaError as exc:
        raise QueueError(str(exc)) from None
    if not installed:
        raise QueueError(f"the crawl queue's tables are not in {display_location(url)} yet: "
                         "run `collegesearch db upgrade` once")
    return url


def queue_app(settings: Settings, *, pool_size: int = 2, name: str = "collegesearch queue") -> App:
    """A procrastinate App on DATABASE_URL (not opened yet: ``open()`` for sync use, ``open_async()`` for a worker)."""
    from procrastinate import App, PsycopgConnector

    from catalog.advisory_locks import label, libpq_url

    url = database_url(settings, "the crawl queue")
    connector = PsycopgConnector(conninfo=libpq_url(url), min_size=1, max_size=max(1, pool_size),
                                 kwargs={"application_name": label(name)})
    return App(connector=connector)
