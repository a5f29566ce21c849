"""Search speed: the full search against a naive Whoosh baseline and SQLite FTS5, same data, same run.

    .venv/bin/python bench/search_speed.py [--scale 10] [--runs 5] [--skip-expanded] [--keep DIR]

For the sample corpus (the sample site's ground truth) and a synthetic expansion of it (``--scale``
copies of every record, linked copy to copy), it builds the catalog, then

* the collegesearch index (``indexer.build.rebuild``) and an SQLite FTS5 index over the same text
  and facet fields, reporting documents per second for each;
* runs a fixed mix of queries (words, filters, typos, near-me) through three engines doing the same
  work per query (total, facet counts, 10 highlighted snippets, a spelling suggestion):

  - **full**: ``indexer.search.Searcher.search`` (one shared searcher, cached docnum masks);
  - **naive Whoosh**: a new searcher per query, a stock ``MultifieldParser`` query, facet counts by
    grouping all hits, and the highlight computed over each hit's whole text read from the catalog;
  - **FTS5**: ``MATCH`` + ``bm25()`` with the same field weights, ``GROUP BY`` facet counts over the
    matched rows, ``snippet()``, and a vocabulary lookup for the suggestion.

Latency is the median over ``--runs`` passes of each pass's p50 / p95 (the machine is shared and
noisy; a warm-up pass is not counted). Ratios compare with the naive baseline measured in the same
run. Targets: full p95 under 50 ms on the sample corpus and at least 5x faster than naive.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from whoosh import index as whoosh_index  # noqa: E402
from whoosh import qparser, sorting  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight  # noqa: E402

from catalog import Catalog  # noqa: E402
from collegesearch.config import Settings, load_settings  # noqa: E402
from indexer.build import rebuild  # noqa: E402
from indexer.engine import IndexStore  # noqa: E402
from indexer.plan import FIELD_BOOSTS  # noqa: E402
from indexer.schema import FACET_FIELDS, FACETS, STEM_ANALYZER, TEXT_FIELDS  # noqa: E402
from indexer.search import Searcher  # noqa: E402
from model.items import item_from_dict  # noqa: E402

# (query text, filters, near) - words, job titles, typos, program + place, filters, browsing, near-me
QUERY_MIX: list[tuple[str, dict[str, Any], str | None]] = [
    ("medical records", {}, None),
    ("x-ray tech", {}, None),
    ("health information technology", {"state": "GA"}, None),
    ("nursing", {"kind": "program"}, None),
    ("associate radiography Georgia", {}, None),
    ("online dietetics programs", {}, None),
    ("helpful financial aid office", {}, None),
    ("UCLA", {}, None),
    ("radiolgy technologist", {}, None),
    ("", {"kind": "institution", "state": "OH"}, None),
    ("nursing", {}, "30303"),
    ("dental hygiene", {"degree_level": "associate"}, None),
    ("parking", {"kind": "review"}, None),
    ("software developers", {}, None),
    ("physical therapy doctoral", {}, None),
    ("military friendly", {}, None),
    ("probation", {"kind": "program"}, None),
    ("pharmacy technician salary", {}, None),
    ("community college", {"state": "CA"}, None),
    ("professors really care", {"rating": "4"}, None),
    ("occupational therapy", {"delivery": "online"}, None),
    ("university", {}, None),
    ("registered nurse RN", {}, None),
    ("music", {"state": ["NY", "NJ"]}, None),
    ("", {"kind": "program", "accreditor": "CAHIIM"}, None),
    ("dietitian", {}, "Columbus, OH"),
    ("respiratory therapist", {}, None),
    ("medical asistant", {}, None),
    ("technical college", {"kind": "institution"}, None),
    ("great professors small classes", {}, None),
]


# -- corpus ---------------------------------------------------------------------------------------


def sample_items() -> list[dict[str, Any]]:
    """The sample corpus: the sample site's ground truth (epoch 1), linked as a crawl would link it."""
    from tests.relevance.corpus import truth_item_dicts

    return truth_item_dicts()


def expand(items: Sequence[dict[str, Any]], scale: int, seed: int = 7) -> list[dict[str, Any]]:
    """``scale`` copies of every record; copy k of a program or review links to copy k of its school."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = list(items)
    id_keys = {"career": "soc_code", "institution": "unitid", "program": "program_id", "review": "review_id"}
    for k in range(1, scale):
        for data in items:
            copy = dict(data)
            kind = copy["kind"]
            key = id_keys[kind]
            if copy.get(key):
                copy[key] = f"{copy[key]}.x{k}"
            copy["url"] = f"{copy['url']}#x{k}"
            if kind in ("program", "review") and copy.get("institution_unitid"):
                copy["institution_unitid"] = f"{copy['institution_unitid']}.x{k}"
            if kind == "institution":
                copy["name"] = f"{copy.get('name') or ''} Campus {k + 1}"
                if copy.get("latitude") is not None and copy.get("longitude") is not None:
                    copy["latitude"] = float(copy["latitude"]) + rng.uniform(-0.5, 0.5)
                    copy["longitude"] = float(copy["longitude"]) + rng.uniform(-0.5, 0.5)
            if kind == "review" and copy.get("body"):
                words = copy["body"].split(" ")
                rng.shuffle(words)  # same vocabulary, different phrasing
                copy["body"] = " ".join(words)
            out.append(copy)
    return out


def fill_catalog(path: Path, items: Iterable[dict[str, Any]]) -> int:
    """Store the items in a new catalog; returns how many."""
    n = 0
    with Catalog(path) as catalog:
        batch: list[Any] = []
        for data in items:
            batch.append(item_from_dict(data))
            if len(batch) >= 2000:
                catalog.upsert_many(batch)
                n += len(batch)
                batch = []
        if batch:
            catalog.upsert_many(batch)
            n += len(batch)
    return n


# -- the naive Whoosh baseline ---------------------------------------------------------------------

LONG_TEXT = ("summary", "what_they_do", "work_environment", "how_to_become", "body", "programs_offered")


class NaiveWhoosh:
    """Whoosh used the straightforward way: fresh searcher, stock parser, group all hits, highlight full text."""

    def __init__(self, settings: Settings) -> None:
        self.path = IndexStore(settings.index_dir).current().path  # type: ignore[union-attr]
        self.catalog = Catalog(settings.catalog_path, readonly=True)

    def search(self, text: str, filters: dict[str, Any], near: str | None) -> dict[str, Any]:
        ix = whoosh_index.open_dir(str(self.path))
        with ix.searcher() as searcher:
            parser = qparser.MultifieldParser(list(TEXT_FIELDS), ix.schema, group=qparser.OrGroup)
            q = parser.parse(text) if text.strip() else wq.Every()
            conditions = []
            for name, value in filters.items():
                values = value if isinstance(value, list) else [value]
                if name == "rating":
                    low = int(float(values[0]))
                    conditions.append(wq.Or([wq.Term("rating_band", str(b)) for b in range(low, 6)]))
                else:
                    conditions.append(wq.Or([wq.Term(FACET_FIELDS.get(name, name), v) for v in values]))
            facets = {n: sorting.FieldFacet(FACET_FIELDS[n], allow_overlap=True) for n in FACETS}
            results = searcher.search(q, filter=wq.And(conditions) if conditions else None, limit=None,
                                      groupedby=facets, maptype=sorting.Count)
            counts = {n: results.groups(n) for n in FACETS}
            if near:
                from indexer import geo

                loc = geo.resolve(near)
                nearby = [hit for hit in results if hit.get("lat") is not None
                          and geo.miles_between(loc.lat, loc.lon, hit["lat"], hit["lon"]) <= 25]
                page = nearby[:10]
            else:
                page = list(results[:10])
            terms = [t.decode() if isinstance(t, bytes) else t for _f, t in q.all_terms()] if text.strip() else []
            snippets = []
            for hit in page:
                kind, item_id = hit["kind"], hit["item_id"]
                stored = self.catalog.get(kind, item_id)
                data = stored.data if stored else {}
                whole = "\n".join(str(data.get(k) or "") for k in LONG_TEXT if data.get(k))
                snippets.append(highlight(whole, terms, STEM_ANALYZER, ContextFragmenter(), HtmlFormatter()))
            # the stock way: look every word up, ask Whoosh's corrector about the unknown ones
            # (searcher.correct_query would do it in one call, but it fails on multifield queries)
            suggestion = None
            reader = searcher.reader()
            words = [w.lower() for w in re.findall(r"\w+", text)]
            if any(reader.doc_frequency("spell", w) == 0 for w in words):
                fixed = [(searcher.suggest("spell", w, limit=1) or [w])[0] if reader.doc_frequency("spell", w) == 0
                         else w for w in words]
                suggestion = " ".join(fixed)
            return {"total": len(results), "facets": counts, "snippets": snippets, "suggestion": suggestion}

    def close(self) -> None:
        """Close the catalog connection."""
        self.catalog.close()


# -- SQLite FTS5 -----------------------------------------------------------------------------------


class Fts5:
    """The same documents in SQLite FTS5: porter-stemmed text columns plus facet rows."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode = WAL")

    def build(self, settings: Settings) -> tuple[int, float]:
        """Index every document of the collegesearch index's source records; returns (docs, seconds)."""
        from indexer.build import preload_context
        from indexer.schema import to_document

        started = time.perf_counter()
        c = self.conn
        c.executescript(
            "DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS facet;"
            f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(TEXT_FIELDS)}, tokenize='porter unicode61');"
            "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT, kind TEXT, title TEXT, rating REAL,"
            " lat REAL, lon REAL);"
            "CREATE TABLE facet (rowid INTEGER, name TEXT, value TEXT);"
            "CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');"
        )
        n = 0
        with Catalog(settings.catalog_path, readonly=True) as catalog:
            context = preload_context(catalog)
            c.execute("BEGIN")
            for stored in catalog.iter_items():
                doc = to_document(stored, context)
                n += 1
                c.execute(f"INSERT INTO fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                          (n, *(doc.get(f, "") for f in TEXT_FIELDS)))
                c.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (n, doc["id"], doc["kind"], doc["title"], doc.get("rating"), doc.get("lat"), doc.get("lon")))
                for name in FACETS:
                    raw = doc.get(FACET_FIELDS[name])
                    for value in (str(raw).split(",") if raw else []):
                        c.execute("INSERT INTO facet VALUES (?, ?, ?)", (n, name, value))
            c.execute("CREATE INDEX facet_row ON facet (rowid)")
            c.execute("CREATE INDEX facet_name_value ON facet (name, value, rowid)")
            c.execute("COMMIT")
            c.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        return n, time.perf_counter() - started

    def search(self, text: str, filters: dict[str, Any], near: str | None) -> dict[str, Any]:
        words = [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1]
        c = self.conn
        where, args = [], []  # type: ignore[var-annotated]
        for name, value in filters.items():
            values = value if isinstance(value, list) else [value]
            if name == "rating":
                where.append("d.rating >= ?")
                args.append(float(values[0]))
            else:
                marks = ",".join("?" * len(values))
                where.append(f"d.rowid IN (SELECT rowid FROM facet WHERE name = ? AND value IN ({marks}))")  # noqa: S608
                args += [name, *values]
        if near:
            from indexer import geo

            loc = geo.resolve(near)
            la0, la1, lo0, lo1 = geo.bounding_box(loc.lat, loc.lon, 25)
            where.append("d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ?")
            args += [la0, la1, lo0, lo1]
        weights = ", ".join(str(FIELD_BOOSTS.get(f, 1.0)) for f in TEXT_FIELDS)
        suggestion = None
        if words:
            match = " AND ".join(f'"{w}"' for w in words)
            total = self._count(match, where, args)
            if not total:
                match = " OR ".join(f'"{w}"' for w in words)
                total = self._count(match, where, args)
            cond = " AND ".join(["fts MATCH ?", *where])
            rows = c.execute(
                f"SELECT d.id, d.title, snippet(fts, -1, '<mark>', '</mark>', '…', 24) FROM fts JOIN docs d"  # noqa: S608
                f" ON d.rowid = fts.rowid WHERE {cond} ORDER BY bm25(fts, {weights}) LIMIT 10", [match, *args]
            ).fetchall()
            matched_sql, matched_args = f"SELECT fts.rowid FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE {cond}", [match, *args]  # noqa: S608,E501
            unknown = [w for w in words if not c.execute("SELECT 1 FROM vocab WHERE term = ?", (w,)).fetchone()]
            if unknown:
                suggestion = text
                for w in unknown:
                    cands = [r[0] for r in c.execute(
                        "SELECT term FROM vocab WHERE term >= ? AND term < ? ORDER BY doc DESC LIMIT 500",
                        (w[:2], w[:2] + "\uffff"))]
                    best = min(cands, key=lambda t: _edit(w, t), default=None)
                    if best:
                        suggestion = suggestion.replace(w, best)
        else:
            cond = " AND ".join(where) or "1"
            total = c.execute(f"SELECT count(*) FROM docs d WHERE {cond}", args).fetchone()[0]  # noqa: S608
            rows = c.execute(f"SELECT d.id, d.title, d.title FROM docs d WHERE {cond} ORDER BY d.title LIMIT 10",  # noqa: S608
                             args).fetchall()
            matched_sql, matched_args = f"SELECT d.rowid FROM docs d WHERE {cond}", args  # noqa: S608
        counts: dict[str, dict[str, int]] = {}
        for name, value, count in c.execute(
            f"SELECT name, value, count(*) FROM facet WHERE rowid IN ({matched_sql}) GROUP BY name, value",  # noqa: S608
            matched_args,
        ):
            counts.setdefault(name, {})[value] = count
        return {"total": total, "facets": counts, "snippets": [html.escape(r[2] or "") for r in rows],
                "suggestion": suggestion}

    def _count(self, match: str, where: list[str], args: list[Any]) -> int:
        cond = " AND ".join(["fts MATCH ?", *where])
        return int(self.conn.execute(
            f"SELECT count(*) FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE {cond}", [match, *args]  # noqa: S608
        ).fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self.conn.close()


def _edit(a: str, b: str) -> int:
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(a, b))


# -- measuring -------------------------------------------------------------------------------------


def measure(fn: Callable[[str, dict[str, Any], str | None], Any], runs: int,
            mix: Sequence[tuple[str, dict[str, Any], str | None]], before: Callable[[], None] | None = None,
            ) -> tuple[float, float]:
    """Median over runs of (p50, p95) latency in ms for a query mix (after one untimed warm-up pass).

    ``before`` runs untimed before every query (the cold measurement drops the query caches there).
    """
    for q, f, near in mix:
        fn(q, f, near)
    p50s, p95s = [], []
    for _ in range(runs):
        times = []
        for q, f, near in mix:
            if before is not None:
                before()
            started = time.perf_counter()
            fn(q, f, near)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50s.append(statistics.median(times))
        p95s.append(times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)])
    return statistics.median(p50s), statistics.median(p95s)


def bench_corpus(label: str, items: list[dict[str, Any]], workdir: Path, runs: int, naive_runs: int,
                 queries: int) -> list[dict[str, Any]]:
    """Build both indexes over one corpus and time the three engines; returns table rows."""
    mix = QUERY_MIX[:queries]
    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(workdir / "data")})
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "built.json"
    fts = Fts5(workdir / "fts.sqlite3")
    if ready.exists():
        # --keep with an earlier run's folder: time the searches again without rebuilding
        built_info = json.loads(ready.read_text())
        print(f"[{label}] reusing the indexes built in {workdir}", file=sys.stderr, flush=True)
    else:
        print(f"[{label}] storing {len(items):,} records in a catalog ...", file=sys.stderr, flush=True)
        fill_catalog(settings.catalog_path, items)
        print(f"[{label}] building the collegesearch index ...", file=sys.stderr, flush=True)
        built = rebuild(settings)
        print(f"[{label}] building the FTS5 index ...", file=sys.stderr, flush=True)
        fts_docs, fts_seconds = fts.build(settings)
        built_info = {"docs": built.docs, "docs_per_s": built.docs_per_second, "fts_docs": fts_docs,
                      "fts_docs_per_s": fts_docs / fts_seconds}
        ready.write_text(json.dumps(built_info))

    searcher = Searcher(settings)
    naive = NaiveWhoosh(settings)
    print(f"[{label}] timing {len(mix)} queries ...", file=sys.stderr, flush=True)

    def full_search(q: str, f: dict[str, Any], n: str | None) -> Any:
        return searcher.search(q, f, near=n)

    warm = measure(full_search, runs, mix)
    cold = measure(full_search, runs, mix, before=searcher.drop_query_caches)
    naive_t = measure(naive.search, naive_runs, mix)
    fts_t = measure(fts.search, runs, mix)
    searcher.close()
    naive.close()
    fts.close()
    base = {"corpus": label, "docs": built_info["docs"], "queries": len(mix)}
    whoosh_rate = built_info["docs_per_s"]
    return [
        {**base, "engine": "collegesearch full search, repeated queries", "docs_per_s": whoosh_rate,
         "p50": warm[0], "p95": warm[1], "vs_naive": naive_t[1] / warm[1]},
        {**base, "engine": "collegesearch full search, first-time queries", "docs_per_s": whoosh_rate,
         "p50": cold[0], "p95": cold[1], "vs_naive": naive_t[1] / cold[1]},
        {**base, "engine": "naive Whoosh baseline", "docs_per_s": whoosh_rate,
         "p50": naive_t[0], "p95": naive_t[1], "vs_naive": 1.0},
        {**base, "engine": "SQLite FTS5", "docs": built_info["fts_docs"], "docs_per_s": built_info["fts_docs_per_s"],
         "p50": fts_t[0], "p95": fts_t[1], "vs_naive": naive_t[1] / fts_t[1]},
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    """The results as a Markdown table."""
    print("| Corpus | Engine | Docs | Queries | Index docs/s | p50 ms | p95 ms | p95 speed-up vs naive |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['corpus']} | {r['engine']} | {r['docs']:,} | {r['queries']} | {r['docs_per_s']:,.0f} | "
              f"{r['p50']:.1f} | {r['p95']:.1f} | {r['vs_naive']:.1f}x |")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="copies of each record in the expanded corpus")
    parser.add_argument("--runs", type=int, default=5, help="timed passes over the query mix")
    parser.add_argument("--naive-runs", type=int, default=3, help="timed passes for the (slow) naive baseline")
    parser.add_argument("--skip-expanded", action="store_true", help="only the sample corpus")
    parser.add_argument("--expanded-queries", type=int, default=12,
                        help="queries of the mix timed on the expanded corpus (the naive baseline is slow there)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (a later run reuses it)")
    parser.add_argument("--sample-limit", type=int, default=0, help="use only every n-th record (a quick smoke run)")
    args = parser.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="cs-search-bench-"))
    rows: list[dict[str, Any]] = []
    try:
        items = sample_items()
        if args.sample_limit > 1:
            items = items[:: args.sample_limit]
        rows += bench_corpus("sample", items, base / "sample", args.runs, args.naive_runs, len(QUERY_MIX))
        if not args.skip_expanded and args.scale > 1:
            rows += bench_corpus(f"{args.scale}x synthetic", expand(items, args.scale), base / f"x{args.scale}",
                                 args.runs, max(1, args.naive_runs - 1), args.expanded_queries)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print_table(rows)
    for row in rows[:2]:
        ok_latency, ok_ratio = row["p95"] < 50, row["vs_naive"] >= 5
        print(f"Targets ({row['engine']}, sample corpus): p95 < 50 ms {'met' if ok_latency else 'MISSED'} "
              f"({row['p95']:.1f} ms); >= 5x faster than naive {'met' if ok_ratio else 'MISSED'} "
              f"({row['vs_naive']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
