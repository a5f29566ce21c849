"""Operations: scheduling, cron, retry policy, crawl child processes, locks and status.

Never imports Scrapy or ``crawler`` (crawls run as child processes), so the web app can use it.
"""
