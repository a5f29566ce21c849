"""No user input reaches SQL except through parameters.

1. A static check over ``catalog/`` (the only package that speaks SQL): every piece of SQL built at run time
   (f-strings, ``+`` concatenation, ``%`` and ``.format``) may only interpolate expressions on an audited
   allow-list; anything new fails here until someone audits it. Other packages never import sqlite3.
2. Injection attempts through every parameter that reaches the catalog, over the real app and catalog:
   no 5xx, no extra rows returned, nothing dropped or changed, the payload stored verbatim where it is data.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|AND|OR|PRAGMA|IN|VALUES|ORDER BY|LIMIT|FROM|SET|"
                       r"GROUP BY|JOIN|CREATE|DROP|ALTER|AS|CASE|WHEN|SUM|COUNT|MIN|MAX)\b|json_(extract|type)\(")

# (function, interpolated expression) pairs that were audited: each is built from constants or from
# values the code checks first. Add an entry only after reading the code that produces the value.
AUDITED: dict[tuple[str, str], str] = {
    ("__init__", "int(timeout * 1000)"): "a float setting turned into an int",
    ("migrate", "version + 1"): "an int schema version",
    ("_migrate", "version + 1"): "an int schema version",
    ("get_many", "marks"): "named placeholders from in_list(), one per id",
    ("get_many", "live"): "one of two constant strings",
    ("ids_by_title", "marks"): "named placeholders from in_list(), one per title",
    ("_filters", "' AND '.join(where)"): "conditions on constant column names with named placeholders",
    ("iter_items", "where"): "_filters' clause: constant conditions with named placeholders, or nothing",
    ("count", "where"): "_filters' clause: constant conditions with named placeholders, or nothing",
    ("list_links", "sql"): "a constant plus constant conditions with named placeholders",
    ("_child_filters", "self.conn.json_text('data', f'field{i}')"): "json_text of a constant column and a numbered placeholder",
    ("_child_filters", "i"): "an int from enumerate() naming a placeholder",
    ("children", "where"): "_child_filters' clause: fixed conditions, field names and values as parameters",
    ("count_children", "where"): "_child_filters' clause: fixed conditions, field names and values as parameters",
    ("children", "orders.get(order, 'item_id')"): "a lookup in a constant dict",
    ("change_feed", "' OR '.join((self.conn.json_has('diff', f'field{i}') for i in range(len(fields))))"):
        "json_has terms on a constant column with numbered placeholders",
    ("change_feed", "marks"): "named placeholders from in_list()",
    ("change_summary", "marks"): "named placeholders from in_list()",
    ("change_summary", "closing_marks"): "named placeholders from in_list()",
    ("change_summary", "sql_.json_has('diff', 'status_key')"): "json_has of constant names",
    ("change_summary", "sql_.json_element('diff', 'status_key', 1)"): "json_element of constant names and an int",
    ("change_summary", "either"): "json_has terms with numbered placeholders joined by OR, or '1 = 0'",
    ("change_summary", "i"): "an int from enumerate() naming a result column",
    ("change_summary", "', '.join(columns)"): "constant column expressions with named placeholders",
    ("list_schedule_events", "marks"): "named placeholders, one per event",
    ("entity_op_counts", "marks"): "named placeholders, one per run id",
    ("log_changes", "table"): "checked against the constant CHANGE_LOGS on the line before",
    ("source_names", "marks"): "named placeholders, one per entity id",
    ("rating_stats", "rating"): "a constant expression assigned on the line before",
    ("rating_stats", "self.conn.json_text('data', 'rating_key')"): "json_text of constant names",
    ("_pragmas", "int(timeout * 1000)"): "a float setting turned into an int",
    ("json_text", "column"): "checked by _identifier() on the line before",
    ("json_text", "param"): "checked by _identifier() on the line before",
    ("json_has", "column"): "checked by _identifier() on the line before",
    ("json_has", "param"): "checked by _identifier() on the line before",
    ("json_element", "column"): "checked by _identifier() on the line before",
    ("json_element", "param"): "checked by _identifier() on the line before",
    ("json_element", "int(index)"): "an int",
    ("_copy", "table"): "a table name read from the source's sqlite_master, checked by _identifier()",
    ("_copy", "names"): "column names read by reflection, each checked by _identifier()",
    ("_copy", "', '.join((':' + c for c in columns))"): "placeholders named after checked column names",
    ("_copy", "key"): "a constant of SERIAL_KEYS",
    ("changes_after", "_NOT_IN_SNAPSHOT if cursor.snapshot else ''"): "a constant clause (the snapshot is a parameter)",
    ("changes_behind", "_NOT_IN_SNAPSHOT if cursor.snapshot else ''"): "a constant clause (the snapshot is a parameter)",
    ("change_feed", "clause"): "_followed_seqs' subquery: constant tables and columns, ids and kinds as parameters",
    ("_followed_seqs", "i"): "an int from enumerate() naming a placeholder",
    ("_followed_seqs", "marks"): "named placeholders from in_list()",
    ("_followed_seqs", "self.conn.json_text('data', 'frating_key')"): "json_text of constant names",
    ("_followed_seqs", "rating"): "a CAST of json_text of constant names, built on the line before",
    ("_followed_seqs", "programs"): "a subquery of a class constant and in_list() placeholders, built just before",
    ("_followed_seqs", "reviews"): "a subquery of a class constant and in_list() placeholders, built just before",
    ("_locked_row", "lock"): "one of two constant strings (FOR UPDATE in PostgreSQL, nothing in SQLite)",
    ("touch_pages", "marks"): "named placeholders from in_list(), one per page URL",
    ("_stored_rows", "marks"): "named placeholders from in_list(), one per id",
}

# Expressions audited wherever they appear: the table a read runs on is a class constant of the
# reading class (``items``/``changes`` for observations, ``entities``/``entity_changes`` for fused records).
AUDITED_ANYWHERE: dict[str, str] = {
    "self._records": "class constant: 'items' (catalog.record_reads) or 'entities' (catalog.fused)",
    "self._changes": "class constant: 'changes' (catalog.changes) or 'entity_changes' (catalog.fused)",
}


def _is_sql_text(text: str) -> bool:
    return bool(SQL_WORDS.search(text))


def _add_leaves(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _add_leaves(node.left) + _add_leaves(node.right)
    return [node]


def _const_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def dynamic_sql(path: Path) -> list[tuple[str, str, int, str]]:
    """(function, interpolated expression, line, how) for every run-time piece of SQL in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str, int, str]] = []

    def visit(node: ast.AST, func: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node.name
        if isinstance(node, ast.JoinedStr) and _is_sql_text(_const_text(node) or ""):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    found.append((func, ast.unparse(part.value), node.lineno, "f-string"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            leaves = _add_leaves(node)
            texts = [_const_text(leaf) for leaf in leaves]
            if any(t and _is_sql_text(t) for t in texts):
                for leaf, text in zip(leaves, texts, strict=True):
                    if text is None:
                        found.append((func, ast.unparse(leaf), node.lineno, "+"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sql_text(_const_text(node.left) or ""):
            found.append((func, ast.unparse(node.right), node.lineno, "%-formatting"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and _is_sql_text(_const_text(node.func.value) or ""):
            found.append((func, ast.unparse(node), node.lineno, ".format()"))
        for child in ast.iter_child_nodes(node):
            # A '+' chain is reported once, at its top.
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(child, ast.BinOp) \
                    and isinstance(child.op, ast.Add):
                for grandchild in ast.iter_child_nodes(child):
                    visit(grandchild, func)
                continue
            visit(child, func)

    visit(tree, "<module>")
    return found


def test_the_checker_finds_interpolation(tmp_path):
    # The checker itself must catch the classic mistakes (else the real check below proves nothing).
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(conn, name, q):\n"
        "    conn.execute(f\"SELECT * FROM items WHERE title = '{name}'\")\n"
        "    conn.execute(\"SELECT * FROM items WHERE title = '\" + q + \"'\")\n"
        "    conn.execute(\"DELETE FROM items WHERE id = %s\" % q)\n"
        "    conn.execute(\"UPDATE items SET x = {}\".format(q))\n"
        "    conn.execute(\"SELECT 1 FROM items WHERE a = ?\", (q,))\n"
    )
    hows = sorted(h for _, _, _, h in dynamic_sql(bad))
    assert hows == ["%-formatting", "+", ".format()", "f-string"]


def test_catalog_builds_sql_only_from_audited_pieces():
    unaudited = []
    for path in sorted((ROOT / "catalog").glob("*.py")):
        for func, expr, line, how in dynamic_sql(path):
            if how in ("%-formatting", ".format()") or ((func, expr) not in AUDITED and expr not in AUDITED_ANYWHERE):
                unaudited.append(f"{path.name}:{line} in {func}(): {how} interpolates {expr!r}")
    assert not unaudited, ("SQL built from unaudited values (use :name parameters, or audit and add to AUDITED):\n"
                           + "\n".join(unaudited))


def test_only_the_catalog_speaks_sql():
    offenders = []
    for package in ("webapp", "indexer", "crawler", "sample_site", "model", "ops", "collegesearch"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"^\s*(import sqlite3|from sqlite3 )", text, re.M) or re.search(r"\.execute(many|script)?\(\s*[f]?[\"'](SELECT|INSERT|UPDATE|DELETE)", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"SQL outside catalog/: {offenders}"


# -- injection attempts through the app -------------------------------------------------------------

PAYLOADS = [
    "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"", "1; DROP TABLE items; --", "x'); DELETE FROM items; --",
    "') UNION SELECT * FROM meta --", "%' OR 1=1 OR '%'='", "$.rating') OR 1=1 --", "\\'; --",
    "1 OR 1=1", "' || (SELECT sql FROM sqlite_master) || '",
]


def catalog_fingerprint(path: Path) -> tuple:
    with Catalog(path, readonly=True) as cat:
        return cat.counts_by_kind(), cat.max_change_seq(), cat.count_user_reviews(None), cat.integrity_check(), \
            sorted(r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master"))


@pytest.mark.usefixtures("no_unhandled_errors")
def test_injection_through_every_parameter_that_reaches_the_catalog(admin_client, client, web_settings, testdata):
    before = catalog_fingerprint(web_settings.catalog_path)
    ghc = testdata.GHC
    real_reviews = client.get(f"/api/institutions/{ghc}").get_json()["reviews"]["total"]
    assert real_reviews > 0
    for payload in PAYLOADS:
        p = quote(payload, safe="")
        # Review category filter (json_extract equality), page numbers, letters, states.
        data = client.get(f"/api/institutions/{ghc}?category={p}&page={p}").get_json()
        assert data["reviews"]["total"] == 0 and data["reviews"]["items"] == [], payload
        for url in (f"/institutions/{ghc}?category={p}", f"/colleges/?letter={p}&state={p}&page={p}",
                    f"/military-friendly?state={p}", f"/online-programs?letter={p}", f"/careers/?letter={p}",
                    f"/careers/{testdata.MRS}?state={p}&degree_level={p}&online={p}",
                    f"/api/careers/{testdata.MRS}?state={p}&degree_level={p}",
                    f"/search?q={p}&state={p}&kind={p}", f"/api/search?q={p}", f"/api/suggest?q={p}",
                    f"/institutions/{p}", f"/programs/{p}", f"/reviews/{p}", f"/careers/{p}",
                    f"/api/programs/{p}", f"/institutions/{p}/review"):
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
        # The change feed: since is compared as text, so an injected OR would return every change.
        feed = client.get(f"/changes.json?since={quote('9999' + payload)}")
        assert feed.status_code == 400 or feed.get_json().get("changes", feed.get_json().get("items")) == [], payload
        for url in (f"/changes.json?kind={p}", f"/changes.json?op={p}", f"/changes.json?state={p}",
                    f"/changes.json?before={p}&run_id={p}&limit={p}", f"/changes?since={p}", f"/changes.atom?kind={p}"):
            assert client.get(url).status_code in (200, 400), url
        # Admin pages take parameters too.
        for url in (f"/admin/runs?source={p}", f"/admin/reviews?status={p}", f"/admin/runs/{p}"):
            assert admin_client.get(url).status_code in (200, 404), url
        runs = admin_client.get(f"/admin/runs?source={p}")
        assert runs.status_code == 200
    assert catalog_fingerprint(web_settings.catalog_path) == before


@pytest.mark.usefixtures("no_unhandled_errors")
def test_injection_through_the_review_form_is_stored_verbatim(client, web_settings, testdata):
    before = catalog_fingerprint(web_settings.catalog_path)
    body = "Great school. " + "'); DROP TABLE items; -- " + "\" OR \"\"=\" and ' OR '1'='1 to be sure."
    title = "x'); DELETE FROM user_reviews; --"
    page = client.get(f"/institutions/{testdata.GHC}/review")
    response = client.post(f"/institutions/{testdata.GHC}/review", data={
        "rating": "4", "category": "academics", "author_role": "graduate", "title": title, "body": body,
        "website": "", "csrf_token": testdata.csrf_token(page.text)})
    assert response.status_code == 302
    after = catalog_fingerprint(web_settings.catalog_path)
    assert after[0] == before[0] and after[4] == before[4] and after[3] == []  # nothing dropped, file sound
    with Catalog(web_settings.catalog_path, readonly=True) as cat:
        [stored] = cat.list_user_reviews("pending")
    assert stored.body == body and stored.title == title
