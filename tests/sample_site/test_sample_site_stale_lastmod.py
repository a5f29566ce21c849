"""``--stale-lastmod``: sitemaps whose lastmod never moves past the first epoch, while the pages change."""

from __future__ import annotations

import re

from sample_site import truth
from sample_site.site import Site
from sample_site.util import epoch_date

BASE = truth.default_base_urls()
SITEMAP = "/cahiim/sitemap.xml.gz"
DIRECTORY_HOST = "127.0.0.4:8800"


def _lastmods(site: Site) -> dict[str, str]:
    import gzip

    answer = site.respond("GET", DIRECTORY_HOST, SITEMAP, "")
    assert answer.status == 200
    text = gzip.decompress(answer.body).decode()
    return dict(re.findall(r"<loc>([^<]+)</loc><lastmod>([^<]+)</lastmod>", text))


def test_stale_sitemaps_keep_the_first_epochs_date_while_true_ones_move() -> None:
    true2 = _lastmods(Site(2, False, BASE, single_host=False))
    stale2 = _lastmods(Site(2, False, BASE, single_host=False, stale_lastmod=True))
    first = epoch_date(1).isoformat()
    assert true2.keys() == stale2.keys()
    assert any(d > first for d in true2.values())  # epoch 2 changed some directory pages, and says so
    assert all(d <= first for d in stale2.values())  # the lying sitemap never says so
    # the pages themselves still change, with a true Last-Modified
    changed = next(loc for loc, d in true2.items() if d > first and "?" not in loc)
    path = changed.split(DIRECTORY_HOST, 1)[1]
    page1 = Site(1, False, BASE, single_host=False, stale_lastmod=True).respond("GET", DIRECTORY_HOST, path, "")
    page2 = Site(2, False, BASE, single_host=False, stale_lastmod=True).respond("GET", DIRECTORY_HOST, path, "")
    assert page1.body != page2.body
    assert dict(page2.headers)["Last-Modified"] != dict(page1.headers)["Last-Modified"]
