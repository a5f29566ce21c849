"""URL identity: one page, one URL (pure functions; the middlewares apply them to requests).

``canonical_url`` drops tracking parameters, session ids and fragments and sorts the query;
``fingerprint_url`` also ignores a trailing slash, so ``/a`` and ``/a/`` are one page.
``rel_canonical`` reads a page's ``<link rel=canonical>``; ``is_loopback`` tells the sample
site's hosts (crawled without delay) from real sites.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import TextResponse
from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    from scrapy.http import Response

# Query parameters that identify a visitor or a campaign, never a page.
TRACKING_PARAMS = frozenset({
    "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "igshid", "twclid",
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
    "vero_id", "wickedid", "rb_clickid", "s_cid", "ref_src", "spm",
    "sessionid", "session_id", "sessid", "sid", "jsessionid", "phpsessid", "aspsessionid", "cfid", "cftoken",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "aspsessionid")
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/?#]*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_PREFIXES = ("127.",)


def is_tracking_param(name: str, extra: Iterable[str] = ()) -> bool:
    """True for query parameters that track visitors or sessions rather than select content."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES) or lowered in extra


def canonical_url(url: str, extra_drop: Iterable[str] = ()) -> str:
    """The one URL a page is fetched and stored under (see ``_canonical_url``)."""
    return _canonical_url(url, tuple(extra_drop))


@functools.lru_cache(maxsize=200_000)
def _canonical_url(url: str, extra_drop: tuple[str, ...] = ()) -> str:
    """The one URL a page is fetched and stored under.

    Lower-case scheme and host, no default port, no fragment, no tracking or session
    parameters (``utm_*``, ``gclid``, ``fbclid``, ``sessionid``, ``;jsessionid=``...), the query
    sorted and percent-encoding normalised (w3lib). The trailing slash is kept here, because a
    server may only answer one form; ``fingerprint_url`` treats both forms as the same page.
    """
    extra = {e.lower() for e in extra_drop}
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = ""
    if parts.query:
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k, extra)]
        query = urlencode(kept)
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")), keep_fragments=False)


def fingerprint_url(url: str, extra_drop: Iterable[str] = ()) -> str:
    """The canonical URL with a trailing slash removed (except the root): the page's identity."""
    return _fingerprint_url(url, tuple(extra_drop))


@functools.lru_cache(maxsize=200_000)
def _fingerprint_url(url: str, extra_drop: tuple[str, ...]) -> str:
    canonical = _canonical_url(url, extra_drop)
    parts = urlsplit(canonical)
    path = parts.path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def is_loopback(url: str) -> bool:
    """True for URLs on this machine (the sample site): no politeness delay needed there."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.startswith(LOOPBACK_PREFIXES)


_REL_CANONICAL = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(rb"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


def rel_canonical(response: Response) -> str | None:
    """The absolute ``<link rel=canonical>`` URL of an HTML page, if it declares one."""
    if not isinstance(response, TextResponse) or b"html" not in (response.headers.get("Content-Type") or b"html"):
        return None
    head = response.body[:65536]
    match = _REL_CANONICAL.search(head)
    if not match:
        return None
    href = _HREF.search(match.group(0))
    if not href:
        return None
    raw = next(g for g in href.groups() if g is not None).strip()
    if not raw:
        return None
    try:
        text = raw.decode(response.encoding or "utf-8", "replace")
    except LookupError:
        text = raw.decode("utf-8", "replace")
    import html

    return urljoin(response.url, html.unescape(text))

