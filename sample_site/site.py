"""The whole sample site at one epoch: routing, robots.txt, sitemaps, conditional GET and faults.

``Site.respond`` is the HTTP-free core the WSGI server wraps (and tests call directly). A page is
rendered on demand from its *model* (the data it shows at an epoch) and cached; its Last-Modified
is the date of the last epoch whose model differs from the previous one, so a page changed in
epoch N carries a later date than in N-1, and ``truth.changed_pages`` compares the same models.

A scaled site (``--scale N``, ``sample_site.scale``) holds N times the programs and reviews; its
rendered pages and models are kept in bounded caches, so serving it all does not hold it all.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import parse_qsl

from sample_site import (
    epochs,
    pages_adversarial,
    pages_cn,
    pages_directory,
    pages_ooh,
    pages_reviews,
)
from sample_site.core import CRAWLED_SOURCES, SOURCE_HOSTS, SOURCES, Body, Ctx, Page, Redirect
from sample_site.scale import check_scale
from sample_site.util import epoch_date, esc, http_date

MODULES: dict[str, ModuleType] = {
    "bls_ooh": pages_ooh,
    "collegenavigator": pages_cn,
    "directory": pages_directory,
    "reviews": pages_reviews,
    "adversarial": pages_adversarial,
}
START_PATHS: dict[str, list[str]] = {
    "bls_ooh": ["/ooh/", "/ooh/a-z/index.htm"],
    "collegenavigator": ["/collegenavigator/"],
    "directory": ["/cahiim/program-directory"],
    "reviews": ["/reviews/colleges/"],
    "adversarial": ["/adversarial/"],
}
ALLOW_PREFIXES: dict[str, list[str]] = {
    "bls_ooh": ["/ooh/"],
    "collegenavigator": ["/collegenavigator/"],
    "directory": ["/cahiim/"],
    "reviews": ["/reviews/", "/api/entity-reviews/"],
    "adversarial": ["/adversarial/"],
}
PORTAL_LABELS: dict[str, str] = {
    "bls_ooh": "Careers (BLS Occupational Outlook Handbook structure)",
    "collegenavigator": "Institutions and accredited programs (NCES College Navigator structure)",
    "directory": "Accredited program directory (CAHIIM style)",
    "reviews": "Student reviews",
    "adversarial": "Adversarial area (hostile pages; not crawled by default)",
}
"""How the portal page names each area."""
NESTED_SITEMAP_INDEX: dict[str, str] = {"collegenavigator": "/collegenavigator/sitemaps"}
"""Sources whose host ``/sitemap.xml`` lists a second sitemap index at a URL without ``.xml``
(as large real sites do), which in turn lists the source's sitemaps: a crawler must tell an
index by its root element, not by its URL."""
GZIPPED_SITEMAPS: frozenset[str] = frozenset({"directory"})
"""Sources whose sitemap is served gzipped (``.xml.gz``, ``application/x-gzip``), the usual form on large sites."""
ROBOTS_SITEMAPS_ONLY: frozenset[str] = frozenset({"directory"})
"""Sources whose sitemaps ``sources.json`` does not name: a crawler finds them in robots.txt (``Sitemap:``)."""
SLOW_SECONDS = 2.5
SITE = "site"
SCALED_MODELS = 8192
"""Page models a scaled site keeps (the base site keeps every one)."""
SCALED_PAGES = 2048
"""Rendered pages a scaled site keeps (the base site keeps every one)."""


class BoundedCache:
    """A thread-safe least-recently-used mapping with a size limit (``get`` returns ``missing`` when absent)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, missing: object = None) -> object:
        """The value kept for key (now the most recently used), or ``missing``."""
        with self._lock:
            if key not in self._data:
                return missing
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Hashable, value: object) -> None:
        """Keep a value, dropping the least recently used one when full."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def source_of_path(path: str) -> str | None:
    """Which source serves a path (sources are told apart by path prefix)."""
    for source, module in MODULES.items():
        for prefix in module.PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                return source
    return None


def leaf_sitemaps(source: str, st: epochs.EpochState) -> dict[str, list[Page]]:
    """Sitemap path -> pages it lists, for one source."""
    key = (source, *st.key)
    hit = _LEAF_CACHE.get(key)
    if hit is None:
        hit = _LEAF_CACHE[key] = _leaf_sitemaps(source, st)
    return hit


_LEAF_CACHE: dict[tuple[str, int, int], dict[str, list[Page]]] = {}


def _leaf_sitemaps(source: str, st: epochs.EpochState) -> dict[str, list[Page]]:
    pages = MODULES[source].sitemap_pages(st)
    if source == "collegenavigator":
        insts = pages_cn.institutions()
        by_state: dict[str, list[Page]] = {}
        for p in pages:
            by_state.setdefault(insts[p.args[0]].state, []).append(p)
        return {f"/collegenavigator/sitemap-{s}.xml": ps for s, ps in sorted(by_state.items())}
    prefix = {"bls_ooh": "/ooh", "directory": "/cahiim", "reviews": "/reviews", "adversarial": "/adversarial"}[source]
    return {f"{prefix}/sitemap.xml{'.gz' if source in GZIPPED_SITEMAPS else ''}": pages}


def host_sitemaps(source: str, st: epochs.EpochState) -> list[str]:
    """What a source host's ``/sitemap.xml`` index lists: its sitemaps, or the nested index that lists them."""
    if source in NESTED_SITEMAP_INDEX:
        return [NESTED_SITEMAP_INDEX[source]]
    return list(leaf_sitemaps(source, st))


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response from the site."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    """Seconds the server should wait before answering (the slow page)."""


@dataclass
class _Rendered:
    body: Body
    etag: str
    lastmod: dt.date


_MODEL_CACHE: dict[tuple[Page, int], object] = {}
_MODEL_LOCK = threading.Lock()
_SCALED_MODEL_CACHE = BoundedCache(SCALED_MODELS)
_ABSENT = object()


def page_model(page: Page, epoch: int, scale: int = 1) -> object | None:
    """What a page shows at an epoch (None: it does not exist then); cached per process."""
    if scale == 1:
        try:
            return _MODEL_CACHE[(page, epoch)]
        except KeyError:
            pass
    else:
        hit = _SCALED_MODEL_CACHE.get((page, epoch, scale), _ABSENT)
        if hit is not _ABSENT:
            return hit
    st = epochs.state(epoch, scale)
    if page.source == SITE:
        m = _site_model(page, st)
    else:
        m = MODULES[page.source].model(page, st)
    if scale == 1:
        _MODEL_CACHE[(page, epoch)] = m
    else:
        _SCALED_MODEL_CACHE.put((page, epoch, scale), m)
    return m


def last_change(page: Page, epoch: int, scale: int = 1) -> int:
    """The latest epoch <= epoch in which the page's model changed (1 if never)."""
    m = page_model(page, epoch, scale)
    k = epoch
    while k > 1:
        if page_model(page, k - 1, scale) != m:
            break
        k -= 1
    return k


def page_lastmod(page: Page, epoch: int, scale: int = 1) -> dt.date:
    """The date a page last changed (the saved real OOH pages keep their own date)."""
    if page.source == "bls_ooh":
        fixed = pages_ooh.static_lastmod(page)
        if fixed:
            return fixed
    return epoch_date(last_change(page, epoch, scale))


def _site_model(page: Page, st: epochs.EpochState) -> object | None:
    if page.kind == "sitemap":
        source, path = page.args
        listed = leaf_sitemaps(source, st).get(path)
        if listed is None:
            return None
        return ("sitemap", tuple((p.canonical, page_lastmod(p, st.epoch, st.scale)) for p in listed))
    if page.kind == "sitemap_index":
        return ("sitemap_index", page.args, tuple(path for s in page.args[0] for path in host_sitemaps(s, st)))
    if page.kind == "source_sitemap_index":
        return ("source_sitemap_index", page.args, tuple(leaf_sitemaps(page.args[0], st)))
    if page.kind in ("sources", "portal"):
        return (page.kind, st.epoch)
    return (page.kind, page.args)


def site_pages(st: epochs.EpochState, hosts: tuple[str, ...] = (*CRAWLED_SOURCES, "portal")) -> list[Page]:
    """Host-level pages: robots.txt, sitemap indexes, leaf sitemaps and the portal."""
    out = []
    for host in hosts:
        if host == "portal":
            out += [Page(SITE, "portal", (), "/"), Page(SITE, "sources", (), "/sources.json"), Page(SITE, "robots", ("portal",), "/robots.txt")]
            continue
        out.append(Page(SITE, "robots", (host,), "/robots.txt"))
        out.append(Page(SITE, "sitemap_index", ((host,),), "/sitemap.xml"))
        if host in NESTED_SITEMAP_INDEX:
            out.append(Page(SITE, "source_sitemap_index", (host,), NESTED_SITEMAP_INDEX[host]))
        out += [Page(SITE, "sitemap", (host, path), path) for path in leaf_sitemaps(host, st)]
    return out


def all_pages(epoch: int, sources: tuple[str, ...] = CRAWLED_SOURCES, scale: int = 1) -> dict[str, list[Page]]:
    """Every crawlable page per source at an epoch and scale (host-level pages under 'site')."""
    st = epochs.state(epoch, scale)
    out = {s: MODULES[s].pages(st) for s in sources}
    out[SITE] = site_pages(st, (*sources, "portal"))
    return out


def robots_txt(host: str, base: Mapping[str, str], single_host: bool) -> str:
    """robots.txt for a host ('portal', a source, or 'all' in single-host mode)."""
    if host == "portal":
        return "User-agent: *\nDisallow: /private/\n"
    hosted = list(SOURCES) if single_host else [host]
    lines = ["# Sample site robots.txt: each host allows only its own area.", "User-agent: *"]
    for s in hosted:
        lines += [f"Disallow: {d}" for d in MODULES[s].DISALLOW]
    for s in hosted:
        lines += [f"Allow: {a}" for a in ALLOW_PREFIXES[s]]
    lines += ["Allow: /sitemap.xml", "Allow: /robots.txt"]
    if single_host:
        lines += ["Allow: /$", "Allow: /sources.json"]
    lines.append("Disallow: /")
    lines.append("")
    sitemap_base = base["portal"] if single_host else base[host]
    lines.append(f"Sitemap: {sitemap_base}/sitemap.xml")
    return "\n".join(lines) + "\n"


def disallow_rules(source: str) -> list[str]:
    """The Disallow patterns a source's robots.txt lists besides 'everything outside its area'."""
    return list(MODULES[source].DISALLOW)


class Site:
    """The sample site at one epoch and scale with faults on or off, for one set of base URLs."""

    def __init__(self, epoch: int, faults: bool, base: Mapping[str, str], single_host: bool, scale: int = 1,
                 stale_lastmod: bool = False) -> None:
        if epoch < 1 or epoch > epochs.MAX_EPOCH:
            raise ValueError(f"epoch must be between 1 and {epochs.MAX_EPOCH}")
        self.epoch = epoch
        self.faults = faults
        self.base = dict(base)
        self.single_host = single_host
        self.scale = check_scale(scale)
        self.stale_lastmod = stale_lastmod
        """Sitemaps whose lastmod never moves past the first epoch's date (a site that lies about changes)."""
        self.state = epochs.state(epoch, scale)
        # The base site keeps every page it rendered; a scaled one only the recently asked ones.
        self._rendered: dict[Page, _Rendered] | BoundedCache = {} if scale == 1 else BoundedCache(SCALED_PAGES)
        self._transient_done: set[str] = set()
        self._lock = threading.Lock()
        self.host_of_ip = {ip: name for name, ip in SOURCE_HOSTS.items()}
        self.transient_paths = {pages_ooh.TRANSIENT_503, f"/collegenavigator/?id={pages_cn.transient_unitid()}",
                                pages_reviews.school_url(pages_reviews.transient_school())}
        self.slow_paths = {f"/collegenavigator/?id={pages_cn.slow_unitid()}"}

    # -- routing ---------------------------------------------------------------------------
    def host_source(self, host_header: str | None) -> str:
        """Which host a request was addressed to ('portal', a source, or 'all' in single-host mode)."""
        if self.single_host:
            return "all"
        ip = (host_header or "").rsplit(":", 1)[0].strip("[]")
        return self.host_of_ip.get(ip, "portal")

    def resolve(self, host: str, path: str, params: dict[str, str]) -> Page | Redirect | None:
        """Map a request to a page, a redirect or nothing."""
        if path == "/robots.txt":
            return Page(SITE, "robots", ("portal" if host == "portal" else host,), path)
        if path == "/sitemap.xml":
            if host == "portal":
                return None
            hosted = tuple(SOURCES) if host == "all" else (host,)
            return Page(SITE, "sitemap_index", (hosted,), path)
        if host in ("portal", "all") and path == "/":
            return Page(SITE, "portal", (), "/")
        if host in ("portal", "all") and path == "/sources.json":
            return Page(SITE, "sources", (), "/sources.json")
        source = source_of_path(path)
        if source is None:
            if path == "/" and host not in ("portal", "all"):
                return Redirect(START_PATHS[host][0], 302)
            return None
        if host not in ("all", source):
            return Redirect(self.base[source] + path + (("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""))
        if path == NESTED_SITEMAP_INDEX.get(source):
            return Page(SITE, "source_sitemap_index", (source,), path)
        if path.endswith(("sitemap.xml", "sitemap.xml.gz")) or (source == "collegenavigator" and path.startswith("/collegenavigator/sitemap-")):
            return Page(SITE, "sitemap", (source, path), path)
        return MODULES[source].resolve(path, params)

    # -- rendering -------------------------------------------------------------------------
    def _render_site(self, page: Page, m: object, ctx: Ctx) -> Body:
        if page.kind == "robots":
            host = page.args[0]
            return Body(robots_txt(host, self.base, self.single_host).encode(), "text/plain; charset=utf-8")
        if page.kind == "sitemap":
            entries: tuple = m[1]  # type: ignore[index]
            source = page.args[0]
            base = self.base[source]
            if self.stale_lastmod:
                first = epoch_date(1)
                entries = tuple((loc, min(d, first)) for loc, d in entries)
            urls = "".join(f"<url><loc>{esc(base + loc)}</loc><lastmod>{d.isoformat()}</lastmod></url>\n" for loc, d in entries)
            text = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + urls + "</urlset>\n")
            if page.canonical.endswith(".gz"):
                # mtime=0: the same bytes (and so the same ETag) in every process and epoch.
                return Body(gzip.compress(text.encode(), mtime=0), "application/x-gzip")
            return Body(text.encode(), "application/xml")
        if page.kind in ("sitemap_index", "source_sitemap_index"):
            paths: tuple = m[2]  # type: ignore[index]
            items = "".join(f"<sitemap><loc>{esc(self.base[source_of_path(p) or 'portal'] + p)}</loc></sitemap>\n" for p in paths)
            text = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + items + "</sitemapindex>\n")
            return Body(text.encode(), "application/xml")
        if page.kind == "sources":
            return Body(json.dumps(self.sources_json(), indent=2).encode(), "application/json")
        if page.kind == "portal":
            items = "".join(
                f'<li><a href="{esc(self.base[s] + START_PATHS[s][0])}">{esc(PORTAL_LABELS[s])}</a> <code>{s}</code></li>\n'
                for s in SOURCES)
            scaled = f"; scale {self.scale}" if self.scale > 1 else ""
            text = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>collegesearch sample site</title></head><body>"
                    f"<h1>collegesearch sample site</h1><p>Epoch {self.epoch}; faults {'on' if self.faults else 'off'}{scaled}.</p>"
                    f'<ul class="sources">\n{items}</ul><p><a href="/sources.json">sources.json</a></p></body></html>\n')
            return Body(text.encode())
        raise KeyError(page.kind)

    def sources_json(self) -> dict:
        """What /sources.json says: each source's base URL, start URLs and sitemaps."""
        out = {}
        for s in SOURCES:
            base = self.base[s]
            out[s] = {
                "base_url": base,
                "start_urls": [base + p for p in START_PATHS[s]],
                "sitemap_urls": [] if s in ROBOTS_SITEMAPS_ONLY and not self.single_host
                else [(self.base["portal"] if self.single_host else base) + "/sitemap.xml"],
                "allowed_prefixes": ALLOW_PREFIXES[s],
                "default_crawl": s in CRAWLED_SOURCES,
            }
        out["adversarial"]["page_kinds"] = dict(pages_adversarial.PAGE_KINDS)
        head: dict = {"epoch": self.epoch, "faults": self.faults, "single_host": self.single_host}
        if self.scale > 1:  # the base site's file stays as it always was
            head["scale"] = self.scale
        return {**head, "sources": out}

    def rendered(self, page: Page) -> _Rendered | None:
        """A page's body, ETag and date (None: 404 at this epoch)."""
        hit = self._rendered.get(page)
        if hit is not None:
            return hit  # type: ignore[return-value]
        m = page_model(page, self.epoch, self.scale)
        if m is None:
            return None
        lastmod = page_lastmod(page, self.epoch, self.scale) if page.source != "adversarial" else epoch_date(1)
        ctx = Ctx(faults=self.faults, base=self.base, lastmod=lastmod, epoch=self.epoch)
        body = self._render_site(page, m, ctx) if page.source == SITE else MODULES[page.source].render(page, m, ctx)
        etag = '"' + hashlib.blake2b(body.data, digest_size=12).hexdigest() + '"'
        out = _Rendered(body, etag, lastmod)
        if isinstance(self._rendered, BoundedCache):
            self._rendered.put(page, out)
        else:
            self._rendered[page] = out
        return out

    # -- HTTP ------------------------------------------------------------------------------
    def respond(self, method: str, host_header: str | None, path: str, query: str,
                headers: Mapping[str, str] | Callable[[str], str | None] = {}) -> Response:  # noqa: B006 - read only
        """Answer one request (method, Host header, path, query string, request headers)."""
        get = headers if callable(headers) else (lambda k: headers.get(k))  # type: ignore[union-attr]
        if method not in ("GET", "HEAD"):
            return self._simple(405, "Method Not Allowed", method, [("Allow", "GET, HEAD")])
        host = self.host_source(host_header)
        params = dict(parse_qsl(query, keep_blank_values=True))
        target = self.resolve(host, path, params)
        if isinstance(target, Redirect):
            loc = target.location
            if loc.startswith("/"):
                loc = f"http://{host_header}{loc}" if host_header else loc
            return self._simple(target.status, "Moved", method, [("Location", loc)])
        if target is None:
            return self._not_found(method, path)
        if self.faults and target.canonical in self.transient_paths:
            with self._lock:
                first = target.canonical not in self._transient_done
                self._transient_done.add(target.canonical)
            if first:
                return self._simple(503, "Service Temporarily Unavailable", method, [("Retry-After", "1")])
        r = self.rendered(target)
        if r is None:
            return self._not_found(method, path)
        delay = SLOW_SECONDS if self.faults and target.canonical in self.slow_paths else 0.0
        last_modified = http_date(r.lastmod)
        hdrs = [("Content-Type", r.body.content_type), ("ETag", r.etag), ("Last-Modified", last_modified),
                ("Cache-Control", "no-cache")]
        if r.body.status == 200 and self._not_modified(get, r):
            return Response(304, hdrs, b"", delay)
        hdrs.append(("Content-Length", str(len(r.body.data))))
        return Response(r.body.status, hdrs, b"" if method == "HEAD" else r.body.data, delay)

    @staticmethod
    def _not_modified(get: Callable[[str], str | None], r: _Rendered) -> bool:
        inm = get("If-None-Match")
        if inm:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or r.etag in tags
        ims = get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            modified = dt.datetime(r.lastmod.year, r.lastmod.month, r.lastmod.day, 12, tzinfo=dt.UTC)
            return modified <= since
        return False

    def _simple(self, status: int, text: str, method: str, extra: list[tuple[str, str]]) -> Response:
        body = f"<!DOCTYPE html><html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>\n".encode()
        hdrs = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
        return Response(status, hdrs, b"" if method == "HEAD" else body)

    def _not_found(self, method: str, path: str) -> Response:
        if path.startswith(pages_reviews.API.rstrip("/")):
            body = b'{"error":"not_found","message":"no such entity or page"}'
            return Response(404, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], b"" if method == "HEAD" else body)
        return self._simple(404, "Not Found", method, [])


def warm(epoch: int, scale: int = 1) -> None:
    """Build everything a first request would need (data, epoch state), so serving starts fast."""
    epochs.state(epoch, scale)
    pages_ooh.skeleton()
    pages_cn.malformed_unitid()
    pages_cn.slow_unitid()
    pages_cn.transient_unitid()
    pages_reviews.transient_school()

