"""A catalog whose State facet is long: the web app's hand-made items plus "Lakeside" colleges in sixteen states.

The first eight states have two Lakeside colleges each and the other eight one each, so a search for
``lakeside`` has a State facet of sixteen values whose top eight (by count) are known without being
listed in a test. Shared by the facet unit tests and the browser test.
"""

from __future__ import annotations

from pathlib import Path

from catalog import Catalog
from collegesearch.config import Settings, load_settings
from model.items import Institution
from model.vocab import US_STATES
from tests.unit.webapp import webapp_testdata

QUERY = "lakeside"
STATES: tuple[str, ...] = ("AK", "AL", "AR", "AZ", "CO", "CT", "DE", "FL",
                           "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA")
TWO_SCHOOL_STATES = STATES[:8]


def lakeside_colleges() -> list[Institution]:
    """Two colleges in each of the first eight states, one in each of the others."""
    colleges = []
    for i, state in enumerate(STATES):
        for n in range(2 if state in TWO_SCHOOL_STATES else 1):
            unitid = f"9{i:02d}{n:03d}"
            colleges.append(Institution(
                url=f"https://nces.ed.gov/collegenavigator/?id={unitid}", source="collegenavigator", unitid=unitid,
                name=f"Lakeside College of {US_STATES[state]} {n + 1}", city="Lakeside", state=state,
                control="public", level="2-year", accreditor="HLC", accreditation_status="accredited",
            ))
    return colleges


def build(data_dir: Path) -> Settings:
    """A data dir with the hand-made catalog, the Lakeside colleges and the index; its settings."""
    from indexer.build import rebuild

    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data_dir)})
    with Catalog(settings.catalog_location) as cat:
        webapp_testdata.fill_catalog(cat)
        run = cat.start_run("collegenavigator", "manual")
        for college in lakeside_colleges():
            cat.upsert(college, run_id=run)
        cat.finish_run(run, status="ok", stats={"pages": 1, "items_new": len(STATES) + len(TWO_SCHOOL_STATES),
                                                "items_changed": 0, "items_unchanged": 0, "items_removed": 0},
                       complete=True)
        cat.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rebuild(settings)
    return settings
