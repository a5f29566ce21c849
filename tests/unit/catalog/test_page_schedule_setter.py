"""``set_page_schedule`` and the never-scheduled count of ``freshness_by_source``: the catalog side of the freshness status."""

from __future__ import annotations

import pytest


def unscheduled(catalog) -> dict[str, int]:
    """Source -> pages never scheduled, as ``freshness_by_source`` counts them (sources without any left out)."""
    return {f.source: f.unscheduled for f in catalog.freshness_by_source() if f.unscheduled}


@pytest.mark.both_backends
def test_set_page_schedule_and_count_pages_never_scheduled(catalog):
    for n in range(3):
        catalog.record_page(f"https://a.example/{n}", source="alpha", status=200, run_id=None, body=b"a%d" % n)
    catalog.record_page("https://b.example/0", source="beta", status=200, run_id=None, body=b"b")
    catalog.mark_page_gone("https://a.example/gone", source="alpha", status=404, run_id=None)  # not counted
    assert unscheduled(catalog) == {}  # a fetch schedules the page
    for url in ("https://a.example/0", "https://a.example/1", "https://a.example/2", "https://b.example/0"):
        catalog.set_page_schedule(url, None, None)  # as pages fetched before the schedule existed
    assert unscheduled(catalog) == {"alpha": 3, "beta": 1}

    assert catalog.set_page_schedule("https://a.example/0", 3600, "2030-01-01T00:00:00.000000Z")
    page = catalog.get_page("https://a.example/0")
    assert page is not None and (page.revisit_seconds, page.next_due) == (3600, "2030-01-01T00:00:00.000000Z")
    assert unscheduled(catalog) == {"alpha": 2, "beta": 1}
    [alpha, _] = catalog.freshness_by_source(now="2029-01-01T00:00:00.000000Z")
    assert (alpha.fresh, alpha.due, alpha.next_due) == (1, 2, "2030-01-01T00:00:00.000000Z")

    assert catalog.set_page_schedule("https://a.example/0", None, None)  # cleared: due now again
    assert unscheduled(catalog) == {"alpha": 3, "beta": 1}
    assert not catalog.set_page_schedule("https://nowhere.example/", 60, "2030-01-01T00:00:00.000000Z")
    with pytest.raises(ValueError, match="revisit_seconds must be positive"):
        catalog.set_page_schedule("https://a.example/1", 0, "2030-01-01T00:00:00.000000Z")
