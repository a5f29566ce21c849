"""Crawling ethics, measured from the sample site's access log: robots.txt disallows are never fetched, per-host
concurrency and delay hold, and every request carries the configured User-Agent with its contact URL.

Two crawls: the built-in careers and directory sources at a small SAMPLE_SITE_CONCURRENCY (the sample site is
crawled without delay), and a user site profile (SITES_FILE) on a sample-site host, which must be treated as a
real site: DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_HOST apply.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from collegesearch import __version__
from sample_site import truth
from tests.security.support import child_env, run_crawl_cli

pytestmark = [pytest.mark.xdist_group("security_crawl"), pytest.mark.slow]

CONTACT = "https://ops.example.org/collegesearch-crawler-contact"
SAMPLE_CONCURRENCY = 3
REAL_DELAY = 0.5


@pytest.fixture(scope="module")
def builtin_crawl(sample_site, tmp_path_factory):
    """The careers and directory sources, at a small SAMPLE_SITE_CONCURRENCY and our own contact URL."""
    data = tmp_path_factory.mktemp("ethics") / "data"
    crawl = run_crawl_cli(sample_site, data, ["bls_ooh", "directory"], timeout=600,
                          SAMPLE_SITE_CONCURRENCY=SAMPLE_CONCURRENCY, CONTACT_URL=CONTACT)
    assert crawl.result.returncode == 0, crawl.result.describe()
    return crawl


@pytest.fixture(scope="module")
def profile_crawl(sample_site, tmp_path_factory):
    """A user's site profile pointing at the careers host, crawled as a real site would be."""
    root = tmp_path_factory.mktemp("ethics-profile")
    base = sample_site.sources["bls_ooh"]["base_url"]
    sites = root / "sites.toml"
    sites.write_text(
        "[[site]]\n"
        'name = "polite-careers"\n'
        'type = "generic"\n'
        f'start_urls = ["{base}/ooh/healthcare/home.htm"]\n'
        "follow = ['/ooh/healthcare/[a-z-]+\\.htm$']\n"
        "max_pages = 10\n"
        "max_depth = 1\n"
    )
    crawl = run_crawl_cli(sample_site, root / "data", ["polite-careers"], timeout=300, SITES_FILE=sites,
                          DOWNLOAD_DELAY=REAL_DELAY, CONCURRENT_REQUESTS_PER_HOST=1, CONTACT_URL=CONTACT)
    assert crawl.result.returncode == 0, crawl.result.describe()
    return crawl


def crawler_records(crawl) -> list[dict]:
    return [r for r in crawl.access if r["host"].split(":")[0] != "127.0.0.1" or "collegesearch" in r["user_agent"]]


def max_overlap(records: list[dict]) -> int:
    """Most requests one host was serving at the same moment (server-side start and duration)."""
    events = []
    for r in records:
        events.append((r["time"], 1))
        events.append((r["time"] + r["duration"], -1))
    current = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts at the same instant
        current += step
        peak = max(peak, current)
    return peak


def by_host(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        out[r["host"]].append(r)
    return out


def test_robots_disallowed_paths_are_never_fetched(builtin_crawl, adversarial_crawl):
    crawls = [builtin_crawl, adversarial_crawl]
    checked = 0
    for crawl in crawls:
        for r in crawler_records(crawl):
            source = crawl.hosts.get(r["host"])
            if source in (None, "portal"):
                continue
            assert not truth.is_disallowed(source, r["path"]), f"fetched {r['host']}{r['path']} (robots.txt forbids it)"
            checked += 1
    assert checked > 300
    # The disallowed links were there to be refused (else this test proves nothing).
    forbidden = sum(run.stats.get("robots_forbidden", 0) for crawl in crawls for run in crawl.runs())
    assert forbidden > 0, [run.stats for crawl in crawls for run in crawl.runs()]


def test_robots_txt_is_read_before_any_page_of_a_host(builtin_crawl):
    for host, records in by_host(crawler_records(builtin_crawl)).items():
        if host.startswith("127.0.0.1"):
            continue
        first_page = min((r for r in records if r["path"] != "/robots.txt"), key=lambda r: r["time"])
        robots = [r for r in records if r["path"] == "/robots.txt"]
        assert robots and min(r["time"] for r in robots) <= first_page["time"], host


def test_every_request_carries_the_user_agent_with_the_contact_url(builtin_crawl, profile_crawl):
    for crawl in (builtin_crawl, profile_crawl):
        assert crawl.access
        agents = {r["user_agent"] for r in crawl.access}  # sources.json and robots.txt included
        assert agents == {f"collegesearch/{__version__} (+{CONTACT})"}, agents


def probe_peak(*args: str, **settings: object) -> int:
    """Peak concurrency the crawler's downloader settings send one slow host (tests/security/slow_host_probe.py)."""
    import subprocess
    import sys

    from tests.security.support import ROOT

    env = child_env(None, **settings)
    proc = subprocess.run([sys.executable, "-m", "tests.security.slow_host_probe", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["requests"] == 30
    return int(result["peak"])


def test_per_host_concurrency_holds_when_a_host_is_slow(builtin_crawl):
    """Scrapy 2.19's asyncio downloader starts a slot's whole queue at once when its delay is 0; the crawler's
    per-host gate (crawler.middlewares.SlotConcurrencyMiddleware) must hold the limit anyway."""
    # A slow host, so requests queue up on the crawler's side: the moment a per-host limit matters.
    sample = probe_peak(SAMPLE_SITE_CONCURRENCY=2)
    real = probe_peak("--slot", "real.example.org", DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS_PER_HOST=2, AUTOTHROTTLE=False)
    assert (sample, real) == (2, 2), f"peak requests at once: sample-site slot {sample}, real-site slot {real} (limit 2)"
    # And in the real crawl of the sample site, from its access log.
    peaks = {host: max_overlap(records) for host, records in by_host(crawler_records(builtin_crawl)).items()}
    assert peaks and max(peaks.values()) <= SAMPLE_CONCURRENCY, peaks


def test_a_user_site_profile_gets_real_site_delay_and_concurrency(profile_crawl):
    records = sorted(crawler_records(profile_crawl), key=lambda r: r["time"])
    pages = [r for r in records if r["path"] not in ("/robots.txt",)]
    assert len(pages) >= 5, [r["path"] for r in records]
    assert max_overlap(records) == 1, "more than one request at a time to a real site"
    starts = [r["time"] for r in pages]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # Scrapy waits between 0.5x and 1.5x DOWNLOAD_DELAY (RANDOMIZE_DOWNLOAD_DELAY); AutoThrottle only adds.
    assert min(gaps) >= 0.5 * REAL_DELAY * 0.95, f"gaps between requests: {[round(g, 3) for g in gaps]}"
