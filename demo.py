"""`collegesearch demo`: the main job on the bundled sample site (filled in as the parts land)."""

from __future__ import annotations

from collections.abc import Callable

from config import Settings


class DemoError(RuntimeError):
    """The demo cannot run; the message says what to fix."""


def run_demo(settings: Settings, *, port: int, site_port: int, serve: bool, echo: Callable[[str], None]) -> None:
    """Start the sample site, crawl it, index, and serve the web app."""
    raise DemoError("the demo needs the crawler, indexer and web app, which are not built yet")
