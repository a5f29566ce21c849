"""The judged query set over the sample site's ground truth (epoch 1).

Each judgment says what must rank in the top 3 and in the top 10 (see ``metrics.py``): a document
id, or a predicate on the hit's fields when any of several records will do ("three associate
radiography programs in Georgia"). Careers without a SOC code on their page are named by title,
because their id is a hash of the page URL. Every judgment is ``distinct`` by default: its top 10
must show each program once, however many sources list it (the "one hit per program" queries are
the ones where College Navigator and the CAHIIM directory list the very same programs).
"""

from __future__ import annotations

from tests.relevance.metrics import Judgment


def career(title: str) -> dict[str, str]:
    """A career named by its title."""
    return {"kind": "career", "title": title}


def programs(**fields: object) -> dict[str, object]:
    """Any program with these fields."""
    return {"kind": "program", **fields}


def reviews(**fields: object) -> dict[str, object]:
    """Any review with these fields."""
    return {"kind": "review", **fields}


RADIOLOGIC = career("Radiologic and MRI Technologists")
POLICE = career("Police and Detectives")
SOFTWARE = career("Software Developers, Quality Assurance Analysts, and Testers")
NURSING_ASSISTANTS = career("Nursing Assistants and Orderlies")
ADVANCED_NURSES = career("Nurse Anesthetists, Nurse Midwives, and Nurse Practitioners")

MEDICAL_ASSISTANTS = "career:31-9092"
SURGICAL = career("Surgical Assistants and Technologists")


def institutions(text: str) -> dict[str, str]:
    """Any institution whose name holds this text ("University of Texas")."""
    return {"kind": "institution", "text": text}


J = Judgment


def M(q: str, category: str, **kwargs: object) -> Judgment:
    """A measured judgment (issue 17): scored for nDCG@10 and MRR, must-pass once the tuning makes it pass."""
    return Judgment(q, category, must_pass=False, **kwargs)  # type: ignore[arg-type]


JUDGMENTS: list[Judgment] = [
    # -- career titles -------------------------------------------------------------------------------
    J("registered nurses", "career title", top3=("career:29-1141",)),
    J("pharmacists", "career title", top3=("career:29-1051",)),
    J("software developers", "career title", top3=(SOFTWARE,)),
    J("electricians", "career title", top3=("career:47-2111",)),
    J("lawyers", "career title", top3=("career:23-1011",)),
    J("medical records specialists", "career title", top3=("career:29-2072",)),
    J("dental hygienist", "career title", top3=("career:29-1292",)),
    J("physical therapist", "career title", top3=("career:29-1123",)),
    J("respiratory therapists", "career title", top3=("career:29-1126",)),
    J("chefs and head cooks", "career title", top3=("career:35-1011",)),
    J("police officer", "career title", top3=(POLICE,)),
    J("medical and health services managers", "career title", top3=("career:11-9111",)),
    # -- the job titles people use -----------------------------------------------------------------------
    J("x-ray tech", "job title", top3=(RADIOLOGIC,), note="A-Z alias 'X-Ray Technician' + synonyms"),
    J("cop", "job title", top3=(POLICE,)),
    J("CPA", "job title", top3=("career:13-2011",)),
    J("bookkeeper", "job title", top3=("career:43-3031",)),
    J("masseuse", "job title", top3=("career:31-9011",)),
    J("physiotherapist", "job title", top3=("career:29-1123",)),
    J("attorney", "job title", top3=("career:23-1011",)),
    J("truck driver", "job title", top3=("career:53-3032",)),
    J("pharmacy tech", "job title", top3=("career:29-2052",)),
    J("vet tech", "job title", top3=("career:29-2056",)),
    J("medical coder", "job title", top3=("career:29-2072",)),
    J("sonographer", "job title", top3=("career:29-2032",)),
    J("nurse practitioner", "job title", top3=(ADVANCED_NURSES,)),
    J("certified nursing assistant", "job title", top3=(NURSING_ASSISTANTS,)),
    # -- abbreviations ---------------------------------------------------------------------------------
    J("LPN", "abbreviation", top3=("career:29-2061",), top10=(programs(field_of_study="Practical Nursing"),)),
    J("RN", "abbreviation", top3=("career:29-1141",)),
    J("OT", "abbreviation", top3=("career:29-1122",)),
    J("RDH", "abbreviation", top3=("career:29-1292",)),
    J("CNA", "abbreviation", top3=(NURSING_ASSISTANTS,)),
    J("HIT programs", "abbreviation",
      top3=(programs(field_of_study="Health Information Technology"),) * 3),
    J("RHIA", "abbreviation", top3=(programs(field_of_study="Health Information Management"),) * 2),
    J("BSN", "abbreviation", top3=(programs(field_of_study="Nursing", degree_level="bachelor"),) * 3),
    J("ADN Ohio", "abbreviation",
      top3=(programs(field_of_study="Nursing", degree_level="associate", state="OH"),) * 3),
    J("AAS radiography", "abbreviation",
      top3=(programs(field_of_study="Radiography", degree_level="associate"),) * 3),
    # -- typos ------------------------------------------------------------------------------------------
    J("radiolgy", "typo", top3=(RADIOLOGIC,)),
    J("pharmasist", "typo", top3=("career:29-1051",)),
    J("nursng programs", "typo", top3=(programs(field_of_study=("Nursing", "Practical Nursing")),) * 2),
    J("dietitan", "typo", top3=("career:29-1031",)),
    J("sofware developer", "typo", top3=(SOFTWARE,)),
    J("dentel hygienist", "typo", top3=("career:29-1292",)),
    J("accountent", "typo", top3=("career:13-2011",)),
    J("Massachusets Institute of Technology", "typo", top3=("institution:166683",)),
    # -- institutions and their aliases --------------------------------------------------------------
    J("UCLA", "institution alias", top3=("institution:110662",)),
    J("MIT", "institution alias", top3=("institution:166683",)),
    J("Georgia Tech", "institution alias", top3=("institution:139755",)),
    J("UT Austin", "institution alias", top3=("institution:228778",)),
    J("UPenn", "institution alias", top3=("institution:215062",)),
    J("LSU", "institution alias", top3=("institution:159391",)),
    J("Forsyth Tech", "institution alias", top3=("institution:198552",)),
    J("University of Georgia", "institution name", top3=("institution:139959",)),
    J("Ohio State University", "institution name", top3=("institution:204796",)),
    J("UCLA nursing", "institution alias", top3=(programs(institution_unitid="110662", field_of_study="Nursing"),)),
    # -- program + place ------------------------------------------------------------------------------
    J("associate radiography Georgia", "program + place",
      top3=(programs(field_of_study="Radiography", degree_level="associate", state="GA"),) * 3),
    J("online dietetics programs", "program + place",
      top3=(programs(field_of_study="Dietetics", delivery="online"),) * 3),
    J("nursing programs in Ohio", "program + place",
      top3=(programs(field_of_study="Nursing", state="OH"),) * 3),
    J("dental hygiene California", "program + place",
      top3=(programs(field_of_study="Dental Hygiene", state="CA"),) * 3),
    J("health information technology Texas online", "program + place",
      top3=(programs(field_of_study="Health Information Technology", state="TX", delivery="online"),),
      note="one online HIT program in Texas: the CAHIIM directory and College Navigator list the same one"),
    J("doctor of physical therapy New York", "program + place",
      top3=(programs(field_of_study="Physical Therapy", state="NY"),) * 3),
    J("pharmacy school Florida", "program + place", top3=(programs(field_of_study="Pharmacy", state="FL"),)),
    J("medical assisting Georgia", "program + place",
      top3=(programs(field_of_study="Medical Assisting", state="GA"),) * 2),
    # -- filters (typed and as parameters) ----------------------------------------------------------
    J("nursing state:OH degree:associate", "filter",
      top3=(programs(field_of_study="Nursing", degree_level="associate", state="OH"),) * 3),
    J("accreditor:CAHIIM state:GA", "filter", top3=(programs(accreditor="CAHIIM", state="GA"),) * 3),
    J("dietetics online:yes kind:program", "filter", top3=(programs(field_of_study="Dietetics", delivery="online"),) * 3),
    J("professors rating:>=4 kind:review", "filter", top3=(reviews(category="Professors"),) * 3),
    J("military:yes kind:institution state:TX", "filter",
      top3=({"kind": "institution", "state": "TX", "military_friendly": True},) * 3),
    J("health information", "filter", filters={"kind": "program", "state": "CA"},
      top3=(programs(state="CA", accreditor="CAHIIM"),) * 3),
    J("radiography", "filter", filters={"degree_level": "bachelor"},
      top3=(programs(field_of_study="Radiography", degree_level="bachelor"),)),
    J("", "filter", filters={"kind": "career"}, top10=(career("Accountants and Auditors"),),
      note="browsing careers A-Z"),
    # -- accreditation status --------------------------------------------------------------------------
    J("radiography probation", "accreditation status",
      top3=(programs(field_of_study="Radiography", accreditation_status="probation"),) * 3),
    J("nursing status:withdrawn", "accreditation status",
      top3=(programs(field_of_study="Nursing", accreditation_status="withdrawn"),) * 2),
    J("CAHIIM candidate", "accreditation status", top3=(programs(accreditor="CAHIIM", accreditation_status="candidate"),)),
    J("dental", "accreditation status", filters={"accreditation_status": "show_cause"},
      top3=(programs(accreditation_status="show_cause"),)),
    # -- reviews ------------------------------------------------------------------------------------------
    J("helpful financial aid office", "review",
      top3=(reviews(category="Financial Aid", text="financial aid office was helpful"),) * 3),
    J("professors hold office hours", "review", top3=(reviews(text="office hours"),) * 3),
    J("graduated with very little debt", "review", top3=(reviews(text="very little debt"),) * 3),
    J("parking is expensive", "review", top3=(reviews(text="parking is expensive"),) * 3),
    J("support for military veterans", "review", top3=(reviews(category="Military & Veterans"),) * 2),
    J("tutoring center helped me pass", "review", top3=(reviews(text="tutoring center"),) * 3),
    # -- near me ----------------------------------------------------------------------------------------------
    J("nursing", "near me", filters={"kind": "program"}, near="30303", radius=25,
      top3=(programs(field_of_study="Nursing", state="GA"),) * 3),
    J("radiography", "near me", near="Columbus, OH", radius=100,
      top3=(programs(field_of_study="Radiography", state="OH"),) * 2, note="the nearest are 62 and 66 miles away"),
    # -- one hit per program: College Navigator and the CAHIIM directory list every CAHIIM program ---------
    J("state:OH degree:associate health information", "one hit per program",
      top3=(programs(accreditor="CAHIIM", state="OH", degree_level="associate",
                     field_of_study="Health Information Technology"),) * 3,
      note="Ohio has three associate HIT programs; before fusion each came back twice"),
    J("health information", "one hit per program", filters={"state": "OH", "degree_level": "associate"},
      top3=(programs(accreditor="CAHIIM", state="OH", degree_level="associate"),) * 3),
    J("CAHIIM", "one hit per program", filters={"state": "OH"},
      top3=(programs(accreditor="CAHIIM", state="OH"),) * 3, top10=(programs(accreditor="CAHIIM", state="OH"),) * 3,
      note="all six CAHIIM programs in Ohio (3 associate, 1 bachelor, 2 master), each once"),
    J("health information management", "one hit per program", filters={"degree_level": "bachelor", "state": "CA"},
      top3=(programs(accreditor="CAHIIM", field_of_study="Health Information Management", degree_level="bachelor"),) * 3,
      top10=(programs(accreditor="CAHIIM", field_of_study="Health Information Management", degree_level="bachelor"),) * 3,
      note="California's six bachelor's HIM programs, each once (nationwide, College Navigator's rows fill the top 10"
           " and the directory's copies rank below it, so only a narrower search shows both)"),
    J("health informatics", "one hit per program", filters={"degree_level": "master"},
      top3=(programs(accreditor="CAHIIM", field_of_study="Health Informatics", degree_level="master"),) * 3,
      top10=(programs(accreditor="CAHIIM", field_of_study="Health Informatics", degree_level="master"),) * 5,
      note="eight master's programs in health informatics, each once"),
    J("Cuyahoga Community College health information technology", "one hit per program",
      top3=(programs(institution_unitid="202356", accreditor="CAHIIM", field_of_study="Health Information Technology"),),
      note="the directory calls the school 'The Cuyahoga Community College District'"),
    J("Owens Community College health information technology", "one hit per program",
      top3=(programs(institution_unitid="204945", accreditor="CAHIIM", field_of_study="Health Information Technology"),
            "institution:204945")),
    J("University of Cincinnati Clermont health information management", "one hit per program",
      top3=(programs(institution_unitid="201946", degree_level="bachelor", field_of_study="Health Information Management"),
            "institution:201946")),
    J("Kent State health informatics", "one hit per program",
      top3=(programs(institution_unitid="203517", degree_level="master", field_of_study="Health Informatics"),)),
    # -- careers by what people ask --------------------------------------------------------------------------
    J("how to become a dental hygienist", "question", top3=("career:29-1292",)),
    J("medical records jobs", "question", top3=("career:29-2072",)),
    J("registered nurse", "question", top3=("career:29-1141",),
      top10=(programs(field_of_study="Nursing"),)),
]

# -- issue 17: written before tuning, from what a student typing the query expects ----------------------------
# Names are checked against the sample site's schools (IPEDS names); they are measured (M) until tuned.
JUDGMENTS += [
    # -- names with and without "The" -------------------------------------------------------------------------
    J("The University of Texas at Austin", "name with or without The", top3=("institution:228778",)),
    J("University of Texas at Austin", "name with or without The", top3=("institution:228778",)),
    J("University of Texas at Dallas", "name with or without The", top3=("institution:228787",)),
    J("The University of Alabama", "name with or without The", top3=("institution:100751",)),
    J("University of Alabama", "name with or without The", top3=("institution:100751",)),
    J("The Ohio State University", "name with or without The", top3=("institution:204796",)),
    J("University of Texas El Paso", "name with or without The", top3=("institution:228796",)),
    # -- a system's name finds its campuses; a campus name finds that campus ----------------------------------
    J("University of Texas", "system vs campus", top3=(institutions("University of Texas"),) * 3),
    J("University of Michigan", "system vs campus",
      top3=("institution:170976", "institution:171137", "institution:171146"),
      note="Ann Arbor first, then Dearborn and Flint"),
    J("University of Michigan Flint", "system vs campus", top3=("institution:171146",)),
    J("University of Cincinnati", "system vs campus", top3=("institution:201885",),
      top10=("institution:201946", "institution:201955")),
    J("Ohio State University Newark", "system vs campus", top3=("institution:204705",)),
    J("University of California Berkeley", "system vs campus", top3=("institution:110635",)),
    J("University of North Carolina at Chapel Hill", "system vs campus", top3=("institution:199120",)),
    J("Indiana University Bloomington", "system vs campus", top3=("institution:151351",)),
    J("University of California", "system vs campus", top3=(institutions("University of California-"),) * 3),
    # -- a brand covering several campuses: the flagship first --------------------------------------------------
    J("Purdue", "brand name", top3=("institution:243780",), top10=(institutions("Purdue University"),) * 3),
    J("Purdue University", "brand name", top3=("institution:243780",)),
    J("Rutgers", "brand name", top3=("institution:186380", "institution:186371", "institution:186399")),
    J("Penn State", "brand name", top3=("institution:214777",)),
    J("Ohio State", "brand name", top3=("institution:204796",)),
    J("University of Washington", "brand name", top3=("institution:236948",)),
    # -- career titles, singular/plural and assistant/assisting -------------------------------------------------
    J("medical assistant", "career title variant", top3=(MEDICAL_ASSISTANTS,),
      top10=(programs(field_of_study="Medical Assisting"),)),
    J("medical assistants", "career title variant", top3=(MEDICAL_ASSISTANTS,)),
    J("medical assisting", "career title variant", top3=(MEDICAL_ASSISTANTS, programs(field_of_study="Medical Assisting"))),
    J("dental assistant", "career title variant", top3=("career:31-9091",),
      top10=(programs(field_of_study="Dental Assisting"),)),
    J("dental assisting", "career title variant", top3=("career:31-9091", programs(field_of_study="Dental Assisting"))),
    J("pharmacy technician", "career title variant", top3=("career:29-2052",)),
    J("surgical technologist", "career title variant", top3=(SURGICAL,)),
    J("physical therapist assistant", "career title variant", top3=("career:31-2020",)),
    J("occupational therapy assistant", "career title variant", top3=("career:31-2010",)),
    J("massage therapist", "career title variant", top3=("career:31-9011",)),
    J("veterinary technician", "career title variant", top3=("career:29-2056",)),
    J("paralegal", "career title variant", top3=("career:23-2011",)),
    J("nursing assistant", "career title variant", top3=(NURSING_ASSISTANTS,)),
    J("physician assistant", "career title variant", top3=("career:29-1071",)),
    # -- a field and a state in plain words -------------------------------------------------------------------
    J("nursing georgia", "field + state", top3=(programs(field_of_study="Nursing", state="GA"),) * 3),
    J("nursing ga", "field + state", top3=(programs(field_of_study="Nursing", state="GA"),) * 3),
    J("dental hygiene texas", "field + state", top3=(programs(field_of_study="Dental Hygiene", state="TX"),) * 3),
    J("radiography north carolina", "field + state", top3=(programs(field_of_study="Radiography", state="NC"),) * 3),
    M("physical therapy michigan", "field + state", top3=(programs(field_of_study="Physical Therapy", state="MI"),) * 3),
    J("dental assisting in illinois", "field + state",
      top3=(programs(field_of_study="Dental Assisting", state="IL"),) * 3),
    J("occupational therapy pennsylvania", "field + state",
      top3=(programs(field_of_study="Occupational Therapy", state="PA"),) * 3),
    J("medical assistant florida", "field + state", top3=(programs(field_of_study="Medical Assisting", state="FL"),) * 3),
    # -- a field and a city (with its state) --------------------------------------------------------------------
    J("nursing Atlanta GA", "field + city", top3=(programs(field_of_study="Nursing", state="GA", city="Atlanta"),) * 3),
    J("nursing in Chicago, Illinois", "field + city",
      top3=(programs(field_of_study="Nursing", state="IL", city="Chicago"),) * 3),
    J("nursing Houston Texas", "field + city", top3=(programs(field_of_study="Nursing", state="TX", city="Houston"),) * 3),
    J("nursing San Diego CA", "field + city",
      top3=(programs(field_of_study="Nursing", state="CA", city="San Diego"),) * 3),
    # -- a state's name inside a school's name stays a name -----------------------------------------------------
    J("Georgia State University", "place word in a name", top3=("institution:139940",)),
    J("Texas State University", "place word in a name", top3=("institution:228459",)),
    J("georgia tech", "place word in a name", top3=("institution:139755",)),
    J("University of Georgia nursing", "place word in a name",
      top3=(programs(institution_unitid="139959", field_of_study="Nursing"),)),
]
