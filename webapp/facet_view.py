"""The results page's filter sidebar: each facet's values as links, a long facet folded to its top values.

The page shows what ``SearchResult.facets`` holds (the JSON API returns the same values unfolded);
this module only decides the order, the fold and the links, once per page in Python rather than
once per value in the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from indexer.results import FacetValue
from webapp.templating import FACET_LABELS, FilterToggles, facet_value_label

FOLD_AFTER = 10
"""A facet with more values than this is long: it shows its top values and folds the rest behind "more"."""
TOP_VALUES = 8
"""How many values (by count) a long facet shows before "more"; a selected value is shown as well."""

# What the "Show N more ..." control calls a facet's values.
VALUE_NOUNS: dict[str, str] = {
    "state": "states",
    "degree_level": "degree levels",
    "accreditor": "accreditors",
    "accreditation_status": "statuses",
    "delivery": "delivery modes",
    "rating": "ratings",
}


@dataclass(slots=True)
class FacetLink:
    """One facet value as the sidebar shows it: a link that switches the filter on or off."""

    value: str
    label: str
    count: int
    selected: bool
    href: str


@dataclass(slots=True)
class FacetGroup:
    """One facet of the sidebar: the values always shown, and those folded behind "more"."""

    name: str
    title: str
    shown: list[FacetLink]
    folded: list[FacetLink]
    noun: str

    @property
    def more_label(self) -> str:
        """The folded values' control, e.g. "Show 46 more states"."""
        return f"Show {len(self.folded)} more {self.noun}"

    @property
    def fewer_label(self) -> str:
        """The control once unfolded."""
        return f"Show fewer {self.noun}"


def fold(values: list[FacetValue], fold_after: int = FOLD_AFTER, top: int = TOP_VALUES
         ) -> tuple[list[FacetValue], list[FacetValue]]:
    """(shown, folded): all values when there are few; else the first ``top`` plus every selected one.

    ``values`` come ordered by count (``indexer.facets``), so the first ones are the top values; both
    lists keep that order.
    """
    if len(values) <= fold_after:
        return values, []
    shown = [v for i, v in enumerate(values) if i < top or v.selected]
    folded = [v for i, v in enumerate(values) if i >= top and not v.selected]
    return shown, folded


def facet_groups(facets: Mapping[str, list[FacetValue]], names: Iterable[str], toggles: FilterToggles,
                 ) -> list[FacetGroup]:
    """The sidebar's facets in ``names`` order, skipping ``kind`` (the result tabs) and facets without values."""
    groups = []
    for name in names:
        values = facets.get(name) or []
        if name == "kind" or not values:
            continue
        shown, folded = fold(values)
        groups.append(FacetGroup(
            name=name, title=FACET_LABELS.get(name, name), shown=_links(name, shown, toggles),
            folded=_links(name, folded, toggles), noun=VALUE_NOUNS.get(name, "values"),
        ))
    return groups


def _links(name: str, values: list[FacetValue], toggles: FilterToggles) -> list[FacetLink]:
    return [FacetLink(value=v.value, label=facet_value_label(name, v.value, v.label), count=v.count,
                      selected=v.selected, href=toggles.url(name, v.value)) for v in values]
