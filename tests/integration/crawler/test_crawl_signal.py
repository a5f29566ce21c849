"""A stop signal that arrives while the spider is still opening (the run record exists, the engine does not run
yet) closes the run as stopped by a signal and resumable, like a stop mid-crawl, instead of leaving it open."""

from __future__ import annotations

from pathlib import Path

from tests.integration.crawler.crawl_helpers import crawl_env, run_crawl

SOURCE = "directory"


def test_a_signal_while_the_spider_opens_closes_the_run_as_stopped(sample_site, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = crawl_env(data)
    env["SCRAPY_SETTINGS_MODULE"] = "tests.integration.crawler.signal_at_open_settings"
    stopped = run_crawl(data, sample_site.base_url, SOURCE, env=env)
    run = stopped.run(SOURCE)
    assert run.status == "interrupted", (run.status, run.error, stopped.stderr[-3000:])
    assert "stopped by a signal" in run.error, run.error
    assert run.stats.get("resumable") is True, run.stats
    assert "directory: stopped while its spider was opening; closing it" in stopped.stderr, stopped.stderr[-3000:]
    assert "Warning" not in stopped.stderr, stopped.stderr[-3000:]

    again = run_crawl(data, sample_site.base_url, SOURCE)  # the next run takes it from there
    rerun = again.run(SOURCE)
    assert again.returncode == 0 and rerun.status == "ok" and rerun.complete, (rerun.error, again.stderr[-3000:])
    assert rerun.stats["resumed_from"] == [run.id]
