"""Record linkage on a small hand-made set of institutions (the sample site's ground truth is
checked by the crawl tests): abbreviations, campus suffixes, ambiguity, later resolution."""

from __future__ import annotations

from catalog import Catalog
from crawler.linkage import InstitutionIndex, entity_key, normalize_name, relink
from model.items import Institution, Review

SCHOOLS = [
    ("100751", "The University of Alabama", ["UA"], "Tuscaloosa", "AL"),
    ("100663", "University of Alabama at Birmingham", [], "Birmingham", "AL"),
    ("100724", "Alabama State University", [], "Montgomery", "AL"),
    ("484613", "University of Phoenix-Arizona", [], "Phoenix", "AZ"),
    ("105330", "Northern Arizona University", [], "Flagstaff", "AZ"),
    ("200001", "Galen College of Nursing-Louisville", [], "Louisville", "KY"),
    ("200002", "Galen College of Nursing-Hazard", [], "Hazard", "KY"),
    ("215062", "Saint Joseph's University", ["St. Joseph's College"], "Philadelphia", "PA"),
]


def index(min_score: float = 90.0) -> InstitutionIndex:
    idx = InstitutionIndex(min_score=min_score)
    for unitid, name, aliases, city, state in SCHOOLS:
        idx.add(unitid, name, aliases, city, state)
    return idx


def test_normalize_name_agrees_on_abbreviations() -> None:
    assert normalize_name("Univ. of Alabama") == normalize_name("University of Alabama")
    assert normalize_name("St. Joseph's Univ") == normalize_name("Saint Josephs University")
    assert normalize_name("Texas A&M") == normalize_name("Texas A and M")


def test_matches_abbreviated_and_suffixless_names() -> None:
    idx = index()
    assert idx.link("Univ. of Alabama", "Tuscaloosa", "AL").unitid == "100751"
    assert idx.link("University of Alabama at Birmingham", "Birmingham", "AL").unitid == "100663"
    assert idx.link("University of Phoenix", "Phoenix", "AZ").unitid == "484613"
    result = idx.link("Saint Joseph's College", "Philadelphia", "PA")  # former name (alias)
    assert result.status == "matched" and result.unitid == "215062" and result.confidence >= 90


def test_state_blocks_wrong_matches() -> None:
    assert index().link("University of Alabama", "Tuscaloosa", "AZ").status == "unmatched"


def test_same_name_campuses_need_the_city() -> None:
    idx = index()
    assert idx.link("Galen College of Nursing", "Hazard", "KY").unitid == "200002"
    unsure = idx.link("Galen College of Nursing", None, "KY")
    assert unsure.status == "ambiguous" and unsure.unitid is None
    assert {c["unitid"] for c in unsure.candidates[:2]} == {"200001", "200002"}


def test_unknown_school_is_unmatched() -> None:
    result = index().link("Hogwarts School of Witchcraft", "Tuscaloosa", "AL")
    assert result.status == "unmatched" and result.unitid is None


def test_relink_resolves_once_the_institution_arrives(catalog: Catalog) -> None:
    idx = index()
    review = Review(url="http://r/1", source="reviews", review_id="rv-1", entity_id="e-42",
                    institution_name="Coastal Plains Tech", institution_city="Lumberton", institution_state="NC",
                    rating=4, body="Good.")
    result = idx.link(review.institution_name, review.institution_city, review.institution_state)
    assert result.status == "unmatched"
    review.link_status, review.link_confidence = result.status, result.confidence
    run = catalog.start_run("reviews")
    catalog.upsert(review, run_id=run, page_url="http://r/page1")
    catalog.save_link(source="reviews", entity_id=entity_key(review.to_dict()), name=review.institution_name,
                      city="Lumberton", state="NC", unitid=None, confidence=result.confidence, status="unmatched")
    # A later crawl brings the school.
    school = Institution(url="http://cn/1", source="collegenavigator", unitid="999001",
                         name="Coastal Plains Technical College", city="Lumberton", state="NC")
    catalog.upsert(school)
    idx.add_item(school.to_dict())
    counts = relink(catalog, idx)
    assert counts["relinked"] == 1 and counts["unmatched->matched"] == 1
    stored = catalog.get("review", "rv-1")
    assert stored.data["institution_unitid"] == "999001" and stored.data["link_status"] == "matched"
    assert stored.last_run_id == run and stored.page_url == "http://r/page1"
    assert catalog.get_link("reviews", "e-42").status == "matched"
    assert relink(catalog, idx).get("relinked", 0) == 0  # nothing left to do


def test_records_linked_after_the_institution_crawl_are_fused_before_the_crawl_ends(settings, catalog: Catalog) -> None:
    from crawler.run import RunSummary, _relink_after

    review = Review(url="http://r/1", source="reviews", review_id="rv-1", institution_name="Coastal Plains Tech",
                    institution_city="Lumberton", institution_state="NC", rating=4, body="Good.",
                    link_status="unmatched")
    catalog.upsert(review, run_id=catalog.start_run("reviews"), page_url="http://r/page1")
    catalog.save_link(source="reviews", entity_id=entity_key(review.to_dict()), name=review.institution_name,
                      city="Lumberton", state="NC", unitid=None, confidence=0.0, status="unmatched")
    catalog.fuse_pending()
    run = catalog.start_run("collegenavigator")
    catalog.upsert(Institution(url="http://cn/1", source="collegenavigator", unitid="999001",
                               name="Coastal Plains Technical College", city="Lumberton", state="NC"), run_id=run)
    catalog.fuse_pending()  # what the crawl's own fusion did before the relink pass
    _relink_after(settings, [RunSummary(source="collegenavigator", status="ok", run_id=run, complete=True,
                                        stats={"items": {"new": 1}})])
    assert catalog.get("review", "rv-1").data["institution_unitid"] == "999001"
    # Every observation change, the relink's included, is fused: followers see the link when the crawl ends.
    assert catalog.fusion_watermark() == catalog.max_change_seq()
    entity = catalog.fused.current_id("review", "rv-1")
    assert entity is not None and catalog.fused.get("review", entity).data["institution_unitid"] == "999001"
