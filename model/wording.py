"""The words that name vocabulary values in text: degree levels, deliveries and accreditation statuses.

One set of tables and matchers for both sides: the crawler reads what pages print with them
(``crawler.processors``) and the index reads filter values and stored text with them
(``indexer.vocab``), so a crawled value and a search filter cannot disagree. The matchers take
text that is already clean (whitespace collapsed) and never raise.
"""

from __future__ import annotations

import re

from model.vocab import ACCREDITATION_STATUSES, DEGREE_LEVELS, DELIVERIES

__all__ = [
    "DEGREE_ABBREVIATIONS",
    "DEGREE_WORDS",
    "DELIVERY_WORDS",
    "STATUS_WORDS",
    "degree_level_in",
    "delivery_in",
    "status_in",
]

# --------------------------------------------------------------------------- degree levels

# Abbreviations as pages print them. In page text they match case-sensitively as whole words
# ("AS" is a degree, "as" is English); typed filters may use any case. Dotted forms ("A.A.S.") read
# like their plain forms.
DEGREE_ABBREVIATIONS: dict[str, str] = {
    **dict.fromkeys(["AA", "AS", "AAS", "AAA", "AOS", "AAB", "ADN", "ASN", "AAT", "AST"], "associate"),
    **dict.fromkeys(["BA", "BS", "BSc", "BSN", "BAS", "BBA", "BFA", "BSW", "BArch", "BAAS", "BSBA", "BSHIM",
                     "BSHI", "BSHA"], "bachelor"),
    **dict.fromkeys(["MA", "MS", "MSc", "MSN", "MBA", "MPH", "MHA", "MFA", "MSW", "MEd", "MArch", "MLIS", "MLS",
                     "MPA", "MHI", "MSHI", "MHIM", "MSHIM", "MAT", "MPAS", "MOT", "LLM"], "master"),
    **dict.fromkeys(["PhD", "DPT", "DDS", "DMD", "JD", "MD", "PharmD", "EdD", "DNP", "PsyD", "DVM",
                     "OTD", "DrPH", "DHA", "DBA", "AuD", "DO", "OD"], "doctoral"),
}

# Single words naming a level (lower case). The patterns below read most of them in running text;
# the others ("cert", "award") count only when nothing else in the text names a level.
DEGREE_WORDS: dict[str, str] = {
    **dict.fromkeys(["certificate", "certificates", "cert", "certs", "diploma", "diplomas", "postsecondary",
                     "nondegree", "non-degree", "award"], "certificate"),
    **dict.fromkeys(["associate", "associates", "associate's"], "associate"),
    **dict.fromkeys(["bachelor", "bachelors", "bachelor's", "baccalaureate"], "bachelor"),
    **dict.fromkeys(["master", "masters", "master's"], "master"),
    **dict.fromkeys(["doctoral", "doctorate", "doctor"], "doctoral"),
}
assert set(DEGREE_ABBREVIATIONS.values()) | set(DEGREE_WORDS.values()) <= set(DEGREE_LEVELS)

_LEVEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "Postbaccalaureate certificate" and "Post-master's certificate" are certificates.
    ("certificate", re.compile(r"\b(certificates?|(?<!high school )diplomas?|nondegree|non-degree|"
                               r"postsecondary award|award of less than)\b", re.I)),
    ("doctoral", re.compile(r"\b(doctor\w*|ph\.\s?d\.?|professional practice|first[- ]professional)", re.I)),
    ("master", re.compile(r"\b(master\w*|graduate degree)", re.I)),
    ("bachelor", re.compile(r"\b(bachelor\w*|baccalaureate|undergraduate degree|4[- ]year degree)", re.I)),
    ("associate", re.compile(r"\b(associate\w*|2[- ]year degree|two[- ]year degree)", re.I)),
)
_ABBREVIATION_ALT = "|".join(sorted((re.escape(a) for a in DEGREE_ABBREVIATIONS), key=len, reverse=True))
_ABBREVIATION_RE = re.compile(rf"(?<![A-Za-z])({_ABBREVIATION_ALT})(?![A-Za-z])")
_ABBREVIATION_ANY_CASE_RE = re.compile(rf"(?<![A-Za-z])({_ABBREVIATION_ALT})(?![A-Za-z])", re.I)
_ABBREVIATION_FOLDED = {a.lower(): level for a, level in DEGREE_ABBREVIATIONS.items()}
_DOTTED_RE = re.compile(r"(?<![A-Za-z])((?:[A-Za-z]\.)+[A-Za-z])\.?(?![A-Za-z])")
_WORD_RE = re.compile(r"[a-z][a-z']*")
# Words the patterns do not read ("cert", "award"): weak evidence, used only when nothing else names a level.
_WEAK_WORDS = {w: level for w, level in DEGREE_WORDS.items() if not any(p.search(w) for _, p in _LEVEL_PATTERNS)}


def degree_level_in(text: str | None, *, any_case: bool = False) -> str | None:
    """The degree level a text names: certificate | associate | bachelor | master | doctoral, or None.

    A certificate ("Post-master's certificate") names the award, another level word its entry
    level, so a certificate word wins; otherwise the first word or abbreviation does.
    ``any_case`` lets abbreviations match in any case (typed filters: "bs"); page text keeps
    their case ("as well as" is not a degree).
    """
    if not text:
        return None
    lowered = text.lower()
    if lowered in DEGREE_LEVELS:
        return lowered
    # Dotted abbreviations ("A.A.S.", "B.S") read like their plain forms.
    undotted = _DOTTED_RE.sub(lambda m: m.group(1).replace(".", ""), text)
    hits: list[tuple[int, str]] = []
    for level, pattern in _LEVEL_PATTERNS:
        match = pattern.search(undotted)
        if match:
            hits.append((match.start(), level))
    if any(level == "certificate" for _, level in hits):
        return "certificate"
    abbreviations = _ABBREVIATION_ANY_CASE_RE if any_case else _ABBREVIATION_RE
    for match in abbreviations.finditer(undotted):
        found = DEGREE_ABBREVIATIONS.get(match.group(1)) or _ABBREVIATION_FOLDED[match.group(1).lower()]
        hits.append((match.start(), found))
    if hits:
        return min(hits)[1]
    for word in _WORD_RE.findall(undotted.lower()):
        if word in _WEAK_WORDS:
            return _WEAK_WORDS[word]
    return None


# --------------------------------------------------------------------------- deliveries

# Words naming a delivery, in the order they are tried: hybrid words first ("partially online" is
# hybrid, not online), then online, then campus. A space or hyphen in a word matches either.
DELIVERY_WORDS: dict[str, str] = {
    **dict.fromkeys(["hybrid", "blended", "partially online", "partly online", "some online", "low-residency"],
                    "hybrid"),
    **dict.fromkeys(["online", "on-line", "fully online", "distance", "remote", "web-based", "virtual", "e-learning",
                     "elearning"], "online"),
    **dict.fromkeys(["campus", "on-site", "onsite", "in-person", "inperson", "face-to-face", "classroom",
                     "residential", "traditional", "on-ground"], "campus"),
}
assert set(DELIVERY_WORDS.values()) <= set(DELIVERIES)

# "Online and on campus", "campus/online": both ways at once.
_BOTH_WAYS = r"online\s*(and|&|/|or|\+)\s*(on[- ])?campus|(on[- ])?campus\s*(and|&|/|or|\+)\s*online"


def _delivery_pattern(delivery: str) -> re.Pattern[str]:
    words = [re.sub(r"[ -]", "[- ]", re.escape(w).replace(r"\-", "-").replace(r"\ ", " "))
             for w, d in DELIVERY_WORDS.items() if d == delivery]
    if delivery == "hybrid":
        words.append(_BOTH_WAYS)
    return re.compile(r"\b(" + "|".join(words) + r")\b", re.I)


_DELIVERY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (delivery, _delivery_pattern(delivery)) for delivery in dict.fromkeys(DELIVERY_WORDS.values())
)


def delivery_in(text: str | None) -> str | None:
    """The delivery a text names: online | campus | hybrid ("100% online", "blended"), or None."""
    if not text:
        return None
    if text.lower() in DELIVERIES:
        return text.lower()
    for delivery, pattern in _DELIVERY_PATTERNS:
        if pattern.search(text):
            return delivery
    return None


# --------------------------------------------------------------------------- accreditation statuses

# Most specific first: "Accreditation Reaffirmed: Probation Removed" is accredited, not probation.
_STATUS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("accredited", re.compile(r"\b(probation|warning|show cause|monitoring)\s+(status\s+)?removed\b|"
                              r"removal of (show cause|monitoring)|reaffirmed|reinstated", re.I)),
    ("no_longer_recognized", re.compile(r"no\s+longer\s+recognized", re.I)),
    ("closed", re.compile(r"\b(closed|closure|closing|ceased operations?)\b", re.I)),
    ("withdrawn", re.compile(r"\b(withdrawn|withdrawal|withdrew|terminat\w*|revoked|revocation|loss of accreditation|"
                             r"lapsed?|inactive|discontinued|resigned|not accredited)\b", re.I)),
    ("show_cause", re.compile(r"\bshow[\s_-]*cause\b", re.I)),
    ("probation", re.compile(r"\bprobation(ary)?\b", re.I)),
    ("warning", re.compile(r"\bwarning\b", re.I)),
    ("monitoring", re.compile(r"\b(monitoring|focused review)\b", re.I)),
    ("candidate", re.compile(r"\bcandida(te|cy)\b", re.I)),
    ("preaccredited", re.compile(r"\bpre[\s-]?accredit\w*|\binitial accreditation\b|\bprovisional\w*", re.I)),
    ("accredited", re.compile(r"\baccredit\w*|\brenewal\b|\bapproved\b|\bfull\b", re.I)),
)
assert all(status in ACCREDITATION_STATUSES for status, _ in _STATUS_PATTERNS)

# Words and phrases naming a status (lower case); the patterns above read every one of them.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(["accredited", "accreditation", "reaffirmed", "reinstated", "full", "renewal", "approved",
                     "probation removed"], "accredited"),
    **dict.fromkeys(["preaccredited", "pre-accredited", "preaccreditation", "initial accreditation",
                     "provisional"], "preaccredited"),
    **dict.fromkeys(["candidate", "candidacy"], "candidate"),
    **dict.fromkeys(["probation", "probationary"], "probation"),
    "warning": "warning",
    **dict.fromkeys(["show cause", "show_cause"], "show_cause"),
    **dict.fromkeys(["monitoring", "focused review"], "monitoring"),
    **dict.fromkeys(["withdrawn", "withdrawal", "withdrew", "revoked", "revocation", "terminated", "inactive",
                     "lapsed", "discontinued", "resigned", "not accredited", "loss of accreditation"], "withdrawn"),
    **dict.fromkeys(["closed", "closure", "ceased operations"], "closed"),
    **dict.fromkeys(["no longer recognized", "no_longer_recognized"], "no_longer_recognized"),
}
assert set(STATUS_WORDS.values()) <= set(ACCREDITATION_STATUSES)


def status_in(text: str | None) -> str | None:
    """The accreditation status a text names ("Probation since ...", "Voluntary Withdrawal"), or None."""
    if not text:
        return None
    # Underscores read as spaces, so the stored form ("no_longer_recognized") reads as itself.
    spaced = text.replace("_", " ")
    for status, pattern in _STATUS_PATTERNS:
        if pattern.search(spaced):
            return status
    return None
