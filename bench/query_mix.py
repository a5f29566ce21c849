"""The replayed query mix of the serving benchmark, kept apart from the locustfile.

Importing ``locust`` monkey-patches the process with gevent (which then reaps child processes
itself), so the benchmark process reads the mix from here and only locust's own process imports
``bench.locustfile``.
"""

from __future__ import annotations

from typing import Any

# (what it stands for, query parameters); the same list the serving benchmark checks answers 200
SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("career", {"q": "x-ray tech"}),
    ("career", {"q": "medical records specialist"}),
    ("career", {"q": "software developers salary"}),
    ("career", {"q": "registered nurse"}),
    ("career", {"q": "what does a dental hygienist do"}),
    ("program + place", {"q": "associate radiography Georgia"}),
    ("program + place", {"q": "health information technology Ohio"}),
    ("program + place", {"q": "nursing programs in Texas"}),
    ("program + place", {"q": "online dietetics programs"}),
    ("filters", {"q": "nursing", "kind": "program", "state": "CA"}),
    ("filters", {"q": "state:OH degree:associate nursing"}),
    ("filters", {"kind": "program", "accreditor": "CAHIIM"}),
    ("filters", {"kind": "institution", "state": "NY"}),
    ("filters", {"q": "accreditor:CAHIIM online:yes"}),
    ("filters", {"q": "physical therapy", "degree_level": "doctoral", "sort": "name"}),
    ("typo", {"q": "radiolgy technologist"}),
    ("typo", {"q": "medical asistant"}),
    ("typo", {"q": "nursng"}),
    ("typo", {"q": "univercity of michigan"}),
    ("near me", {"q": "nursing", "near": "30303"}),
    ("near me", {"q": "community college", "near": "Columbus, OH"}),
    ("near me", {"q": "dental hygiene", "near": "10001", "radius": "50"}),
    ("reviews", {"q": "helpful financial aid office"}),
    ("reviews", {"q": "professors really care", "kind": "review"}),
    ("reviews", {"q": "parking", "kind": "review", "rating": "4"}),
    ("reviews", {"q": "online classes military", "kind": "review", "sort": "rating"}),
    ("paging", {"q": "nursing", "page": "2"}),
    ("paging", {"q": "university", "page": "3"}),
]
STATIC = "/static/css/app.css"
