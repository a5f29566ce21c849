"""Read the bundled real data in ``sample_site/data/`` (read once per process, cached)."""

from __future__ import annotations

import csv
import functools
import gzip
import io
import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
OOH_HTML_DIR = DATA_DIR / "bls_ooh_html"
CN_HTML_DIR = DATA_DIR / "nces_college_navigator_html"


@functools.cache
def ooh_rows() -> tuple[dict[str, str], ...]:
    """Rows of bls_ooh_occupations.csv (342 occupations), in file order."""
    with open(DATA_DIR / "bls_ooh_occupations.csv", encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@functools.cache
def saved_ooh_slugs() -> frozenset[str]:
    """Slugs of the 40 saved real OOH occupation pages."""
    return frozenset(p.stem for p in OOH_HTML_DIR.glob("*.html") if p.stem != "a-z-index")


@functools.cache
def saved_ooh_page(slug: str) -> str:
    """Text of a saved real OOH page (UTF-8)."""
    return (OOH_HTML_DIR / f"{slug}.html").read_text(encoding="utf-8")


@functools.cache
def onet_rows() -> tuple[tuple[str, str, str], ...]:
    """(O*NET-SOC code, title, description) rows of the 2010-SOC O*NET occupation data."""
    with open(DATA_DIR / "onet_occupation_data.tsv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        return tuple((r["O*NET-SOC Code"], r["Title"], r["Description"]) for r in reader)


@functools.cache
def ipeds_rows() -> tuple[dict[str, str], ...]:
    """Rows of the IPEDS HD2023 institution directory (6,163 institutions)."""
    raw = gzip.decompress((DATA_DIR / "ipeds_hd2023.csv.gz").read_bytes()).decode("utf-8-sig")
    keep = ("UNITID", "INSTNM", "IALIAS", "ADDR", "CITY", "STABBR", "ZIP", "GENTELE", "OPEID", "WEBADDR",
            "VETURL", "SECTOR", "ICLEVEL", "CONTROL", "HLOFFER", "LOCALE", "INSTSIZE", "C21BASIC", "LATITUDE",
            "LONGITUD", "DEATHYR", "CYACTIVE", "HOSPITAL", "MEDICAL", "HBCU", "TRIBAL", "F1SYSNAM")
    rows = []
    for r in csv.DictReader(io.StringIO(raw, newline="")):
        # Whitespace runs collapse as they do on a rendered page ("461-C  East Plaza Drive").
        rows.append({k: " ".join(r[k].split()) for k in keep})
    return tuple(rows)


@functools.cache
def dapip_pairs() -> tuple[tuple[str, str], ...]:
    """Distinct (agency name, program name) pairs of the DAPIP accreditation actions, sorted."""
    raw = gzip.decompress((DATA_DIR / "dapip_AccreditationActions.csv.gz").read_bytes()).decode("utf-8-sig")
    pairs = {(r["AgencyName"].strip(), r["ProgramName"].strip()) for r in csv.DictReader(io.StringIO(raw, newline=""))}
    return tuple(sorted(pairs))


def clean_dapip_text(text: str) -> str:
    """Repair the en dashes the DAPIP export turned into '?' and collapse runs of spaces."""
    text = re.sub(r"\s\?\s", " \u2013 ", text)
    return re.sub(r"\s{2,}", " ", text).strip()
