"""Placeholder: the adversarial area (filled in last)."""

from __future__ import annotations

from sample_site.core import Body, Ctx, Page, Redirect
from sample_site.epochs import EpochState

SOURCE = "adversarial"
PREFIXES = ("/adversarial",)
DISALLOW: list[str] = []


def resolve(path: str, params: dict[str, str]) -> Page | Redirect | None:
    """Map a request to an adversarial page."""
    if path == "/adversarial/":
        return Page(SOURCE, "index", (), path)
    return None


def pages(st: EpochState) -> list[Page]:
    """Adversarial pages are not part of the crawl universe compared across epochs."""
    return [Page(SOURCE, "index", (), "/adversarial/")]


def sitemap_pages(st: EpochState) -> list[Page]:
    """Pages listed in the adversarial sitemap."""
    return pages(st)


def model(page: Page, st: EpochState) -> object | None:
    """Adversarial pages never change."""
    return (page.kind, page.args)


def render(page: Page, m: object, ctx: Ctx) -> Body:
    """Render an adversarial page."""
    return Body(b"<!DOCTYPE html><html><body><h1>Adversarial area</h1></body></html>")
