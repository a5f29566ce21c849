"""Judged queries and their scoring: must-have slots, nDCG@10 and MRR.

A judgment names what must rank in the top 3 and the top 10. Each target is a *slot*: a document
id (``"career:29-2034"``) or a predicate on the hit (``{"kind": "program", "state": "GA"}``), and a
slot is filled by the first hit that satisfies it. Top-3 slots have grade 2, top-10 slots grade 1;
nDCG@10 compares the gains at the ranks where slots were filled with the ideal order, and MRR is
the reciprocal rank of the first hit that fills any slot.

A judgment is also ``distinct`` (the default): its top 10 must show each program once. Two hits
are one program when they name the same institution, accreditor, credential level and field of
study, and one source record when they carry the same document id or the same source's program
id; every such pair is a failure, reported with both ids (``duplicate_hits``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Target = str | Mapping[str, Any]


@dataclass(frozen=True)
class Judgment:
    """One judged query."""

    q: str
    category: str
    top3: tuple[Target, ...] = ()
    top10: tuple[Target, ...] = ()
    filters: Mapping[str, Any] = field(default_factory=dict)
    near: str | None = None
    radius: float | None = None
    note: str = ""
    distinct: bool = True
    """The top 10 must not show one program (or one source record) twice."""
    must_pass: bool = True
    """The suite fails when this judgment does; a measured judgment (False) is only scored (nDCG@10, MRR)."""

    @property
    def label(self) -> str:
        """A readable id for test names and tables."""
        parts = [self.q or "(no words)"]
        if self.filters:
            parts.append(" ".join(f"{k}={v}" for k, v in self.filters.items()))
        if self.near:
            parts.append(f"near {self.near}")
        return " | ".join(parts)


@dataclass(frozen=True)
class Duplicate:
    """Two hits of one ranking that are the same thing."""

    first: str
    second: str
    reason: str
    """``same source record`` or ``same program``, with the key they share."""

    def __str__(self) -> str:
        return f"{self.first} and {self.second} ({self.reason})"


@dataclass
class Outcome:
    """How one ranking did on one judgment."""

    judgment: Judgment
    ranked: list[str]
    top3_missing: list[Target]
    top10_missing: list[Target]
    ndcg: float
    rr: float
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every slot was filled in time and no program was shown twice."""
        return not self.top3_missing and not self.top10_missing and not self.duplicates


def _norm(value: Any) -> str:
    return " ".join(str(value or "").casefold().split())


def _record_keys(hit: Any) -> list[tuple[str, ...]]:
    """What names the source record behind a hit: its document id, and a program's (source, program id)."""
    keys: list[tuple[str, ...]] = [("id", str(hit.id))]
    fields = hit.fields or {}
    if hit.kind == "program" and fields.get("program_id"):
        keys.append(("program_id", _norm(fields.get("source")), _norm(fields["program_id"])))
    return keys


def program_key(hit: Any) -> tuple[str, str, str, str] | None:
    """Institution, accreditor, credential level and field of a program hit (None when it cannot say)."""
    if hit.kind != "program":
        return None
    fields = hit.fields or {}
    key = (
        _norm(fields.get("institution_unitid")), _norm(fields.get("accreditor") or fields.get("accreditor_name")),
        _norm(fields.get("degree_level")), _norm(fields.get("field_of_study") or fields.get("field")),
    )
    # A program not linked to an institution, or without a field, cannot be told apart from a namesake.
    return key if key[0] and key[3] else None


def duplicate_hits(hits: Sequence[Any]) -> list[Duplicate]:
    """Every pair of hits that are one source record or one program (the earlier hit first)."""
    out: list[Duplicate] = []
    seen_records: dict[tuple[str, ...], str] = {}
    seen_programs: dict[tuple[str, str, str, str], str] = {}
    for hit in hits:
        # One pair per later hit: a record key is checked first, since it implies the program key.
        duplicate: Duplicate | None = None
        for rkey in _record_keys(hit):
            if rkey in seen_records and duplicate is None:
                duplicate = Duplicate(seen_records[rkey], hit.id, f"same source record {'/'.join(rkey[1:])}")
            seen_records.setdefault(rkey, hit.id)
        pkey = program_key(hit)
        if pkey is not None:
            if pkey in seen_programs and duplicate is None:
                duplicate = Duplicate(seen_programs[pkey], hit.id, f"same program {'/'.join(pkey)}")
            seen_programs.setdefault(pkey, hit.id)
        if duplicate is not None:
            out.append(duplicate)
    return out


def _value(hit: Any, key: str) -> Any:
    if key in ("id", "kind"):
        return getattr(hit, key)
    fields = hit.fields
    if key == "text":
        return " ".join(str(v) for v in (hit.title, hit.snippet, fields.get("body"), fields.get("name")) if v)
    return fields.get(key)


def satisfies(hit: Any, target: Target) -> bool:
    """Whether a hit fills a slot."""
    if isinstance(target, str):
        return hit.id == target
    for key, expected in target.items():
        actual = _value(hit, key)
        if key == "text":
            if str(expected).lower() not in str(actual or "").lower():
                return False
        elif isinstance(expected, (list, tuple, set, frozenset)):
            values = actual if isinstance(actual, (list, tuple)) else [actual]
            if not any(v in expected for v in values):
                return False
        elif isinstance(actual, (list, tuple)):
            if expected not in actual:
                return False
        elif actual != expected:
            return False
    return True


def judge(judgment: Judgment, hits: Sequence[Any]) -> Outcome:
    """Score a ranking (the first ten hits count) against a judgment."""
    hits = list(hits)[:10]
    slots: list[tuple[Target, int, int]] = [(t, 2, 3) for t in judgment.top3] + [(t, 1, 10) for t in judgment.top10]
    filled: dict[int, int] = {}  # slot index -> rank (1-based)
    gains: list[float] = []
    first_rank = 0
    for rank, hit in enumerate(hits, 1):
        gain = 0
        for i, (target, grade, _limit) in enumerate(slots):
            if i not in filled and satisfies(hit, target):
                filled[i] = rank
                gain = grade
                break
        gains.append(gain)
        if gain and not first_rank:
            first_rank = rank
    top3_missing = [t for i, (t, _g, limit) in enumerate(slots) if limit == 3 and (i not in filled or filled[i] > 3)]
    top10_missing = [t for i, (t, _g, limit) in enumerate(slots) if limit == 10 and i not in filled]
    ideal = sorted((g for _t, g, _l in slots), reverse=True)[:10]
    ndcg = _dcg(gains) / _dcg(ideal) if ideal else 1.0
    duplicates = duplicate_hits(hits) if judgment.distinct else []
    return Outcome(judgment, [h.id for h in hits], top3_missing, top10_missing, ndcg,
                   1.0 / first_rank if first_rank else 0.0, duplicates)


def _dcg(gains: Iterable[float]) -> float:
    return sum((2 ** g - 1) / math.log2(rank + 1) for rank, g in enumerate(gains, 1))


@dataclass
class Summary:
    """Aggregate scores over a judged set."""

    ndcg10: float
    mrr: float
    top3_pass: float
    top10_pass: float
    passed: int
    total: int
    distinct_pass: float = 1.0
    """Share of the distinct judgments whose top 10 showed no program twice."""


def summarize(outcomes: Sequence[Outcome]) -> Summary:
    """Mean nDCG@10, MRR and pass rates."""
    n = len(outcomes) or 1
    top3_ok = sum(1 for o in outcomes if not o.top3_missing)
    top10_ok = sum(1 for o in outcomes if not o.top10_missing)
    distinct = [o for o in outcomes if o.judgment.distinct]
    return Summary(
        ndcg10=sum(o.ndcg for o in outcomes) / n, mrr=sum(o.rr for o in outcomes) / n,
        top3_pass=top3_ok / n, top10_pass=top10_ok / n, passed=sum(1 for o in outcomes if o.passed),
        total=len(outcomes),
        distinct_pass=sum(1 for o in distinct if not o.duplicates) / len(distinct) if distinct else 1.0,
    )


def run(searcher: Any, judgments: Sequence[Judgment], relevance: Any = None) -> list[Outcome]:
    """Run every judged query through ``searcher.search`` (with a relevance setting) and judge it."""
    outcomes = []
    for j in judgments:
        kwargs: dict[str, Any] = {}
        if relevance is not None:
            kwargs["relevance"] = relevance
        result = searcher.search(j.q, dict(j.filters), per_page=10, near=j.near, radius=j.radius, **kwargs)
        outcomes.append(judge(j, result.hits))
    return outcomes
