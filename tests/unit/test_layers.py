"""The layers hold: imports point one way between packages, no import cycles inside a package, no huge modules.

Read from the source with ``ast`` (nothing is imported), so a lazy import inside a function counts
as much as one at the top of a file. Layers, lowest first::

    model            the domain: items, vocabularies, the source registry
    catalog          SQLite, over model
    indexer          Whoosh, over model and catalog
    ops              scheduling, locks, status, over the three above
    crawler          Scrapy, over model and catalog (and ops.locks)
    webapp           Flask, over model, catalog, indexer and ops
    collegesearch    settings (config) at the bottom; cli and demo wire everything at the top
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED_PACKAGES = ("model", "catalog", "indexer", "ops", "crawler", "webapp", "collegesearch", "sample_site")
MAX_LINES = 600
NOT_PROJECT_CODE = ("tests", "sample_site/data")  # folders the size limit does not apply to


@dataclass(frozen=True)
class Import:
    """One import statement (or ``importlib.import_module("literal")`` call) in one of our modules."""

    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (a submodule when ``from pkg import submodule``)
    path: str  # the importing file, relative to the repository
    line: int
    text: str  # the statement as written
    when: str  # "import": runs when the module is imported; "call": inside a function; "typing": TYPE_CHECKING only

    def __str__(self) -> str:
        return f"{self.module} imports {self.target} ({self.path}:{self.line}: {self.text})"


def module_name(path: Path) -> str:
    """``webapp/views.py`` -> ``webapp.views``; ``ops/__init__.py`` -> ``ops``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def our_top_names() -> frozenset[str]:
    """Our importable top-level names: every package at the repository root, every root module, and tests."""
    names = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in ROOT.glob("*.py")}
    return frozenset(names | {"tests"})


@cache
def our_modules() -> dict[str, Path]:
    """Every module of our packages, by dotted name."""
    found: dict[str, Path] = {}
    for top in our_top_names():
        if (ROOT / f"{top}.py").exists():
            found[top] = ROOT / f"{top}.py"
        for path in sorted((ROOT / top).rglob("*.py")) if (ROOT / top).is_dir() else ():
            if "__pycache__" not in path.parts:
                found[module_name(path)] = path
    return found


def is_ours(name: str) -> bool:
    """Whether a dotted module name is one of our packages or modules."""
    return name.split(".")[0] in our_top_names()


def within(name: str, *prefixes: str) -> bool:
    """``within("ops.locks", "ops")`` is true: the module is one of the prefixes or inside one."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The modules a ``from X import a, b`` reads: ``X.a`` where that is a module of ours, else ``X``."""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        base_parts = package[: len(package) - (node.level - 1)]
        base = ".".join(base_parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    targets = []
    for alias in node.names:
        sub = f"{base}.{alias.name}" if base else alias.name
        targets.append(sub if sub in our_modules() or not base else base)
    return list(dict.fromkeys(targets))


def _walk(node: ast.AST, when: str) -> Iterator[tuple[ast.AST, str]]:
    """Every node under ``node``, with when it runs: "import", "call" (inside a function) or "typing"."""
    for child in ast.iter_child_nodes(node):
        runs = "call" if when == "import" and isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else when
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child, runs
            for stmt in child.body:
                yield stmt, "typing"
                yield from _walk(stmt, "typing")
            for stmt in child.orelse:
                yield stmt, runs
                yield from _walk(stmt, runs)
            continue
        yield child, runs
        yield from _walk(child, runs)


def read_imports(source: str, module: str, path: str, is_package: bool) -> list[Import]:
    """Every import in one module's source: top-level, lazy (inside functions), under TYPE_CHECKING, and
    ``import_module("literal")``."""
    tree = ast.parse(source, filename=path)
    found = []
    for node, when in _walk(tree, "import"):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = _resolve_from(module, is_package, node)
        elif isinstance(node, ast.Call) and (name := _literal_import_module(node)):
            targets = [name]
        if targets:
            text = (ast.get_source_segment(source, node) or "").splitlines()[0]
            found += [Import(module, target, path, getattr(node, "lineno", 0), text, when) for target in targets]
    return found


def _literal_import_module(call: ast.Call) -> str | None:
    """The module named by ``import_module("a.b")`` / ``importlib.import_module("a.b")``, if the name is a literal."""
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    first = call.args[0] if call.args else None
    if called == "import_module" and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


@cache
def imports_of(path: Path) -> tuple[Import, ...]:
    """Every import in one file of ours."""
    return tuple(read_imports(path.read_text(encoding="utf-8"), module_name(path), path.relative_to(ROOT).as_posix(),
                              path.name == "__init__.py"))


@cache
def checked_imports() -> tuple[Import, ...]:
    """The imports of every module in the checked packages."""
    return tuple(imp for name, path in sorted(our_modules().items())
                 if within(name, *CHECKED_PACKAGES) for imp in imports_of(path))


# -- which package may import which -----------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Modules ``within(source)`` must not import a module for which ``forbidden(target)`` holds."""

    name: str
    sources: tuple[str, ...]
    forbidden: Callable[[str], bool]
    exempt: tuple[str, ...] = ()  # importing modules the rule does not apply to


def ours_except(*allowed: str) -> Callable[[str], bool]:
    """Forbid every module of ours outside ``allowed``, and Scrapy."""
    return lambda target: within(target, "scrapy") or (is_ours(target) and not within(target, *allowed))


RULES = (
    Rule("model imports nothing of ours and no Scrapy", ("model",), ours_except("model")),
    Rule("catalog imports only model", ("catalog",), ours_except("model", "catalog")),
    Rule("indexer imports only model, catalog and collegesearch.config", ("indexer",),
         ours_except("model", "catalog", "indexer", "collegesearch.config")),
    Rule("ops imports only model, catalog, indexer and collegesearch.config (never crawler, webapp or Scrapy)",
         ("ops",), ours_except("model", "catalog", "indexer", "ops", "collegesearch.config")),
    Rule("crawler never imports indexer, webapp, or ops other than ops.locks", ("crawler",),
         lambda t: within(t, "indexer", "webapp") or (within(t, "ops") and not within(t, "ops.locks"))),
    Rule("webapp never imports crawler or Scrapy", ("webapp",), lambda t: within(t, "crawler", "scrapy")),
    Rule("nothing but collegesearch.cli and collegesearch.demo imports webapp", CHECKED_PACKAGES,
         lambda t: within(t, "webapp"), exempt=("webapp", "collegesearch.cli", "collegesearch.demo")),
    # The package's __init__ (the version from metadata) is a leaf; the CLI and demo beside it are the top.
    Rule("collegesearch.config imports only model, ops.cron and the package's version", ("collegesearch.config",),
         lambda t: t != "collegesearch" and ours_except("model", "ops.cron", "collegesearch.config")(t)),
    Rule("ops.cron is a leaf: it imports nothing of ours but model", ("ops.cron",), ours_except("model", "ops.cron")),
)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_imports_point_one_way(rule: Rule) -> None:
    broken = [imp for imp in checked_imports()
              if within(imp.module, *rule.sources) and not within(imp.module, *rule.exempt)
              and rule.forbidden(imp.target)]
    assert not broken, f"{rule.name}, but:\n  " + "\n  ".join(map(str, broken))


def test_the_import_reader_sees_every_kind_of_import() -> None:
    """The checks above are only as good as the reader: lazy, TYPE_CHECKING, relative, submodule and literal
    ``import_module`` imports are all found, each with when it runs."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import scrapy.http\n"
        "from webapp import views, create_app\n"
        "from . import locks\n"
        "from .locks import hold\n"
        "if TYPE_CHECKING:\n"
        "    from indexer.search import Searcher\n"
        "else:\n"
        "    import json\n"
        "def later():\n"
        "    from crawler.items import Program\n"
        "    importlib.import_module('webapp.api')\n"
        "class Kept:\n"
        "    import model.items\n"
    )
    found = {(i.target, i.when, i.line) for i in read_imports(source, "ops.status", "ops/status.py", False)}
    assert found == {
        ("typing", "import", 1), ("scrapy.http", "import", 2), ("webapp.views", "import", 3),
        ("webapp", "import", 3), ("ops.locks", "import", 4), ("ops.locks", "import", 5),
        ("indexer.search", "typing", 7), ("json", "import", 9), ("crawler.items", "call", 11),
        ("webapp.api", "call", 12), ("model.items", "import", 14),
    }
    nested = {i.target for i in read_imports("from ..pages import generic\nfrom .. import pages, __version__\n",
                                             "crawler.spiders.base", "crawler/spiders/base.py", False)}
    assert nested == {"crawler.pages.generic", "crawler.pages", "crawler"}
    assert all(is_ours(m) for m in ("model.items", "collegesearch", "tests.plugins", "bench"))
    assert not is_ours("scrapy.http") and not is_ours("modelx")
    assert within("ops.locks", "ops") and not within("opsx", "ops")


# -- no import cycles inside a package ----------------------------------------------------------


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of a directed graph (iterative), sorted for stable messages."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components)


def test_strongly_connected_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def cycles_in(package: str, kinds: tuple[str, ...]) -> str:
    """The import cycles between modules of one package, through imports of the given kinds, described."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in checked_imports():
        if (imp.when in kinds and within(imp.module, package) and within(imp.target, package)
                and imp.target in our_modules() and imp.target != imp.module):
            graph[imp.module].add(imp.target)
            graph.setdefault(imp.target, set())
            edges[(imp.module, imp.target)].append(imp)
    lines = []
    for cycle in (c for c in strongly_connected(graph) if len(c) > 1):
        lines.append("cycle between " + ", ".join(cycle) + ":")
        lines += [f"    {imp} [{imp.when}]" for a in cycle for b in cycle for imp in edges.get((a, b), ())]
    return "\n  ".join(lines)


@pytest.mark.parametrize("package", CHECKED_PACKAGES)
def test_no_import_cycle_inside_a_package(package: str) -> None:
    """Modules of one package import each other one way at import time (top-level imports)."""
    found = cycles_in(package, ("import",))
    assert not found, f"import cycles in {package}:\n  {found}"


@pytest.mark.parametrize("package", CHECKED_PACKAGES)
def test_no_import_cycle_even_through_lazy_imports(package: str) -> None:
    """A cycle closed by an import inside a function is still a cycle: the two modules need each other.

    (Imports under TYPE_CHECKING do not count: they never run.)
    """
    found = cycles_in(package, ("import", "call"))
    assert not found, f"import cycles in {package} (counting imports inside functions):\n  {found}"


# -- module size --------------------------------------------------------------------------------


def project_files() -> Iterator[Path]:
    """Every .py file of ours outside tests and the sample site's data."""
    for top in sorted(our_top_names() - {"tests"}):
        if (ROOT / f"{top}.py").exists():
            yield ROOT / f"{top}.py"
        if (ROOT / top).is_dir():
            for path in sorted((ROOT / top).rglob("*.py")):
                rel = path.relative_to(ROOT).as_posix()
                excluded = any(rel.startswith(folder + "/") for folder in NOT_PROJECT_CODE)
                if "__pycache__" not in path.parts and not excluded:
                    yield path


def test_no_module_is_over_600_lines() -> None:
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for path in project_files()}
    assert len(sizes) > 50, sorted(sizes)  # the walk found the project
    big = sorted((n, p) for p, n in sizes.items() if n > MAX_LINES)
    assert not big, f"modules over {MAX_LINES} lines (split them by job): " + ", ".join(f"{p} ({n})" for n, p in big)


# -- the search engine's internals ----------------------------------------------------------------

WHOOSH_PUBLIC = ("whoosh.analysis", "whoosh.fields", "whoosh.highlight", "whoosh.lang", "whoosh.query",
                 "whoosh.qparser", "whoosh.support", "whoosh.scoring", "whoosh.searching", "whoosh.index",
                 "whoosh.writing", "whoosh.columns", "whoosh.sorting", "whoosh.filedb.filestore")
"""Whoosh modules any indexer module may use; the rest (codecs, columns, readers, matchers) are the engine's."""
WHOOSH_PRIVATE_NAMES = frozenset({
    "_reader", "_read_toc", "_latest_generation", "_segments", "_perdoc", "_cached_reader", "_read_data",
    "_next_block", "_read_weights", "_lastblock", "_typecode", "_fixedlen", "_dbfile", "_basepos", "_filename",
    "_DEF_INDEX_NAME", "_lenfield", "_byteids", "_deleted", "_doccount",
})
"""Private Whoosh attributes the search once used outside the engine (and must not again)."""


def test_only_the_engine_touches_whoosh_internals() -> None:
    """``indexer.engine`` wraps every private part of Whoosh, each checked by test_engine_internals.py."""
    touched = []
    for path in project_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("indexer/engine/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                modules = [f"{base}.{a.name}" if base == "whoosh" else base for a in node.names]
            for module in modules:
                if within(module, "whoosh") and not within(module, *WHOOSH_PUBLIC):
                    touched.append(f"{rel}:{node.lineno} imports {module}")
            name = node.attr if isinstance(node, ast.Attribute) else None
            if name in WHOOSH_PRIVATE_NAMES:
                touched.append(f"{rel}:{node.lineno} .{name}")
    assert not touched, "Whoosh internals used outside indexer.engine:\n  " + "\n  ".join(touched)
