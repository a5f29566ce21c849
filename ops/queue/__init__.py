"""The crawl queue (multi-node mode, with DATABASE_URL): crawls as procrastinate jobs in the catalog's PostgreSQL.

- ``app``: the procrastinate app, the queue and task names, ``QueueError``
- ``schema``: ``apply_queue_schema``, the queue's tables (``collegesearch db upgrade``)
- ``dispatch``: ``CrawlQueue`` and ``queue_crawls``: putting crawls on the queue (``crawl --queue``, the scheduler)
- ``worker``: ``collegesearch worker``, which runs them
- ``stalled``: jobs of dead workers back on the queue, their runs closed

Without DATABASE_URL none of this is used: crawls run where they are started, as before.
"""

from ops.queue.app import QUEUE, TASK, QueueError
from ops.queue.dispatch import CrawlQueue, Queued, queue_crawls
from ops.queue.schema import apply_queue_schema

__all__ = ["QUEUE", "TASK", "CrawlQueue", "QueueError", "Queued", "apply_queue_schema", "queue_crawls"]
