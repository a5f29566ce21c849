"""Hostile and impossible pages: the crawl finishes, impossible items are dropped with a counted reason
logged with their URL, good items on the same pages are kept, deliberate skips are said in one line."""

from __future__ import annotations

import re
from pathlib import Path

from catalog import Catalog
from sample_site import truth
from tests.integration.crawler.crawl_helpers import run_crawl

# The reason the ground truth gives for a drop -> the code the validation pipeline counts.
REASONS = {"negative pay": "negative_pay", "unknown state": "unknown_state", "invalid rating": "bad_rating",
           "missing body": "missing_body"}


def test_adversarial_area_drops_with_reasons(sample_site, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_crawl(data, sample_site.base_url, "adversarial")
    assert result.returncode == 0, result.stderr[-3000:]
    run = result.run("adversarial")
    assert run.status == "ok", run.error
    expectations = truth.adversarial_expectations()
    dropped = [e for e in expectations if e["expect"] == "dropped"]
    kept = [e for e in expectations if e["expect"] == "kept"]
    assert dropped and kept

    want: dict[str, int] = {}
    for entry in dropped:
        code = REASONS[entry["reason"]]
        want[code] = want.get(code, 0) + 1
    assert run.stats["dropped"] == want, run.stats["dropped"]
    base = sample_site.sources["adversarial"]["base_url"]
    for entry in dropped:
        # one log line per dropped item: its reason code and the URL of its page
        line = re.compile(rf"dropped {REASONS[entry['reason']]}: \w+ from {re.escape(base + entry['path'])}")
        assert line.search(result.stderr), (entry, result.stderr[-2000:])

    with Catalog(data / "catalog.sqlite3", readonly=True) as cat:
        for entry in dropped:
            assert cat.get(entry["kind"], entry["item_id"], include_deleted=True) is None, entry
        for entry in kept:
            assert cat.get(entry["kind"], entry["item_id"]) is not None, entry
    # deliberate skips are one readable line each, never a traceback
    assert re.search(r"skipped \S+/adversarial/huge\.html: ", result.stderr)
    assert re.search(r"skipped \S+/adversarial/loop/\S+: more than \d+ redirects", result.stderr)
    assert "Traceback" not in result.stderr
