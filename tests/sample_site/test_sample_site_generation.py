"""The sample-site generator in-process: counts, vocabularies, determinism, epochs and the real pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from model.items import ACCREDITATION_STATUSES, DEGREE_LEVELS, DELIVERIES, US_STATES, make_program_id
from sample_site import data_load, epochs, institutions, occupations, pages_ooh, reviewdata, truth
from sample_site import site as site_mod
from sample_site.core import CRAWLED_SOURCES

ROOT = Path(__file__).resolve().parents[2]
BASE = truth.default_base_urls()


def _site(epoch: int, faults: bool = False) -> site_mod.Site:
    return site_mod.Site(epoch, faults, BASE, single_host=False)


def _get(site: site_mod.Site, source: str, path_query: str) -> site_mod.Response:
    path, _, query = path_query.partition("?")
    host = "127.0.0.1:8800" if source in ("portal", "site") else BASE[source].removeprefix("http://")
    return site.respond("GET", host, path, query)


def test_counts_cover_all_ipeds_institutions_and_the_review_site():
    assert len(data_load.ipeds_rows()) == 6163
    one, two = truth.counts(1), truth.counts(2)
    # Every IPEDS institution gets a page: 6,160 at epoch 1, the three units IPEDS added in 2023-24 appear at epoch 2.
    assert one["institution_pages"] == 6163 - len(institutions.HELD_BACK_UNITIDS)
    assert epochs.state(1).present | epochs.state(2).present == set(institutions.institutions())
    assert set(institutions.HELD_BACK_UNITIDS) <= epochs.state(2).present
    assert two["institution_pages"] == 6163 - epochs.VANISH_PER_EPOCH
    assert one["careers"] == 342 and sum(o.real for o in occupations.occupations()) == 40
    assert one["review_schools"] >= 2000 and one["reviews"] >= 20000
    assert one["cahiim_programs"] == 245
    assert two["reviews"] > one["reviews"] and two["cahiim_programs"] == 246


def test_item_values_use_the_item_model_vocabularies():
    items = truth.expected_items(1)
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for prog in items["program"].values():
        assert prog["accreditation_status"] in ACCREDITATION_STATUSES
        assert prog["degree_level"] in DEGREE_LEVELS
        assert prog["delivery"] in DELIVERIES
        assert prog["state"] in US_STATES
        assert iso.match(prog["accredited_since"])
        assert prog["next_review"] is None or iso.match(prog["next_review"])
    statuses = {p["accreditation_status"] for p in items["program"].values()}
    assert {"accredited", "preaccredited", "candidate", "probation", "warning", "show_cause", "monitoring",
            "withdrawn", "closed", "no_longer_recognized"} <= statuses
    for inst in items["institution"].values():
        assert inst["state"] in US_STATES
        assert inst["control"] in (None, "public", "private nonprofit", "private for-profit")
        assert inst["level"] in (None, "4-year", "2-year", "Less than 2-year")
        assert isinstance(inst["online"], bool) and isinstance(inst["military_friendly"], bool)
        assert re.fullmatch(r"\d{5}(-\d{4})?", inst["zip"]), inst["zip"]
    for review in items["review"].values():
        assert 1 <= review["rating"] <= 5 and iso.match(review["date"]) and review["body"]
        assert re.fullmatch(r"reviews:\d+", review["review_id"])
    categories = {r["category"] for r in items["review"].values()}
    roles = {r["author_role"] for r in items["review"].values()}
    assert {"Overall Experience", "Academics", "Value", "Campus Life", "Online Learning", "Financial Aid"} <= categories
    assert {"College Sophomore", "Alum", "Military veteran"} <= roles


def test_review_text_is_varied_enough_to_search():
    bodies = [r["body"].lower() for r in truth.expected_items(1)["review"].values()]
    for word in ("online", "instructor", "gi bill", "financial aid", "tuition", "program", "veteran"):
        assert sum(word in b for b in bodies) > 200, word
    assert len(set(bodies)) > 0.9 * len(bodies)


def test_program_ids_are_the_crawlers_ids():
    for pid, prog in truth.expected_items(1)["program"].items():
        if prog["source"] == "collegenavigator":
            shown_agency = next(p.agency for p in epochs.state(1).programs_of(prog["institution_unitid"]) if p.pid == pid)
            assert pid == make_program_id(prog["institution_unitid"], shown_agency, prog["name"])
        else:
            assert re.fullmatch(r"cahiim-\d+", pid)


def test_generated_pay_percentiles_are_plausible_and_move_with_epochs():
    for epoch in (1, 2, 3):
        for career in truth.expected_items(epoch)["career"].values():
            if career["median_pay_annual"] and career["pay_p10"] and career["pay_p90"]:
                assert career["pay_p10"] < career["median_pay_annual"] < career["pay_p90"]
    one, two = truth.expected_items(1)["career"], truth.expected_items(2)["career"]
    raised = [k for k in one if one[k]["median_pay_annual"] != two[k]["median_pay_annual"]]
    assert len(raised) == epochs.PAY_CHANGES_PER_EPOCH
    assert all(two[k]["median_pay_annual"] > one[k]["median_pay_annual"] for k in raised)
    assert all(not occupations.by_slug()[one[k]["url"].rsplit("/", 1)[1][:-4]].real for k in raised)


def test_real_career_values_come_from_the_csv_where_the_page_prints_them():
    careers = {c["url"].rsplit("/", 1)[1][:-4]: c for c in truth.expected_items(1)["career"].values()}
    rows = {r["slug"]: r for r in data_load.ooh_rows()}
    for slug in data_load.saved_ooh_slugs():
        row, career = rows[slug], careers[slug]
        assert career["jobs"] == int(row["num_jobs_2024"])
        assert career["employment_change"] == int(row["employment_change"])
        assert career["entry_education"] == row["entry_education"]
    # The page wins where the CSV derived a figure the page does not print.
    assert careers["musicians-and-singers"]["median_pay_annual"] is None
    assert careers["musicians-and-singers"]["median_pay_hourly"] == 42.45
    assert careers["kindergarten-and-elementary-school-teachers"]["median_pay_hourly"] is None
    assert (careers["medical-records-and-health-information-technicians"]["pay_p10"],
            careers["medical-records-and-health-information-technicians"]["pay_p90"]) == (35780, 80950)


def test_real_pages_are_served_as_saved_apart_from_on_site_links():
    site = _site(1)
    absolute = re.compile(r'(href|content)="https://www\.bls\.gov(?=/ooh/)')
    for slug in sorted(data_load.saved_ooh_slugs()):
        occ = occupations.by_slug()[slug]
        served = _get(site, "bls_ooh", occ.path).body.decode("utf-8")
        original = data_load.saved_ooh_page(slug)
        assert served != original  # links were rewritten ...
        assert absolute.sub(r'\1="', served) == absolute.sub(r'\1="', original)  # ... and nothing else changed
    served = _get(site, "bls_ooh", "/ooh/a-z/index.htm").body.decode("utf-8")
    original = (data_load.OOH_HTML_DIR / "a-z-index.html").read_text(encoding="utf-8")
    assert absolute.sub(r'\1="', served) == absolute.sub(r'\1="', original)
    assert 'href="/ooh/healthcare/registered-nurses.htm"' in served


def _text(node) -> str:
    return " ".join(node.text_content().split())


def test_generated_career_pages_have_the_real_structure_in_both_forms():
    site = _site(1)
    forms = set()
    careers = truth.expected_items(1)["career"]
    for occ in [o for o in occupations.occupations() if not o.real][::2]:
        doc = lxml_html.fromstring(_get(site, "bls_ooh", occ.path).body)
        assert doc.xpath('//div[@id="panes"]') and all(doc.xpath(f'//div[@id="tab-{i}"]') for i in range(1, 10))
        assert doc.xpath('//table[@id="quickfacts"]//td')
        assert _text(doc.xpath("//h1")[0]) == occ.title
        raw = not doc.xpath('//table[@id="outlook-table"]')
        forms.add(raw)
        assert raw == occ.raw_form
        assert bool(doc.xpath('//div[contains(@class, "dataTables_wrapper")]')) == (not raw)
        career = next(c for c in careers.values() if c["url"].endswith(occ.path))
        pay = _text(doc.xpath('//div[@id="tab-5"]')[0])
        if career["pay_p10"]:
            assert f"lowest 10 percent earned less than ${career['pay_p10']:,}, and the highest 10 percent earned more than ${career['pay_p90']:,}" in pay
        projections = doc.xpath('//div[@id="tab-6"]//table[contains(@class, "regular")]//tbody/tr')
        if career["jobs"] is not None:
            cells = [_text(td) for td in projections[0].xpath("./td")]
            assert cells[0] == (career["soc_code"] or "—") and cells[1] == f"{career['jobs']:,}"
        similar = [_text(a) for a in doc.xpath('//table[@id="similar-occupations"]//strong/a')]
        assert similar == career["similar_occupations"]
        if occ.onet:
            assert "used under CC BY 4.0" in _text(doc)
    assert forms == {True, False}


def test_health_career_pages_name_their_real_accreditors():
    site = _site(1)
    careers = truth.expected_items(1)["career"]
    for slug, (acronyms, fields, _cred) in occupations.CAREER_ACCREDITORS.items():
        occ = occupations.by_slug()[slug]
        how = _text(lxml_html.fromstring(_get(site, "bls_ooh", occ.path).body).xpath('//div[@id="tab-4"]')[0])
        for acronym in acronyms:
            assert f"{occupations.ACCREDITOR_NAMES[acronym]} ({acronym})" in how
        assert fields in how
        career = next(c for c in careers.values() if c["url"].endswith(occ.path))
        assert len(career["accreditors"]) == len(acronyms)
    nurses = next(c for c in careers.values() if c["url"].endswith("/registered-nurses.htm"))
    assert nurses["accreditors"] == ["ACEN", "CCNE"]


def test_linkage_truth_has_realistic_name_quirks():
    links = truth.review_links(1)
    variants = truth.review_name_variants(1)
    assert len(links) >= 2000
    kinds = {v for v in variants.values()}
    assert {"exact", "univ_abbrev", "campus", "drop_campus", "alias", "misspelling"} <= kinds
    insts = institutions.institutions()
    by_e = reviewdata.schools_by_entity()
    renamed = [e for e, u in links.items() if by_e[e].name != insts[u].name]
    assert len(renamed) > 500
    assert truth.unlinkable_review_entities(1) == {s.entity_id for s in reviewdata.schools() if s.unitid in institutions.HELD_BACK_UNITIDS}
    assert truth.unlinkable_review_entities(2) == set()
    directory = truth.directory_links(1)
    assert len(directory) == 245 and set(directory.values()) <= epochs.state(1).present
    shown = [p["institution_name"] for p in truth.expected_items(1)["program"].values() if p["source"] == "directory"]
    assert sum(name != insts[directory[pid]].name for pid, name in
               ((p["program_id"], p["institution_name"]) for p in truth.expected_items(1)["program"].values() if p["source"] == "directory")) > 10
    assert len(shown) == 245


def test_epoch_two_changes_statuses_institutions_reviews_and_pay():
    one, two = truth.expected_items(1), truth.expected_items(2)
    changed = [k for k in one["program"] if k in two["program"] and one["program"][k]["accreditation_status"] != two["program"][k]["accreditation_status"]]
    assert len(changed) >= 20
    assert any(two["program"][k]["accreditation_status"] in ("probation", "warning", "show_cause") for k in changed)
    assert any(two["program"][k]["accreditation_status"] == "closed" for k in changed)
    assert set(two["institution"]) - set(one["institution"]) == set(institutions.HELD_BACK_UNITIDS)
    vanished = set(one["institution"]) - set(two["institution"])
    assert len(vanished) == epochs.VANISH_PER_EPOCH and all(institutions.institutions()[u].closed_2023 for u in vanished)
    new_reviews = set(two["review"]) - set(one["review"])
    assert len(new_reviews) > epochs.NEW_REVIEWS_PER_EPOCH
    last_old = max(r["date"] for r in one["review"].values())
    assert all(two["review"][r]["date"] > last_old for r in new_reviews)
    assert set(one["review"]) <= set(two["review"])


def test_changed_pages_are_exactly_the_pages_whose_content_differs():
    """In-process check of the page-model bookkeeping (the HTTP sweep repeats it over the network, slow)."""
    a, b = _site(1), _site(2)
    changes = truth.changed_pages_by_host(1, 2)
    pages1, pages2 = site_mod.all_pages(1), site_mod.all_pages(2)
    rng = random.Random(7)
    for source in (*CRAWLED_SOURCES,):
        buckets = changes.get(source, {"changed": set(), "added": set(), "removed": set()})
        everything = sorted({p.canonical for p in pages1[source]} | {p.canonical for p in pages2[source]})
        sample = set(rng.sample(everything, min(150, len(everything)))) | buckets["changed"] | buckets["added"] | buckets["removed"]
        for path in sorted(sample):
            ra, rb = _get(a, source, path), _get(b, source, path)
            if path in buckets["added"]:
                assert (ra.status, rb.status) == (404, 200), path
            elif path in buckets["removed"]:
                assert (ra.status, rb.status) == (200, 404), path
            else:
                assert (ra.status, rb.status) == (200, 200), path
                assert (ra.body != rb.body) == (path in buckets["changed"]), path
    flat = truth.changed_pages(1, 2)
    assert flat["changed"] and flat["added"] and flat["removed"]
    assert "/sources.json" in flat["changed"]


def test_last_modified_moves_forward_only_for_changed_pages():
    a, b = _site(1), _site(2)
    flat = truth.changed_pages(1, 2)
    changed = sorted(p for p in flat["changed"] if p.startswith("/collegenavigator/?id="))[:5]
    same = "/collegenavigator/?id=110635" if "/collegenavigator/?id=110635" not in flat["changed"] else "/collegenavigator/?id=100654"
    for path in changed:
        la = dict(_get(a, "collegenavigator", path).headers)["Last-Modified"]
        lb = dict(_get(b, "collegenavigator", path).headers)["Last-Modified"]
        assert dt.datetime.strptime(lb, "%a, %d %b %Y %H:%M:%S GMT") > dt.datetime.strptime(la, "%a, %d %b %Y %H:%M:%S GMT")
    assert dict(_get(a, "collegenavigator", same).headers)["Last-Modified"] == dict(_get(b, "collegenavigator", same).headers)["Last-Modified"]


def test_robots_rules_keep_crawlers_out_of_traps_and_private_areas():
    assert truth.is_disallowed("reviews", "/reviews/events/calendar/2031/04/")
    assert truth.is_disallowed("bls_ooh", "/ooh/occupation-finder.htm?pay=3&page=7")
    assert truth.is_disallowed("bls_ooh", "/k12/games/")
    assert truth.is_disallowed("collegenavigator", "/collegenavigator/?s=AL&pg=1&fv=100858")
    assert truth.is_disallowed("collegenavigator", "/collegenavigator/?s=AL&of=1&od=0")
    for source, paths in truth.page_paths(1).items():
        assert not any(truth.is_disallowed(source, p) for p in paths), source
    assert set(truth.disallowed_paths()) >= set(CRAWLED_SOURCES)


def _digest() -> str:
    h = hashlib.sha256(json.dumps(truth.expected_items(1), sort_keys=True).encode())
    h.update(json.dumps({k: sorted(v) for k, v in truth.changed_pages(1, 2).items()}).encode())
    site = site_mod.Site(2, True, BASE, False)
    for source in CRAWLED_SOURCES:
        for page in site_mod.all_pages(2)[source][::97]:
            path, _, query = page.canonical.partition("?")
            h.update(site.respond("GET", BASE[source][7:], path, query).body)
    return h.hexdigest()


def test_two_builds_in_separate_processes_are_identical():
    """Generation never depends on str-hash order: a fresh build (no disk cache) under another PYTHONHASHSEED matches."""
    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "7"
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT), SAMPLE_SITE_NO_CACHE="1")
    code = "from tests.sample_site.test_sample_site_generation import _digest; print(_digest())"
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    mine = _digest()
    theirs = child.communicate(timeout=300)[0].strip()
    assert child.returncode == 0
    assert theirs == mine and len(mine) == 64


def test_expected_items_use_the_given_base_urls():
    base = truth.default_base_urls(9911)
    items = truth.expected_items(1, base_urls=base)
    inst = items["institution"]["110635"]
    assert inst["url"] == "http://127.0.0.3:9911/collegenavigator/?id=110635"
    # Careers without a SOC code are keyed by their page slug, so their ids do not follow the port.
    no_soc = [k for k, c in items["career"].items() if c["soc_code"] is None]
    assert no_soc and all(k.startswith("ooh-") for k in no_soc)
    assert set(no_soc) <= set(truth.expected_items(1)["career"])
    assert items["career"][no_soc[0]]["url"].startswith("http://127.0.0.2:9911/ooh/")


def test_skeleton_keeps_no_trace_of_the_template_occupation():
    head, tail = pages_ooh.skeleton()
    assert "Medical Records" not in head + tail
    site = _site(1)
    page = _get(site, "bls_ooh", "/ooh/business-and-financial/accountants-and-auditors.htm").body.decode()
    assert "medical records" not in page.lower()


@pytest.mark.parametrize("epoch", [0, 1001])
def test_out_of_range_epochs_are_refused(epoch):
    with pytest.raises(ValueError):
        epochs.state(epoch)
