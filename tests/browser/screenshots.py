"""The README's pictures of Compare and Follow, taken over the browser tests' hand-made records.

Run ``make screenshots`` (or ``python -m tests.browser.screenshots [OUT_DIR]``): it builds the hand-made catalog
and index in a temporary folder, serves them with ``collegesearch serve`` as the browser tests do, drives Debian's
chromium with Playwright and writes ``docs/compare.png`` and ``docs/follow-feed.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser.conftest import ROOT, serve_testdata
from tests.plugins.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.unit.webapp import webapp_testdata as td

DOCS = ROOT / "docs"


def take(out: Path = DOCS) -> list[Path]:
    """Serve the hand-made records, photograph the compare page and a followed school's feed; the PNGs' paths."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"screenshots need chromium at {CHROMIUM} (Debian package `chromium`)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="collegesearch-shots-") as tmp, \
            serve_testdata(Path(tmp) / "data") as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            context = browser.new_context(base_url=base, viewport={"width": 1100, "height": 900})
            tab = context.new_page()
            # Compare: three programs, one on probation, so a row is marked as differing.
            tab.goto(f"/compare?programs={td.HIT_GA},{td.HIT_OH},{td.RAD_GA}")
            expect(tab.locator("table.compare-table")).to_be_visible()
            written.append(out / "compare.png")
            tab.locator("main").screenshot(path=str(written[-1]))
            # Follow: the school's page offers the feed; the feed itself as the browser lays it out.
            tab.goto(f"/institutions/{td.OVCC}")
            feed_url = tab.get_by_role("link", name="Follow changes to this school, its programs and reviews") \
                .get_attribute("href")
            # As tall as the feed (measured in a short window, as scrollHeight is never less than the window's):
            # full_page waits forever on an XML document, which has no body to measure.
            tab.set_viewport_size({"width": 1100, "height": 200})
            tab.goto(feed_url)  # a navigation: served as XML that feed.css lays out
            height = tab.evaluate("document.documentElement.scrollHeight")
            tab.set_viewport_size({"width": 1100, "height": height})
            written.append(out / "follow-feed.png")
            tab.screenshot(path=str(written[-1]))
            context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str]) -> int:
    """Write the pictures to ``argv[0]`` (default docs/) and say where."""
    for path in take(Path(argv[0]) if argv else DOCS):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
