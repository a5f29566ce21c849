"""Browser fixtures: the real app under gunicorn (``collegesearch serve``) over a catalog and index built from
hand-made items, and Debian's chromium driven by Playwright.

Without chromium the tests skip with a reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.webapp import webapp_testdata as testdata

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"




def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(str(Path(__file__).parent)):
            item.add_marker(pytest.mark.browser)
            # One server and one browser for the whole module: keep these tests on one xdist worker.
            item.add_marker(pytest.mark.xdist_group("browser"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerDidNotStart(RuntimeError):
    """``collegesearch serve`` exited or did not answer in time; the message holds its log."""


@contextlib.contextmanager
def serve_testdata(data: Path) -> Iterator[str]:
    """``collegesearch serve`` (gunicorn, 2 workers) on a free port over the hand-made catalog and its index built
    in ``data``; yields its base URL. Shared by the ``live_server`` fixture and ``tests.browser.screenshots``."""
    from catalog import Catalog
    from collegesearch.config import load_settings
    from indexer.build import rebuild

    settings = load_settings(env={}, config_file=None, overrides={"DATA_DIR": str(data)})
    with Catalog(settings.catalog_path) as cat:
        testdata.fill_catalog(cat)
    rebuild(settings)
    with serve_data(data) as base:
        yield base


@contextlib.contextmanager
def serve_data(data: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """``collegesearch serve`` (gunicorn, 2 workers) on a free port over whatever catalog and index ``data`` holds
    (a crawl's, say), with ``settings`` as extra environment; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLEGESEARCH_")}
    env.update({
        "COLLEGESEARCH_DATA_DIR": str(data),
        "COLLEGESEARCH_ADMIN_PASSWORD_HASH": testdata.ADMIN_HASH,
        "COLLEGESEARCH_REVIEW_RATE_LIMIT": "100",
        "COLLEGESEARCH_LOGIN_RATE_LIMIT": "100",
        # the whole session searches from 127.0.0.1; test_webapp_rate_limits covers these limits
        "COLLEGESEARCH_SEARCH_RATE_LIMIT": "",
        "COLLEGESEARCH_API_RATE_LIMIT": "",
        "COLLEGESEARCH_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **(settings or {}),
    })
    log_path = data.parent / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "collegesearch", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/static/css/app.css", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers: up (the tests will say what is wrong)
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise ServerDidNotStart("the web server did not start:\n" + log_path.read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, chromium_path):
    """``collegesearch serve`` (gunicorn, 2 workers) on a free port over a freshly built catalog and index."""
    try:
        with serve_testdata(tmp_path_factory.mktemp("browser") / "data") as base:
            yield base
    except ServerDidNotStart as exc:
        pytest.fail(str(exc))


class PageProblems:
    """Console errors, CSP violations, uncaught script errors, dialogs and failed assets seen by a page."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"uncaught script error: {exc}"))
        page.on("dialog", self._dialog)
        page.on("response", self._response)

    def _console(self, msg) -> None:
        # Non-2xx documents (404 pages, 422 forms) are logged by chromium as "Failed to load resource";
        # failed assets are caught by _response instead, so that message alone is not a problem.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.items.append(f"console error: {msg.text}")

    def _dialog(self, dialog) -> None:
        self.items.append(f"a dialog fired (injected script ran?): {dialog.message}")
        dialog.dismiss()

    def _response(self, response) -> None:
        if response.request.resource_type in ("stylesheet", "script", "image", "font", "fetch", "xhr") \
                and response.status >= 400:
            self.items.append(f"{response.request.resource_type} {response.url} answered {response.status}")


def _open(browser, base_url: str, **context_args):
    context = browser.new_context(base_url=base_url, **context_args)
    # Record CSP violations from inside the page too (the console already reports them; this is a second net).
    context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    return context, page, problems


def _checked_tab(browser, live_server, **context_args):
    """A tab in a fresh context; once the test is done, fails it on console errors, CSP violations or dialogs."""
    context, tab, problems = _open(browser, live_server, **context_args)
    tab.problems = problems
    yield tab
    csp = _csp_violations(tab)
    context.close()
    assert not problems.items + csp, "\n".join(problems.items + csp)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (desktop size); fails the test on console errors, CSP violations or dialogs."""
    yield from _checked_tab(browser, live_server, viewport={"width": 1280, "height": 900})


def _phone_tab(browser, live_server, width: int, height: int):
    """A touch tab of a phone's size, with the same checks as every tab."""
    yield from _checked_tab(browser, live_server, viewport={"width": width, "height": height},
                            device_scale_factor=2, is_mobile=True, has_touch=True)


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized tab (375 x 740, touch), with the same checks."""
    yield from _phone_tab(browser, live_server, 375, 740)


@pytest.fixture
def phone390(browser, live_server):
    """A 390 px wide phone tab (the width issue 18 checks: no sideways scroll), with the same checks."""
    yield from _phone_tab(browser, live_server, 390, 844)


def _csp_violations(tab) -> list[str]:
    try:
        return [f"CSP violation: {v}" for v in tab.evaluate("window.__csp || []")]
    except Exception:  # the page may be mid-navigation or closed; the console check still applies
        return []


def screenshot(tab, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def shoot():
    """Save a screenshot of a tab under test-artifacts/screenshots/<name>.png."""
    return screenshot


@pytest.fixture(scope="session")
def data():
    """The hand-made items' ids and helpers (tests/unit/webapp/webapp_testdata.py)."""
    return testdata


@contextlib.contextmanager
def serve_in_thread(settings):
    """The app for ``settings`` served in-process on a free loopback port; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    from webapp import create_app

    # Every test of a module drives one server from 127.0.0.1, autocomplete included: one client to the
    # search and API rate limits, which test_webapp_rate_limits covers; here they would only get in the way.
    app = create_app({"SETTINGS": settings.replace(SEARCH_RATE_LIMIT="", API_RATE_LIMIT="")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["collegesearch_search"].close()
