"""Spiders: navigation only (start URLs, pagination, detail links); extraction is in crawler/pages.

One spider per source, named ``<source>_<kind>`` (module ``<source>_<kind>.py``, class
``<Source><Kind>Spider``); ``SOURCE_SPIDERS`` maps each built-in source to its spider. User site
profiles (and the sample site's ``adversarial`` area) use ``generic.GenericSpider``.
"""

from __future__ import annotations

import importlib
from typing import Any

# source -> (module, class)
_SPIDERS: dict[str, tuple[str, str]] = {
    "bls_ooh": ("crawler.spiders.bls_ooh_careers", "BlsOohCareersSpider"),
    "collegenavigator": ("crawler.spiders.collegenavigator_institutions", "CollegenavigatorInstitutionsSpider"),
    "directory": ("crawler.spiders.directory_programs", "DirectoryProgramsSpider"),
    "reviews": ("crawler.spiders.reviews_schools", "ReviewsSchoolsSpider"),
}


class _SpiderMap(dict):  # type: ignore[type-arg]
    """Source name -> spider class, imported on first use (importing this package stays cheap)."""

    def __missing__(self, source: str) -> Any:
        if source not in _SPIDERS:
            raise KeyError(source)
        module, cls = _SPIDERS[source]
        value = getattr(importlib.import_module(module), cls)
        self[source] = value
        return value

    def get(self, source: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[source]
        except KeyError:
            return default


SOURCE_SPIDERS: dict[str, Any] = _SpiderMap()
