"""Probe: how many requests at once does the crawler's downloader send one slow host? (run as a child process)

``python -m tests.security.slow_host_probe [--slot NAME]`` starts a loopback HTTP server whose every answer
takes 0.2 s, crawls 30 of its pages with the Scrapy settings ``crawler.settings.from_config`` derives from the
environment's COLLEGESEARCH_* values (and the project's concurrency middleware), and prints ``{"peak": N, "requests": M}``. With ``--slot`` the requests go
through a download slot of that name (a real site's host) instead of the sample site's slot for the host.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slot", default=None)
    args = parser.parse_args()
    state = {"active": 0, "peak": 0, "requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            with lock:
                state["active"] += 1
                state["requests"] += 1
                state["peak"] = max(state["peak"], state["active"])
            time.sleep(0.2)
            body = b"<html><body>slow</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock:
                state["active"] -= 1

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    import scrapy
    from scrapy.crawler import CrawlerProcess

    from collegesearch.config import load_settings
    from crawler import settings as project
    from crawler.settings import SAMPLE_SITE_SLOT

    values = {k: getattr(project, k) for k in ("CONCURRENT_REQUESTS", "AUTOTHROTTLE_TARGET_CONCURRENCY",
                                               "AUTOTHROTTLE_MAX_DELAY", "COOKIES_ENABLED")}
    values.update({k: v for k, v in project.from_config(load_settings()).items()
                   if k in ("DOWNLOAD_SLOTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
                            "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "USER_AGENT")})
    # The project's downloader middlewares that decide how many requests reach a host at once (Scrapy's own,
    # and our per-host gate); the others need a catalog and a run record, which a probe does not have.
    values["DOWNLOADER_MIDDLEWARES"] = {k: v for k, v in project.DOWNLOADER_MIDDLEWARES.items()
                                        if not k.startswith("crawler.") or k.endswith("ConcurrencyMiddleware")}
    values.update({"ROBOTSTXT_OBEY": False, "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False})
    slot = args.slot

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self):  # type: ignore[override]
            for i in range(30):
                # As crawler/middlewares.py does for the sample site's own requests: their slot, AutoThrottle off.
                meta = ({"download_slot": slot} if slot else
                        {"download_slot": SAMPLE_SITE_SLOT.format(host="127.0.0.1"), "autothrottle_dont_adjust_delay": True})
                yield scrapy.Request(f"http://127.0.0.1:{port}/{i}", meta=meta, dont_filter=True)

        def parse(self, response):  # type: ignore[override]
            return None

    process = CrawlerProcess(values)
    process.crawl(Probe)
    process.start()
    print(json.dumps({"peak": state["peak"], "requests": state["requests"]}))


if __name__ == "__main__":
    main()
