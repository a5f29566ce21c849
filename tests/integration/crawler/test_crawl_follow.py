"""Follow a program across crawls: the accreditor directory is crawled at epoch 1, a program whose status
the next epoch changes is followed from its page's Follow link, the site moves to epoch 2 and is recrawled,
and the program's feed (read by a feed parser) gains exactly the status-change entry it did not have."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import feedparser

from collegesearch.config import load_settings
from tests.integration.crawler.crawl_helpers import next_epoch_status_change, run_crawl

FOLLOW_LINK = re.compile(r'<a class="follow-link" href="([^"]+)"')


def _feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml", response.text[:300]
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_a_followed_programs_feed_gains_the_status_change_of_the_next_epoch(tmp_path, fresh_sample_site):
    from webapp import create_app

    site = fresh_sample_site(faults=False)
    data = tmp_path / "data"
    first = run_crawl(data, site.base_url, "directory", site=site, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    change = next_epoch_status_change()
    program_id = change.program_id

    app = create_app({"SETTINGS": load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)}),
                      "TESTING": True})
    try:
        client = app.test_client()
        page = client.get(f"/programs/{program_id}")
        assert page.status_code == 200
        link = FOLLOW_LINK.search(page.text)
        assert link, "the program page has no Follow link"
        feed_url = link.group(1).replace("&amp;", "&")
        was = _feed(client, feed_url)
        assert was.entries and not any(e.title.startswith(f"{change.new}:") for e in was.entries)
        etag = client.get(feed_url).headers["ETag"]
        assert client.get(feed_url, headers={"If-None-Match": etag}).status_code == 304

        site.restart(epoch=2)
        second = run_crawl(data, site.base_url, "directory", site=site, timeout=600)
        assert second.returncode == 0, second.stderr[-3000:]

        answer = client.get(feed_url, headers={"If-None-Match": etag})
        assert answer.status_code == 200, "a feed reader's conditional request must see the new entry"
        now = _feed(client, feed_url)
        new_ids = {e.id for e in now.entries} - {e.id for e in was.entries}
        assert len(new_ids) == 1
        entry = next(e for e in now.entries if e.id in new_ids)
        assert entry.title == change.entry_title
        assert urlsplit(entry.link).path == f"/programs/{program_id}"
        # Only that program's changes: every entry links to it.
        assert all(urlsplit(e.link).path == f"/programs/{program_id}" for e in now.entries if e.get("link"))
    finally:
        app.extensions["collegesearch_search"].close()
