"""Operations: scheduling, cron, retry policy, crawl child processes, locks and status.

Never imports Scrapy or ``crawler`` (crawls run as child processes), so the web app can use it.

- ``cron``: crontab expressions, fire times, timestamps (imports nothing of this project)
- ``sites``: the user's sites file (``SITES_FILE``), read and validated
- ``jobs``: the known sources and their cron jobs
- ``policy``: retry backoff and source health
- ``child``: a crawl as a supervised child process
- ``scheduler``: ``collegesearch schedule``, the APScheduler loop
- ``index_sync``: the search index synced after a crawl
- ``follow``: ``collegesearch index follow``, this node's index kept in step with the catalog's change log
- ``crawl_now``: "crawl now" from the admin
- ``status``: ``collegesearch status`` and the admin's schedule page
- ``log_setup``: the log format of the long-running processes
- ``locks``: crawl, scheduler and spawn locks (files, Redis, or PostgreSQL advisory locks)
- ``queue``: the crawl queue in PostgreSQL and its workers (multi-node mode)
"""
