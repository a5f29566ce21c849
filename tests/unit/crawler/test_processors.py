"""The shared normalisers: money, numbers, dates, statuses, degree levels, places, accreditors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.processors import (
    accreditor_label,
    accreditors,
    clean_multiline,
    clean_text,
    find_accreditors,
    lookup_accreditor,
    parse_accreditation,
    parse_address,
    parse_bool,
    parse_control,
    parse_date,
    parse_dates,
    parse_degree_level,
    parse_delivery,
    parse_int,
    parse_money,
    parse_number,
    parse_percent,
    parse_state,
    split_aliases,
)
from model.items import ACCREDITATION_STATUSES, DEGREE_LEVELS, DELIVERIES, US_STATES

REAL_DATA = Path(__file__).resolve().parents[3] / "sample_site" / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$50,250 per year", 50250),
        ("$24.16 per hour", 24.16),
        ("Median Salary $33,610", 33610),
        ("Lowest 10%: $21,480", 21480),  # the percent is not the money
        ("Top 10% earn $52,900", 52900),
        ("the median annual wage was $50,250 in May 2024", 50250),
        ("$52k", 52000),
        ("$1.2 million", 1200000),
        ("-$5", -5),
        ("50,250", 50250),
        ("$ 1,000.50", 1000.5),
        ("N/A", None),
        ("", None),
        (None, None),
        ("$", None),
    ],
)
def test_parse_money(text, expected):
    assert parse_money(text) == expected
    if isinstance(expected, int):
        assert isinstance(parse_money(text), int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,539,800", 1539800),
        ("    194,800", 194800),
        ("-17,500", -17500),
        ("\u221217,500", -17500),  # Unicode minus, as typeset pages print it
        ("0", 0),
        ("\u2014", None),
        ("2024\u201334", 2024),  # a range's hyphen is not a sign
        ("about 14,200 openings", 14200),
        ("12.5", 12.5),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


def test_parse_int_rounds():
    assert parse_int("12.6") == 13
    assert parse_int("none") is None


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_number_round_trip_with_separators(n):
    assert parse_number(f"{n:,}") == n
    assert parse_money(f"${n:,}" if n >= 0 else f"-${-n:,}") == n


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_money_with_cents_round_trip(d):
    assert parse_money(f"${d:,.2f} per hour") == pytest.approx(float(d))


@settings(deadline=None)  # the first call compiles the accreditor patterns
@given(st.text())
def test_normalisers_never_raise(text):
    for fn in (parse_money, parse_number, parse_percent, parse_date, parse_degree_level, parse_delivery,
               parse_state, parse_control, parse_bool, clean_text, find_accreditors, lookup_accreditor,
               split_aliases, parse_address):
        fn(text)
    status = parse_accreditation(text)
    assert status.status is None or status.status in ACCREDITATION_STATUSES


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5%", 5.0), ("-3%", -3.0), ("\u22122%", -2.0), ("7% (Much faster than average)", 7.0),
     ("grow 7 percent from 2024 to 2034", 7.0), ("0% (Little or no change)", 0.0), ("12.5 %", 12.5),
     ("decline", None), (None, None)],
)
def test_parse_percent(text, expected):
    assert parse_percent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/01/1949", "1949-01-01"),
        ("12/31/2024", "2024-12-31"),
        ("3/12/2018 12:00:00 AM", "2018-03-12"),
        ("2024-05-01", "2024-05-01"),
        ("2025-08-28T10:00:00Z", "2025-08-28"),
        ("May 6, 2013", "2013-05-06"),
        ("6 June 2020", "2020-06-06"),
        ("Sept. 3, 2021", "2021-09-03"),
        ("May 2024", "2024-05"),
        ("13/45/2020", None),
        ("02/30/2020", None),
        ("no date", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_formats_round_trip(d):
    assert parse_date(f"{d.month:02d}/{d.day:02d}/{d.year}") == d.isoformat()
    assert parse_date(f"{d.month}/{d.day}/{d.year}") == d.isoformat()
    assert parse_date(d.strftime("%B %d, %Y")) == d.isoformat()
    assert parse_date(d.isoformat()) == d.isoformat()


def test_parse_dates_in_order():
    assert parse_dates("Accredited (07/01/2001 - 08/26/2009)") == ["2001-07-01", "2009-08-26"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Accredited since (01/01/1949)", ("accredited", "1949-01-01", None)),
        ("Preaccredited since (06/13/2022)", ("preaccredited", "2022-06-13", None)),
        # College Navigator marks estimated dates with <sup>(!)</sup>; the text comes through as "(!)".
        ("Accredited since ((!)01/01/1923)", ("accredited", "1923-01-01", None)),
        ("Accredited since (\u00a0(!)\u00a001/01/1923)", ("accredited", "1923-01-01", None)),
        # A period that ended is no longer an accreditation in force.
        ("Accredited (07/01/2001 - 08/26/2009)", ("withdrawn", "2001-07-01", "2009-08-26")),
        ("Probation since (01/02/2020)", ("probation", "2020-01-02", None)),
        ("Accredited - Probation since (01/02/2020)", ("probation", "2020-01-02", None)),
        ("Warning since (03/04/2021)", ("warning", "2021-03-04", None)),
        ("Show Cause since (03/04/2021)", ("show_cause", "2021-03-04", None)),
        ("Withdrawn (01/01/2010)", ("withdrawn", "2010-01-01", None)),
        ("Accreditation withdrawn since (01/01/2010)", ("withdrawn", "2010-01-01", None)),
        ("Voluntarily withdrew", ("withdrawn", None, None)),
        ("Candidate for Accreditation since (01/01/2021)", ("candidate", "2021-01-01", None)),
        ("Program closed (05/05/2019)", ("closed", "2019-05-05", None)),
        ("No Longer Recognized", ("no_longer_recognized", None, None)),
        ("Heightened Monitoring or Focused Review", ("monitoring", None, None)),
        ("Accreditation Reaffirmed: Probation Removed", ("accredited", None, None)),
        ("Loss of Accreditation or Preaccreditation: Voluntary Withdrawal", ("withdrawn", None, None)),
        ("Initial Accreditation", ("preaccredited", None, None)),
        ("", (None, None, None)),
    ],
)
def test_parse_accreditation(text, expected):
    assert tuple(parse_accreditation(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AAS", "associate"), ("AS", "associate"), ("A.A.S.", "associate"), ("associate", "associate"),
        ("Associate's degree", "associate"), ("Associate of Applied Science", "associate"),
        ("Nursing (ADNUR) - Associate degree programs", "associate"),
        ("BS", "bachelor"), ("B.S. in HIM", "bachelor"), ("baccalaureate", "bachelor"),
        ("Bachelor's degree", "bachelor"), ("Bachelor of Science in Health Information Management", "bachelor"),
        ("master's", "master"), ("Master's degree", "master"), ("MS in Health Informatics", "master"), ("MBA", "master"),
        ("doctoral", "doctoral"), ("Doctoral or professional degree", "doctoral"), ("PhD", "doctoral"),
        ("Doctor's degree - research/scholarship", "doctoral"), ("DPT", "doctoral"),
        ("Clinical Psychology (CLPSY) - PhD Doctoral programs", "doctoral"),
        ("certificate", "certificate"), ("Postbaccalaureate certificate", "certificate"),
        ("Post-master's certificate", "certificate"), ("Postsecondary nondegree award", "certificate"),
        ("Coding Specialist Diploma", "certificate"),
        ("High school diploma or equivalent", None), ("No formal educational credential", None),
        ("as well as", None), ("Some college, no degree", None), ("", None),
    ],
)
def test_parse_degree_level(text, expected):
    assert parse_degree_level(text) == expected
    assert expected is None or expected in DEGREE_LEVELS


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100% online", "online"), ("Online", "online"), ("Distance education", "online"), ("fully online", "online"),
     ("Hybrid", "hybrid"), ("blended", "hybrid"), ("Campus and online", "hybrid"), ("online/on-campus", "hybrid"),
     ("On campus", "campus"), ("In-person", "campus"), ("Campus", "campus"), ("", None), ("evening", None)],
)
def test_parse_delivery(text, expected):
    assert parse_delivery(text) == expected
    assert expected is None or expected in DELIVERIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CA", "CA"), ("ca", "CA"), ("California", "CA"), ("new york", "NY"), ("District of Columbia", "DC"),
     ("Washington, D.C.", "DC"), ("Texas.", "TX"), ("Puerto Rico", "PR"), ("ZZ", None), ("Atlantis", None)],
)
def test_parse_state(text, expected):
    assert parse_state(text) == expected


@given(st.sampled_from(sorted(US_STATES)))
def test_every_state_name_and_code(code):
    assert parse_state(code) == code
    assert parse_state(US_STATES[code]) == code
    assert parse_state(US_STATES[code].upper()) == code


def test_parse_address():
    assert parse_address("200 California Hall, Berkeley, California 94720") == {
        "address": "200 California Hall", "city": "Berkeley", "state": "CA", "zip": "94720"}
    assert parse_address("Auburn, Alabama 36849") == {"address": None, "city": "Auburn", "state": "AL", "zip": "36849"}
    assert parse_address("800 Lakeshore Drive, Birmingham, Alabama 35229-2240")["zip"] == "35229-2240"
    assert parse_address("South Ave, Garden City, New York 11530-0701")["city"] == "Garden City"
    assert parse_address("1 Main St, Springfield, IL 62701")["state"] == "IL"
    assert parse_address("somewhere")["address"] == "somewhere"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4-year, Public", "public"), ("Private not-for-profit", "private nonprofit"),
     ("Private nonprofit", "private nonprofit"), ("2-year, Private for-profit", "private for-profit"),
     ("Proprietary", "private for-profit"), ("", None)],
)
def test_parse_control(text, expected):
    assert parse_control(text) == expected


def test_parse_bool():
    assert parse_bool("Yes") is True
    assert parse_bool(" no ") is False
    assert parse_bool("maybe") is None


def test_clean_text_removes_invisible_and_control_characters():
    assert clean_text("  Hello\u200b\u00a0 world\x00\x07 \ufeff") == "Hello world"
    assert clean_text("Medical\u00adRecords") == "MedicalRecords"
    assert clean_text(" \u200b ") is None
    assert clean_text(None) is None
    # Compatibility characters stay as written (NFKC would split the spacing cedilla into two characters).
    assert clean_text("Colegio de Mayag\u00b8ez") == "Colegio de Mayag\u00b8ez"
    assert split_aliases("RUM | Recinto de Mayag\u00b8ez") == ["RUM", "Recinto de Mayag\u00b8ez"]
    assert clean_text("Cafe\u0301") == "Caf\u00e9"  # composed (NFC)
    assert clean_multiline(["  a ", None, "", "b\n c"]) == "a\n\nb c"


def test_split_aliases():
    assert split_aliases("GSCC | Gadsden State | Gadsden Community College") == [
        "GSCC", "Gadsden State", "Gadsden Community College"]
    assert split_aliases("UAH  University of Alabama Huntsville") == ["UAH", "University of Alabama Huntsville"]
    assert split_aliases("AUM||Auburn University at Montgomery|Auburn Montgomery",
                         exclude=["Auburn University at Montgomery"]) == ["AUM", "Auburn Montgomery"]
    assert split_aliases("A, B, A, a") == ["A", "B", "a"]  # exact duplicates go; the page shows both spellings
    assert split_aliases("") == []


# --------------------------------------------------------------------------- accreditors


def test_accreditor_table_loads_and_is_consistent():
    table = accreditors()
    assert len(table) > 60
    acronyms = [a.acronym for a in table if a.acronym]
    assert len(acronyms) == len(set(acronyms)), "acronyms are keys and must be unique"
    for required in ("CAHIIM", "CAAHEP", "ABHES", "ACEN", "CCNE", "JRCERT", "ACEND", "CODA", "CAPTE", "ACOTE",
                     "ARC-PA", "NAACLS", "CoARC"):
        assert required in acronyms
    assert all(a.scope in ("institutional", "programmatic") for a in table)


def test_every_dapip_agency_is_in_the_table():
    import csv
    import gzip

    with gzip.open(REAL_DATA / "dapip_AccreditationActions.csv.gz", "rt", encoding="utf-8", errors="replace") as fh:
        agencies = {row["AgencyName"] for row in csv.DictReader(fh)}
    missing = [name for name in agencies if lookup_accreditor(name) is None]
    assert not missing


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition and Dietetics", "ACEND"),
        ("American Psychological Association, Commission on Accreditation", "APA"),
        ("WASC Senior College and University Commission ", "WSCUC"),
        ("Commission on Accreditation of Healthcare Management Education", "CAHME"),
        ("Accreditation Commission for Education in Nursing, Inc. ? May 6, 2013  Formerly: National League for "
         "Nursing Accrediting Commission", "ACEN"),
        ("Commission on Accreditation for Health Informatics and Information Management Education (CAHIIM)", "CAHIIM"),
        ("cahiim", "CAHIIM"),
        ("The Higher Learning Commission", "HLC"),
        ("Association for Clinical Pastoral Education, Inc., Accreditation Commission",
         "Association for Clinical Pastoral Education, Inc., Accreditation Commission"),
        ("Board of Imaginary Things", "Board of Imaginary Things"),
    ],
)
def test_accreditor_label(name, label):
    assert accreditor_label(name) == label


def test_find_accreditors_in_running_text():
    text = ("Graduates of programs accredited by CAHIIM or by the Commission on Accreditation of Allied Health "
            "Education Programs (CAAHEP) may sit for the exam. ABHES-accredited schools, ACEN and CCNE nursing "
            "programs, and NLNAC (now ACEN) programs qualify; the Commission on Dental Accreditation accredits "
            "dental programs. Cite sources in APA style. The American Psychological Association accredits PhDs.")
    assert find_accreditors(text) == ["CAHIIM", "CAAHEP", "ABHES", "ACEN", "CCNE", "CODA", "APA"]


def test_find_accreditors_ignores_ambiguous_acronyms_and_lowercase_words():
    assert find_accreditors("Cite it in APA format; the COE said coda; cahiim in lower case.") == []
    assert find_accreditors(None) == []


def test_find_accreditors_tolerates_line_breaks_and_punctuation():
    text = "Commission on Accreditation for Health\nInformatics & Information Management Education"
    assert find_accreditors(text) == ["CAHIIM"]
