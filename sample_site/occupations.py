"""Careers: the 342 OOH occupations from bls_ooh_occupations.csv, O*NET descriptions, generated pay details.

The 40 saved real pages are read for the values they print (title, pay, percentiles, similar
occupations); every other occupation gets generated values that the generated page shows.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from dataclasses import dataclass

from sample_site import data_load
from sample_site.util import frac, h64, title_case

GROUP_NAMES: dict[str, str] = {
    "architecture-and-engineering": "Architecture and Engineering",
    "arts-and-design": "Arts and Design",
    "building-and-grounds-cleaning": "Building and Grounds Cleaning",
    "business-and-financial": "Business and Financial",
    "community-and-social-service": "Community and Social Service",
    "computer-and-information-technology": "Computer and Information Technology",
    "construction-and-extraction": "Construction and Extraction",
    "education-training-and-library": "Education, Training, and Library",
    "entertainment-and-sports": "Entertainment and Sports",
    "farming-fishing-and-forestry": "Farming, Fishing, and Forestry",
    "food-preparation-and-serving": "Food Preparation and Serving",
    "healthcare": "Healthcare",
    "installation-maintenance-and-repair": "Installation, Maintenance, and Repair",
    "legal": "Legal",
    "life-physical-and-social-science": "Life, Physical, and Social Science",
    "management": "Management",
    "math": "Math",
    "media-and-communication": "Media and Communication",
    "military": "Military",
    "office-and-administrative-support": "Office and Administrative Support",
    "personal-care-and-service": "Personal Care and Service",
    "production": "Production",
    "protective-service": "Protective Service",
    "sales": "Sales",
    "transportation-and-material-moving": "Transportation and Material Moving",
}

# Real accrediting bodies, as the generated "How to Become One" text names them.
ACCREDITOR_NAMES: dict[str, str] = {
    "CAHIIM": "Commission on Accreditation for Health Informatics and Information Management Education",
    "CAAHEP": "Commission on Accreditation of Allied Health Education Programs",
    "ABHES": "Accrediting Bureau of Health Education Schools",
    "JRCERT": "Joint Review Committee on Education in Radiologic Technology",
    "ACEN": "Accreditation Commission for Education in Nursing",
    "CCNE": "Commission on Collegiate Nursing Education",
    "ACEND": "Accreditation Council for Education in Nutrition and Dietetics",
    "CODA": "Commission on Dental Accreditation",
    "CAPTE": "Commission on Accreditation in Physical Therapy Education",
    "ACOTE": "Accreditation Council for Occupational Therapy Education",
    "CoARC": "Commission on Accreditation for Respiratory Care",
    "ARC-PA": "Accreditation Review Commission on Education for the Physician Assistant",
    "ACPE": "Accreditation Council for Pharmacy Education",
    "LCME": "Liaison Committee on Medical Education",
    "COCA": "Commission on Osteopathic College Accreditation",
    "NAACLS": "National Accrediting Agency for Clinical Laboratory Sciences",
    "JRCNMT": "Joint Review Committee on Educational Programs in Nuclear Medicine Technology",
    "CAA": "Council on Academic Accreditation in Audiology and Speech-Language Pathology",
    "CAATE": "Commission on Accreditation of Athletic Training Education",
    "COA": "Council on Accreditation of Nurse Anesthesia Educational Programs",
    "ACME": "Accreditation Commission for Midwifery Education",
    "AVMA COE": "American Veterinary Medical Association Council on Education",
    "COMTA": "Commission on Massage Therapy Accreditation",
    "CCE": "Council on Chiropractic Education",
    "ACOE": "Accreditation Council on Optometric Education",
    "CPME": "Council on Podiatric Medical Education",
    "ACGC": "Accreditation Council for Genetic Counseling",
    "ABET": "Accreditation Board for Engineering and Technology",
    "ABA": "American Bar Association",
    "CSWE": "Council on Social Work Education",
    "CACREP": "Council for Accreditation of Counseling and Related Educational Programs",
    "ABFSE": "American Board of Funeral Service Education",
    "CAEP": "Council for the Accreditation of Educator Preparation",
    "LAAB": "Landscape Architectural Accreditation Board",
}

# slug -> (accreditor acronyms in order of mention, fields of study, the credential wording)
CAREER_ACCREDITORS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "athletic-trainers": (("CAATE",), "athletic training", "a master's degree in athletic training"),
    "audiologists": (("CAA",), "audiology", "a Doctor of Audiology (Au.D.) degree"),
    "cardiovascular-technologists-and-technicians": (("CAAHEP",), "cardiovascular technology and diagnostic sonography", "an associate's degree or a postsecondary certificate"),
    "chiropractors": (("CCE",), "chiropractic", "a Doctor of Chiropractic (D.C.) degree"),
    "clinical-laboratory-technologists-and-technicians": (("NAACLS",), "medical laboratory science and clinical laboratory technology", "a bachelor's degree in medical laboratory science"),
    "dental-assistants": (("CODA",), "dental assisting", "a postsecondary certificate in dental assisting"),
    "dental-hygienists": (("CODA",), "dental hygiene", "an associate's degree in dental hygiene"),
    "diagnostic-medical-sonographers": (("CAAHEP",), "diagnostic medical sonography", "an associate's degree or a postsecondary certificate"),
    "dietitians-and-nutritionists": (("ACEND",), "dietetics, foods and nutrition, and clinical nutrition", "a master's degree in dietetics"),
    "emts-and-paramedics": (("CAAHEP",), "emergency medical technology and paramedicine", "a postsecondary nondegree award"),
    "genetic-counselors": (("ACGC",), "genetic counseling", "a master's degree in genetic counseling"),
    "licensed-practical-and-licensed-vocational-nurses": (("ACEN",), "practical nursing", "a state-approved practical nursing certificate"),
    "massage-therapists": (("COMTA",), "massage therapy", "a postsecondary nondegree award in massage therapy"),
    "medical-assistants": (("CAAHEP", "ABHES"), "medical assisting and medical office administration", "a postsecondary certificate in medical assisting"),
    "medical-dosimetrists": (("JRCERT",), "medical dosimetry", "a bachelor's degree and a certificate in medical dosimetry"),
    "nuclear-medicine-technologists": (("JRCNMT",), "nuclear medicine technology", "an associate's degree in nuclear medicine technology"),
    "nurse-anesthetists-nurse-midwives-and-nurse-practitioners": (("COA", "ACME", "CCNE", "ACEN"), "nurse anesthesia, nurse-midwifery, and advanced practice nursing", "a master's degree in one of the advanced practice nursing roles"),
    "occupational-therapists": (("ACOTE",), "occupational therapy", "a master's degree in occupational therapy"),
    "occupational-therapy-assistants-and-aides": (("ACOTE",), "occupational therapy assisting", "an associate's degree from an occupational therapy assistant program"),
    "optometrists": (("ACOE",), "optometry", "a Doctor of Optometry (O.D.) degree"),
    "pharmacists": (("ACPE",), "pharmacy", "a Doctor of Pharmacy (Pharm.D.) degree"),
    "physical-therapist-assistants-and-aides": (("CAPTE",), "physical therapist assisting", "an associate's degree from a physical therapist assistant program"),
    "physician-assistants": (("ARC-PA",), "physician assistant studies", "a master's degree from a physician assistant program"),
    "physicians-and-surgeons": (("LCME", "COCA"), "medicine and osteopathic medicine", "a Doctor of Medicine (M.D.) or Doctor of Osteopathic Medicine (D.O.) degree"),
    "podiatrists": (("CPME",), "podiatric medicine", "a Doctor of Podiatric Medicine (D.P.M.) degree"),
    "radiation-therapists": (("JRCERT",), "radiation therapy", "an associate's or bachelor's degree in radiation therapy"),
    "radiologic-technologists": (("JRCERT",), "radiologic technology and radiography", "an associate's degree in radiography"),
    "registered-nurses": (("ACEN", "CCNE"), "nursing", "a Bachelor of Science in Nursing (BSN), an associate's degree in nursing (ADN), or a diploma from an approved nursing program"),
    "respiratory-therapists": (("CoARC",), "respiratory therapy and respiratory care", "an associate's degree in respiratory therapy"),
    "speech-language-pathologists": (("CAA",), "speech-language pathology", "a master's degree in speech-language pathology"),
    "surgical-technologists": (("CAAHEP", "ABHES"), "surgical technology", "a postsecondary certificate or an associate's degree in surgical technology"),
    "veterinarians": (("AVMA COE",), "veterinary medicine", "a Doctor of Veterinary Medicine (D.V.M. or V.M.D.) degree"),
    "veterinary-technologists-and-technicians": (("AVMA COE",), "veterinary technology", "an associate's degree in veterinary technology"),
    "phlebotomists": (("NAACLS",), "phlebotomy", "a postsecondary nondegree award in phlebotomy"),
    "occupational-health-and-safety-specialists-and-technicians": (("ABET",), "occupational health and safety", "a bachelor's degree in occupational health and safety"),
    "civil-engineers": (("ABET",), "civil engineering", "a bachelor's degree in civil engineering"),
    "mechanical-engineers": (("ABET",), "mechanical engineering", "a bachelor's degree in mechanical engineering"),
    "lawyers": (("ABA",), "law", "a Juris Doctor (J.D.) degree"),
    "social-workers": (("CSWE",), "social work", "a bachelor's degree in social work (BSW) or a master's degree in social work (MSW)"),
    "school-and-career-counselors": (("CACREP",), "school counseling", "a master's degree in school counseling"),
    "funeral-service-occupations": (("ABFSE",), "funeral service and mortuary science", "an associate's degree in funeral service or mortuary science"),
    "high-school-teachers": (("CAEP",), "teacher education", "a bachelor's degree and a state-approved teacher preparation program"),
    "landscape-architects": (("LAAB",), "landscape architecture", "a bachelor's or master's degree in landscape architecture"),
}

# 2018 SOC -> 2010 SOC (O*NET file) for codes whose number changed, after the BLS SOC crosswalk.
SOC_CROSSWALK: dict[str, str] = {
    "15-1221": "15-1111", "15-1241": "15-1143", "15-1251": "15-1131", "15-1211": "15-1121",
    "15-1212": "15-1122", "15-1244": "15-1142", "15-1230": "15-1151", "15-2051": "15-2041",
    "29-1292": "29-2021", "29-9021": "29-2071", "29-2072": "29-2071", "27-3092": "23-2091",
    "11-9072": "39-1021", "19-4042": "19-4091", "31-1120": "31-1011", "25-4022": "25-4021",
    "27-3023": "27-3022", "13-1082": "13-1111", "21-1018": "21-1014", "25-9045": "25-9041",
    "25-3041": "25-3021", "17-3028": "17-3023", "45-3031": "45-3011", "37-3000": "37-3011",
    "39-2000": "39-2021", "19-5000": "29-9011", "43-6000": "43-6014", "53-5000": "53-5021",
    "41-4000": "41-4012", "29-2036": "29-2099",
}

# Occupations the CSV gives no SOC code (OOH pages covering several SOC codes): the 2010 SOC of
# their largest detailed occupation, for the O*NET description.
TITLE_TO_SOC2010: dict[str, str] = {
    "Agricultural workers": "45-2092", "Aircraft and avionics equipment mechanics and technicians": "49-3011",
    "Bus drivers": "53-3021", "Career and technical education teachers": "25-2032",
    "Construction laborers and helpers": "47-2061", "Craft and fine artists": "27-1012",
    "Database administrators and architects": "15-1141", "Delivery truck drivers and driver/sales workers": "53-3033",
    "Electrical and electronics installers and repairers": "49-2094", "Financial clerks": "43-3021",
    "Food and beverage serving and related workers": "35-3031", "Food processing equipment workers": "51-3091",
    "Funeral service workers": "39-4031", "Gambling services workers": "39-3011",
    "Geological and hydrologic technicians": "19-4041", "Hand laborers and material movers": "53-7062",
    "Industrial machinery mechanics, machinery maintenance workers, and millwrights": "49-9041",
    "Information clerks": "43-4171", "Ironworkers": "47-2221", "Judges and hearing officers": "23-1023",
    "Kindergarten and elementary school teachers": "25-2021", "Library technicians and assistants": "25-4031",
    "Masonry workers": "47-2021", "Material moving machine operators": "53-7051",
    "Material recording clerks": "43-5061", "Metal and plastic machine workers": "51-4031",
    "Nurse anesthetists, nurse midwives, and nurse practitioners": "29-1151",
    "Nursing assistants and orderlies": "31-1014", "Oil and gas workers": "47-5071",
    "Physicians and surgeons": "29-1062", "Police and detectives": "33-3051",
    "Psychiatric technicians and aides": "29-2053", "Purchasing managers, buyers, and purchasing agents": "11-3061",
    "Railroad workers": "53-4031", "Retail sales workers": "41-2031",
    "Software developers, quality assurance analysts, and testers": "15-1132",
    "Surgical assistants and technologists": "29-2055", "Taxi drivers, shuttle drivers, and chauffeurs": "53-3041",
    "Telecommunications technicians": "49-2022", "Top executives": "11-1011",
    "Web developers and digital designers": "15-1134", "Woodworkers": "51-7011",
    "Postsecondary teachers": "25-1011", "Advertising, promotions, and marketing managers": "11-2011",
    "Announcers and DJs": "27-3011", "Assemblers and fabricators": "51-2092",
    "Automotive body and glass repairers": "49-3021", "Machinists and tool and die makers": "51-4041",
    "Mathematicians and statisticians": "15-2021", "Radiologic and MRI technologists": "29-2034",
    "Financial analysts": "13-2051",
}

# Old URL slugs that now redirect (301) to the current page, as sites rename pages over time.
OLD_SLUGS: dict[tuple[str, str], str] = {
    ("healthcare", "medical-records-specialists"): "medical-records-and-health-information-technicians",
    ("healthcare", "radiologic-and-mri-technologists"): "radiologic-technologists",
    ("healthcare", "registered-nurse"): "registered-nurses",
    ("healthcare", "home-health-aides"): "home-health-aides-and-personal-care-aides",
    ("computer-and-information-technology", "web-developers-and-digital-designers"): "web-developers",
}

TOP_CODED_WAGE = 239200  # BLS prints "$239,200 or more" above this.


@dataclass(slots=True)
class Occupation:
    """One OOH occupation with the values its page shows at epoch 1."""

    slug: str
    group: str
    csv_title: str
    title: str
    soc: str | None
    real: bool
    annual: int | None
    hourly: float | None
    p10: int | None
    p90: int | None
    entry_education: str | None
    work_experience: str | None
    training: str | None
    jobs: int | None
    projected: int | None
    outlook_pct: float | None
    outlook_desc: str | None
    employment_change: int | None
    summary: str
    onet: tuple[tuple[str, str, str], ...]
    similar: tuple[str, ...]
    """Slugs of similar occupations (generated pages) or shown titles (real pages)."""
    accreditors: tuple[str, ...]
    raw_form: bool
    """Generated page without the DOM changes the BLS page's JavaScript makes."""

    @property
    def path(self) -> str:
        """URL path of the occupation page."""
        return f"/ooh/{self.group}/{self.slug}.htm"


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _text_or_none(text: str) -> str | None:
    text = (text or "").strip()
    return text or None


def _strip_tags(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@functools.cache
def real_page_facts(slug: str) -> dict[str, object]:
    """What a saved real OOH page prints: title, pay lines, percentiles, similar occupations, summary."""
    page = data_load.saved_ooh_page(slug)
    title = _strip_tags(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1))  # type: ignore[union-attr]
    qf = re.search(r'<table class="regular-text tooltips" id="quickfacts">(.*?)</table>', page, re.S)
    pay_cell = _strip_tags(re.findall(r"<td[^>]*>(.*?)</td>", qf.group(1), re.S)[0]) if qf else ""  # type: ignore[union-attr]
    tab5 = page[page.find('<div id="tab-5"'):page.find('<div id="tab-6"')]
    prose = _strip_tags(tab5)
    m = re.search(r"lowest 10 percent earned less than \$([\d,]+(?:\.\d+)?), and the highest 10 percent earned more than \$([\d,]+(?:\.\d+)?)", prose)
    p10 = p90 = None
    if m and "." not in m.group(1) and "." not in m.group(2):
        p10, p90 = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
    tab8 = page[page.find('<div id="tab-8"'):page.find('<div id="tab-9"')]
    similar = tuple(_strip_tags(s) for s in re.findall(r'<strong style="font-size:1.1em"><a [^>]*>(.*?)</a></strong>', tab8, re.S))
    desc = re.search(r'<meta name="description" content="([^"]*)"', page)
    return {
        "title": title,
        "per_year": "per year" in pay_cell,
        "per_hour": "per hour" in pay_cell,
        "p10": p10,
        "p90": p90,
        "similar": similar,
        "summary": " ".join(htmllib.unescape(desc.group(1)).split()) if desc else "",
        "date": re.search(r'<meta name="date" content="([^"]+)"', page).group(1),  # type: ignore[union-attr]
    }


@functools.cache
def _onet_index() -> tuple[dict[str, list[tuple[str, str, str]]], list[tuple[str, str, str]]]:
    by6: dict[str, list[tuple[str, str, str]]] = {}
    rows = list(data_load.onet_rows())
    for row in rows:
        by6.setdefault(row[0][:7], []).append(row)
    return by6, rows


def match_onet(soc: str | None, title: str) -> tuple[tuple[str, str, str], ...]:
    """O*NET rows for an occupation: same 6-digit SOC, else the crosswalk, broad group, or best title match."""
    by6, rows = _onet_index()
    if soc:
        code = SOC_CROSSWALK.get(soc, soc)
        if code in by6:
            return tuple(by6[code])
        if code.endswith("0"):
            broad = sorted(k for k in by6 if k.startswith(code[:6]))
            if broad:
                return tuple(r for k in broad for r in by6[k] if r[0].endswith(".00"))[:4]
    if title in TITLE_TO_SOC2010 and TITLE_TO_SOC2010[title] in by6:
        return tuple(by6[TITLE_TO_SOC2010[title]])
    from rapidfuzz import fuzz, process

    choices = {r[0]: r[1] for r in rows if r[0].endswith(".00")}
    best = process.extractOne(title, choices, scorer=fuzz.token_set_ratio)
    if best and best[1] >= 80:
        code = best[2]
        return tuple(r for r in rows if r[0] == code)
    return ()


def _summary_from_onet(csv_title: str, onet: tuple[tuple[str, str, str], ...]) -> str:
    if not onet:
        return f"{csv_title} perform specialized work in their field."
    first = onet[0][2].split(". ")[0].rstrip(".")
    if len(first) > 1 and not first[1].isupper():
        first = first[0].lower() + first[1:]
    return f"{csv_title} {first}."


def _percentiles(slug: str, annual: int) -> tuple[int | None, int | None]:
    if annual >= TOP_CODED_WAGE:
        return None, None  # BLS prints no percentiles for top-coded wages
    p10 = int(round(annual * (0.55 + 0.18 * frac("p10", slug)), -1))
    p90 = int(round(annual * (1.45 + 0.45 * frac("p90", slug)), -1))
    return p10, min(p90, TOP_CODED_WAGE)


@functools.cache
def occupations() -> tuple[Occupation, ...]:
    """All 342 occupations, in CSV order."""
    saved = data_load.saved_ooh_slugs()
    rows = data_load.ooh_rows()
    by_group: dict[str, list[str]] = {}
    for r in rows:
        by_group.setdefault(r["category"], []).append(r["slug"])
    out = []
    for r in rows:
        slug, group = r["slug"], r["category"]
        real = slug in saved
        soc = _text_or_none(r["soc_code"])
        annual = _int_or_none(r["median_pay_annual"])
        hourly = float(r["median_pay_hourly"]) if r["median_pay_hourly"].strip() else None
        onet = match_onet(soc, r["title"])
        if real:
            facts = real_page_facts(slug)
            title = str(facts["title"])
            annual = annual if facts["per_year"] else None
            hourly = hourly if facts["per_hour"] else None
            p10, p90 = facts["p10"], facts["p90"]
            similar: tuple[str, ...] = tuple(facts["similar"])  # type: ignore[arg-type]
            summary = str(facts["summary"])
            accreditors: tuple[str, ...] = ()
            raw_form = False
        else:
            title = title_case(r["title"])
            p10, p90 = _percentiles(slug, annual) if annual else (None, None)
            peers = [s for s in by_group[group] if s != slug]
            peers = sorted(peers, key=lambda s: h64("similar", slug, s))[: 3 + h64("nsim", slug) % 4]
            if len(peers) < 3:
                others = sorted((x["slug"] for x in rows if x["slug"] != slug and x["slug"] not in peers),
                                key=lambda s: h64("similar-x", slug, s))
                peers += others[: 3 - len(peers)]
            similar = tuple(sorted(peers, key=lambda s: next(x["title"] for x in rows if x["slug"] == s).lower()))
            summary = _summary_from_onet(r["title"], onet)
            accreditors = CAREER_ACCREDITORS.get(slug, ((), "", ""))[0]
            raw_form = h64("raw-form", slug) % 2 == 0
        out.append(Occupation(
            slug=slug, group=group, csv_title=r["title"], title=title, soc=soc, real=real,
            annual=annual, hourly=hourly, p10=p10, p90=p90,  # type: ignore[arg-type]
            entry_education=_text_or_none(r["entry_education"]),
            work_experience=_text_or_none(r["work_experience"]),
            training=_text_or_none(r["training"]),
            jobs=_int_or_none(r["num_jobs_2024"]),
            projected=_int_or_none(r["projected_employment_2034"]),
            outlook_pct=float(r["outlook_pct"]) if r["outlook_pct"].strip() else None,
            outlook_desc=_text_or_none(r["outlook_desc"]),
            employment_change=_int_or_none(r["employment_change"]),
            summary=summary, onet=onet, similar=similar, accreditors=accreditors, raw_form=raw_form,
        ))
    return tuple(out)


@functools.cache
def by_slug() -> dict[str, Occupation]:
    """Occupations keyed by slug."""
    return {o.slug: o for o in occupations()}


@functools.cache
def groups() -> tuple[str, ...]:
    """Group slugs in display order."""
    return tuple(sorted({o.group for o in occupations()}, key=lambda g: GROUP_NAMES[g]))


def scaled_pay(occ: Occupation, factor: float) -> tuple[int | None, float | None, int | None, int | None]:
    """Pay figures after a raise by factor (annual, hourly, p10, p90); hourly follows from annual."""
    if occ.annual is None:
        return None, None, None, None
    annual = int(round(occ.annual * factor, -1))
    hourly = round(annual / 2080, 2)
    if occ.p10 is None or occ.p90 is None or annual >= TOP_CODED_WAGE:
        return annual, hourly, None, None
    p10 = int(round(occ.p10 * factor, -1))
    p90 = min(int(round(occ.p90 * factor, -1)), TOP_CODED_WAGE)
    if p90 <= annual:
        return annual, hourly, p10, None
    return annual, hourly, p10, p90
