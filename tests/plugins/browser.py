"""Debian's chromium driven by Playwright: one browser per test process, shared by every suite that needs one.

Playwright's sync API keeps its event loop marked as running on the thread for as long as it is open, so a
second ``sync_playwright()`` in the same process fails: the browser tests and the security suite share this one.
Without chromium the tests skip with a reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, or skip (fail under CI=true) with a clear reason."""
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        reason = f"browser tests need chromium at {CHROMIUM} (Debian package `chromium`; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI=true, so this is a failure")
        pytest.skip(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - playwright is pinned
        pytest.fail(f"playwright is not installed: {exc}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """One chromium for the session."""
    from playwright.sync_api import expect, sync_playwright

    # A busy 2-core machine (other test workers, a cold index in a fresh gunicorn worker) can be slow;
    # waiting longer costs nothing when things are fast.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()
