"""The spider for sites added as a profile (SITES_FILE) and for the sample site's adversarial area.

A profile gives start URLs (and sitemaps), allowed hosts, follow/deny link rules, a page budget
and a depth limit; its ``type`` names the page module that extracts (``generic`` reads
schema.org data and plain-text career pages). Navigation is only this: follow the links the
profile's rules accept, no deeper than ``max_depth``, stop following after ``max_pages`` pages
(such a run is recorded as incomplete, so nothing is tombstoned on a partial view).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import TextResponse

from crawler.profiles import PAGE_MODULES
from crawler.spiders.base import CatalogSpider, sitemap_meta
from crawler.urls import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.profiles import SiteProfile
    from crawler.sitemaps import SitemapEntry


class GenericSpider(CatalogSpider):
    """Crawl one site profile with its link rules and page module."""

    name = "generic"

    def __init__(self, *args: Any, profile: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile_arg = profile or "generic"
        self.profile: SiteProfile | None = None
        self.source = self.profile_arg if isinstance(self.profile_arg, str) else self.profile_arg.name  # type: ignore[misc]
        self.pages_seen = 0
        self.incomplete_reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> GenericSpider:
        """Build the spider and resolve its profile (from SITES_FILE, built-ins, or the sample site)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, GenericSpider)
        spider._resolve_profile(crawler)
        return spider

    def needs_sample_site(self) -> bool:
        """Only the sample site's own areas (e.g. ``adversarial``) are looked up there."""
        from crawler.sources import SAMPLE_ONLY_SOURCES

        return self.source in SAMPLE_ONLY_SOURCES

    def _resolve_profile(self, crawler: Crawler) -> None:
        from crawler.profiles import ProfileError, SiteProfile, generic_profile, get_profile

        if isinstance(self.profile_arg, SiteProfile):
            self.profile = self.profile_arg
        elif self.source_info is not None:
            # A sample-site area: generic extraction over whatever its start pages link to.
            info = self.source_info
            base = generic_profile(self.source)
            self.profile = SiteProfile(
                name=self.source, type=base.type, start_urls=tuple(info.get("start_urls") or ()),
                sitemap_urls=tuple(info.get("sitemap_urls") or ()), allowed_hosts=tuple(self.allowed_domains),
                max_pages=base.max_pages, max_depth=base.max_depth, description="sample-site area",
            )
        else:
            try:
                self.profile = get_profile(self.source, crawler.settings.get("COLLEGESEARCH_CONFIG"))
            except ProfileError as exc:
                self.fatal_error = str(exc)
                return
        if self.profile.allowed_hosts:
            self.allowed_domains = list(self.profile.allowed_hosts)

    def start_urls_of(self) -> list[str]:
        """The profile's start URLs."""
        return list(self.profile.start_urls) if self.profile else []

    def sitemap_urls_of(self) -> list[str]:
        """The profile's sitemaps."""
        return list(self.profile.sitemap_urls) if self.profile else []

    def start_requests_for(self, start_urls: list[str], sitemap_urls: list[str]) -> Iterable[Request]:
        """Start pages, then sitemaps."""
        if self.profile is not None and not start_urls and not sitemap_urls:
            self.fatal_error = f"profile {self.profile.name} has no start_urls"
        yield from super().start_requests_for(start_urls, sitemap_urls)

    def parse(self, response: Response, **kwargs: Any) -> Any:
        """Items of the page (kinds the profile keeps), then the links its rules accept."""
        profile = self.profile
        if profile is None or not isinstance(response, TextResponse):
            return
        self.pages_seen += 1
        page = self.safely(lambda: self.page_for(profile, response), None, response, "the page")
        if page is None:
            return
        for item in self.items_of(page, response):
            if profile.wants(item.kind):
                item.source = self.source
                yield item
        depth = int(response.meta.get("depth", 0))
        if depth >= profile.max_depth:
            return
        if self.pages_seen >= profile.max_pages:
            if self.incomplete_reason is None:
                self.incomplete_reason = f"stopped following links after max_pages={profile.max_pages}"
                self.logger.warning("%s: %s", self.source, self.incomplete_reason)
            return
        # The profile's rules judge canonical URLs: "?utm_source=x&id=3" is the page "?id=3".
        for url in self.safely(page.links, [], response, "links"):
            canonical = canonical_url(url)
            if profile.should_follow(canonical):
                yield from self.follow(canonical)

    def page_for(self, profile: SiteProfile, response: TextResponse) -> Any:
        """The page object for a response: by the area's path prefixes when the sample site names
        them (``page_kinds``: its adversarial pages copy the real sources' structures), else the
        profile's page module."""
        kinds = (self.source_info or {}).get("page_kinds") or {}
        path = urlsplit(response.url).path
        for kind, prefix in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            if path.startswith(prefix):
                module = "reviews" if kind == "reviews_api" else kind
                if module in PAGE_MODULES:
                    # The page module's own namespace for ids ("reviews:<id>": these pages imitate
                    # that site); the items still belong to this source (set in parse).
                    page_module = importlib.import_module(f"crawler.pages.{module}")
                    return page_module.page_for(response.url, response.text, response.headers)
        return profile.page_for(response.url, response.text, response.headers)

    def follow_from_sitemap(self, entry: SitemapEntry) -> list[Request]:
        """A page the sitemap lists, when the profile's rules accept it (nested sitemaps are always read)."""
        if self.profile is None or not self.profile.should_follow(entry.loc):
            return []
        return self.follow(entry.loc, meta=sitemap_meta(entry))
