"""The page-object base: a fetched page (URL, bytes, headers) decoded once, with parsel selectors.

Page objects follow web-poet's idea (one class per kind of page, all extraction in it, built
from a saved response without the Scrapy engine) as plain classes: web-poet and scrapy-poet are
not dependencies of this project, and a constructor taking ``url, body, headers`` is all the
spiders and ``collegesearch extract`` need. ``Page.from_response`` adapts a Scrapy ``Response``
without importing Scrapy here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree
from parsel import Selector, SelectorList
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, resolve_encoding

from crawler.processors import clean_multiline, clean_text

if TYPE_CHECKING:
    from model.items import Item

P = TypeVar("P", bound="Page")

# Elements whose text never reaches a reader, and elements that break a line.
_HIDDEN = {"script", "style", "noscript", "template", "head", "title"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "option",
}
# libxml2 stops building the tree past ~2,000 levels; hostile pages get their excess tags dropped.
_MAX_DEPTH = 1000
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_WHITESPACE_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class PageError(ValueError):
    """The bytes cannot be read as a page at all (e.g. binary content)."""


def _detect_encoding(body: bytes) -> str:
    """Undeclared encodings: UTF-8 when the bytes are valid UTF-8, else Windows-1252 (as browsers do)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def decode_body(body: bytes, content_type: str | None = None, encoding: str | None = None) -> tuple[str, str]:
    """Decode page bytes: explicit encoding, BOM, HTTP charset, ``<meta charset>``, then detection.

    Returns ``(encoding, text)``. Bytes invalid in the declared encoding are replaced, except
    that a page declared UTF-8 whose bytes are not UTF-8 at all is read as Windows-1252,
    the usual mislabel on old sites.
    """
    if encoding:
        resolved = resolve_encoding(encoding)
        if resolved:
            return resolved, body.decode(resolved, errors="replace")
    enc, text = html_to_unicode(content_type, body, default_encoding="utf-8", auto_detect_fun=_detect_encoding)
    resolved = resolve_encoding(enc or "") or ""
    if "\ufffd" in text and resolved == "utf-8" and b"\xef\xbf\xbd" not in body:
        declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
        if declared:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return "cp1252", body.decode("cp1252", errors="replace")
    elif resolved in _SINGLE_BYTE_LATIN and not body.isascii() and _is_utf8_text(body):
        # Declared Latin-1 but the bytes are UTF-8 (a mislabel old CMSes make): multi-byte UTF-8
        # sequences are vanishingly unlikely in genuine Latin-1 text, so UTF-8 is the better reading.
        return "utf-8", body.decode("utf-8")
    return enc, text


_SINGLE_BYTE_LATIN = {"cp1252", "latin-1", "iso8859-1", "iso-8859-1", "iso8859-15", "iso-8859-15", "windows-1252"}


def _is_utf8_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_RUN = 200
"""Back-to-back tags that count as a wrapper run (real pages never open 200 tags without content)."""
_OPEN_RUN_RE = re.compile(r"(?:<[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?>\s*){" + str(_RUN) + ",}")
_CLOSE_RUN_RE = re.compile(r"(?:</[A-Za-z][A-Za-z0-9:-]*\s*>\s*){" + str(_RUN) + ",}")
_KEEP_OF_RUN = 40


def _collapse_wrapper_runs(text: str) -> str:
    """Shorten runs of hundreds of back-to-back tags (``<div><div><div>...``), the usual nesting attack.

    Of an opening run the last tags are kept (the page's own ``<div id="panes">`` sits at its end),
    of a closing run the first ones, so the real structure inside the wrappers survives.
    """
    def keep_last(match: re.Match[str]) -> str:
        tags = re.findall(r"<[^<>]*>", match.group(0))
        return "".join(tags[-_KEEP_OF_RUN:])

    def keep_first(match: re.Match[str]) -> str:
        tags = re.findall(r"<[^<>]*>", match.group(0))
        return "".join(tags[:_KEEP_OF_RUN])

    return _CLOSE_RUN_RE.sub(keep_first, _OPEN_RUN_RE.sub(keep_last, text))


def _flatten_deep_nesting(text: str, limit: int = _MAX_DEPTH) -> str:
    """Drop the tags (not the text) nested deeper than ``limit``, so the rest of the page survives."""
    out: list[str] = []
    depth = 0
    last = 0
    for match in _TAG_RE.finditer(text):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or self_closing:
            continue
        if closing:
            drop = depth > limit
            depth = max(depth - 1, 0)
        else:
            depth += 1
            drop = depth > limit
        if drop:
            out.append(text[last:match.start()])
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def parse_html(text: str, base_url: str | None = None) -> Selector:
    """An HTML selector that survives NUL bytes, control characters and pathological nesting."""
    cleaned = _CONTROL_RE.sub("", text).strip()
    if not cleaned:
        cleaned = "<html></html>"
    root = _parse_root(cleaned, base_url)
    return Selector(root=root, type="html", base_url=base_url)


def _parse_root(text: str, base_url: str | None) -> Any:
    def parse(markup: str) -> tuple[Any, Any]:
        parser = lxml.html.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
        try:
            root = etree.fromstring(markup.encode("utf-8", errors="replace"), parser=parser, base_url=base_url)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            root = None
        return root, parser

    root, parser = parse(text)
    if any("Excessive depth" in entry.message for entry in parser.error_log):
        # First shorten runs of empty wrappers (keeps the page's structure); if still too deep,
        # drop the tags beyond the limit (keeps the text).
        root, parser = parse(_collapse_wrapper_runs(text))
        if any("Excessive depth" in entry.message for entry in parser.error_log):
            root, _ = parse(_flatten_deep_nesting(text))
    if root is None:
        root, _ = parse("<html></html>")
    return root


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """One header value from a plain dict, a Scrapy ``Headers`` or an ``email.message.Message``."""
    if not headers:
        return None
    value: Any = None
    getter = getattr(headers, "get", None)
    for key in (name, name.lower(), name.title(), name.encode(), name.lower().encode()):
        try:
            value = getter(key) if getter else None
        except (TypeError, KeyError):
            value = None
        if value is not None:
            break
    if value is None:
        for key, val in dict(headers).items():
            key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
            if key_text.lower() == name.lower():
                value = val
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return None if value is None else str(value)


class Page:
    """A page as fetched: URL, body bytes, headers; decoded and parsed lazily, exactly once.

    Subclasses name the kind of page they read (``CareerPage``...) and implement ``to_items``
    plus the navigation methods the page offers (``detail_links``, ``next_page``...).
    """

    source: ClassVar[str] = ""
    """Default ``source`` of the items (the built-in profile name); an instance may override it."""

    def __init__(
        self,
        url: str,
        body: bytes | str,
        headers: Mapping[str, Any] | None = None,
        encoding: str | None = None,
        *,
        source: str | None = None,
    ) -> None:
        self.url = url
        self.headers = headers or {}
        if isinstance(body, str):
            self._text: str | None = body
            self.body = body.encode("utf-8")
            self._encoding: str | None = "utf-8"
        else:
            self.body = bytes(body)
            self._text = None
            self._encoding = encoding
        self._explicit_encoding = encoding
        if source is not None:
            self.source = source  # type: ignore[misc]

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_response(cls: type[P], response: Any, *, source: str | None = None) -> P:
        """Build from a Scrapy ``Response`` (or anything with ``url``, ``body``, ``headers``)."""
        encoding = getattr(response, "_declared_encoding", lambda: None)()
        page = cls(response.url, response.body, headers=response.headers, encoding=encoding, source=source)
        text = getattr(response, "text", None)
        if isinstance(text, str):
            # Scrapy already decoded the body with the same rules; reuse its work.
            page._text = text
            page._encoding = getattr(response, "encoding", None) or page._encoding
        return page

    @classmethod
    def from_file(cls: type[P], path: str | Path, url: str | None = None, *, source: str | None = None) -> P:
        """Build from a saved HTML file; the URL defaults to its ``file://`` address."""
        file = Path(path)
        return cls(url or file.resolve().as_uri(), file.read_bytes(), source=source)

    def as_page(self, cls: type[P]) -> P:
        """The same fetched page read as another page class (shares the decoded text and tree)."""
        page = cls(self.url, self.body, self.headers, self._explicit_encoding, source=self.source)
        page._text, page._encoding = self._text, self._encoding
        if "selector" in self.__dict__:
            page.__dict__["selector"] = self.__dict__["selector"]
            page.__dict__["_queries"] = self.__dict__.setdefault("_queries", {})  # answers over the same tree
        return page

    # -- decoding and parsing -----------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if any."""
        return _header(self.headers, "Content-Type")

    def _decode(self) -> None:
        if self._text is None:
            if b"\x00" in self.body[:1024] and not self.body.startswith((b"\xff\xfe", b"\xfe\xff")):
                # UTF-16 without a BOM is vanishingly rare on the web; NULs up front mean binary.
                sample = self.body[:1024]
                if sample.count(b"\x00") > len(sample) // 4:
                    raise PageError("the content is binary, not text (NUL bytes in the first kilobyte)")
            self._encoding, self._text = decode_body(self.body, self.content_type, self._explicit_encoding)

    @property
    def text(self) -> str:
        """The body as Unicode."""
        self._decode()
        assert self._text is not None
        return self._text

    @property
    def encoding(self) -> str:
        """The encoding the body was read with."""
        self._decode()
        return self._encoding or "utf-8"

    @cached_property
    def selector(self) -> Selector:
        """The parsel selector over the whole document."""
        return parse_html(self.text, base_url=self.url)

    def css(self, query: str) -> SelectorList[Selector]:
        """CSS query over the document (each query evaluated once per page: the document never changes)."""
        return self._query("css", query)

    def xpath(self, query: str, **kwargs: Any) -> SelectorList[Selector]:
        """XPath query over the document (without variables, evaluated once per page)."""
        if kwargs:
            return self.selector.xpath(query, **kwargs)
        return self._query("xpath", query)

    def _query(self, how: str, query: str) -> SelectorList[Selector]:
        # Page classes ask the same whole-document questions more than once (page_for's routing, then
        # the item's fields: a College Navigator profile asked for its heading three times), and each
        # walks the whole tree. Callers only read the lists they get.
        memo: dict[tuple[str, str], SelectorList[Selector]] = self.__dict__.setdefault("_queries", {})
        found = memo.get((how, query))
        if found is None:
            found = memo[(how, query)] = self.selector.css(query) if how == "css" else self.selector.xpath(query)
        return found

    # -- helpers for subclasses ---------------------------------------------------------

    def urljoin(self, href: str | None) -> str | None:
        """Absolute URL of a link on this page, without its fragment; None for non-web links."""
        if not href:
            return None
        href = clean_text(href) or ""
        if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
            return None
        base = self.base_href or self.url
        joined = urldefrag(urljoin(base, href))[0]
        return joined if urlsplit(joined).scheme in ("http", "https", "file") else None

    @cached_property
    def base_href(self) -> str | None:
        """The document's ``<base href>``, resolved against the page URL."""
        href = self.selector.xpath("//base/@href").get()
        return urljoin(self.url, href.strip()) if href and href.strip() else None

    def canonical_url(self) -> str:
        """``<link rel="canonical">`` when the page declares one, else the page URL."""
        href = self.selector.xpath(
            "//link[translate(@rel, 'CANONICAL', 'canonical')='canonical']/@href").get()
        return self.urljoin(href) or self.url

    @staticmethod
    def text_of(node: Selector | SelectorList[Selector] | None) -> str | None:
        """Visible text of a node (scripts and styles skipped), whitespace collapsed.

        Inline markup joins without a space ("<em>insulators</em>," stays "insulators,"), block
        elements and ``<br>`` separate words.
        """
        if node is None:
            return None
        nodes = list(node) if isinstance(node, SelectorList) else [node]
        return clean_text(" ".join(visible_text(n.root) for n in nodes))

    @staticmethod
    def lines_of(node: Selector | None, skip: frozenset[str] | set[str] = frozenset(),
                 limit: int | None = None) -> list[str]:
        """Visible text of a node as lines: one per block element or ``<br>``, cleaned, blanks dropped."""
        if node is None:
            return []
        text = visible_text(node.root, block_sep="\n", skip=skip, limit=limit)
        return [line for line in (clean_text(x) for x in text.split("\n")) if line]

    @classmethod
    def paragraphs_of(cls, node: Selector | None, blocks: str = "p, li, h3, h4, dd, dt") -> str | None:
        """Text of a section as paragraphs separated by blank lines."""
        if node is None:
            return None
        return clean_multiline(cls.text_of(block) for block in node.css(blocks))

    def links(self, within: str | None = None) -> list[str]:
        """Every absolute link on the page (or inside the CSS selection), in order, without duplicates."""
        scope = self.css(within) if within else self.selector
        return unique(self.urljoin(href) for href in scope.xpath(".//a/@href").getall())

    def meta(self, name: str) -> str | None:
        """Content of ``<meta name=...>`` or ``<meta property=...>``."""
        value = self.xpath("//meta[@name=$n or @property=$n]/@content", n=name).get()
        return clean_text(value)

    # -- the page-object contract -------------------------------------------------------

    def to_items(self) -> list[Item]:
        """Every item this page yields (often one; a listing or a profile may yield several)."""
        return []

    def to_dicts(self, kind: str | None = None) -> list[dict[str, Any]]:
        """``to_items()`` as JSON-ready dicts (with ``kind``), optionally only one kind."""
        return [item.to_dict() for item in self.to_items() if kind is None or item.kind == kind]


def visible_text(element: Any, block_sep: str = " ", skip: frozenset[str] | set[str] = frozenset(),
                 limit: int | None = None) -> str:
    """Text a reader sees in an lxml element (iterative, so deep nesting cannot overflow the stack).

    Block elements and ``<br>`` are separated by ``block_sep``; elements named in ``skip``
    (e.g. nav, footer) are left out with their content; ``limit`` stops after about that many
    characters (heuristics over a 20 MB page need only its beginning).
    """
    if isinstance(element, str):
        return element
    tag = element.tag
    if limit is None and isinstance(tag, str) and len(element) == 0:
        # A leaf (most table cells and spans): what the walk below gives, without walking.
        name = tag.lower()
        if name in _HIDDEN or name in skip:
            return ""
        text = element.text or ""
        if block_sep != " ":
            text = _WHITESPACE_RE.sub(" ", text)
        return f"{block_sep}{text}{block_sep}" if name in _BLOCK else text
    hidden_tags = _HIDDEN | set(skip)
    # With a line separator, the source's own line breaks are just spaces (HTML whitespace).
    flatten = (lambda t: _WHITESPACE_RE.sub(" ", t)) if block_sep != " " else (lambda t: t)
    parts: list[str] = []
    hidden_depth = 0
    root = element
    size = 0
    for event, el in etree.iterwalk(element, events=("start", "end", "comment", "pi")):
        if limit is not None:
            size += len(parts[-1]) if parts else 0
            if size > limit:
                break
        if event in ("comment", "pi"):
            # Comments are reported once; their text is hidden but the text after them is not.
            if el is not root and el.tail and not hidden_depth:
                parts.append(flatten(el.tail))
            continue
        tag = el.tag if isinstance(el.tag, str) else None
        name = tag.lower() if tag else ""
        if event == "start":
            if tag is None or name in hidden_tags:
                hidden_depth += 1
                continue
            if hidden_depth:
                continue
            if name in _BLOCK:
                parts.append(block_sep)
            if el.text:
                parts.append(flatten(el.text))
        else:
            if tag is None or name in hidden_tags:
                hidden_depth -= 1
            elif not hidden_depth and name in _BLOCK:
                parts.append(block_sep)
            if el is not root and el.tail and not hidden_depth:
                parts.append(flatten(el.tail))
    return "".join(parts)


def unique(values: Iterable[str | None]) -> list[str]:
    """Non-empty values in first-seen order."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out
