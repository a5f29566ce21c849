"""Pytest fixtures that start the bundled sample site on a free port, in a subprocess.

Like Scrapy's ``MockServer``, the site runs as ``python -m sample_site --port 0 ...`` in a child
process that prints its base URL first; the parent reads it, then ``/sources.json``. Under
pytest-xdist every worker gets its own server.

Fixtures
--------
``sample_site`` (session): one server at epoch 1 with faults on and an access log. Attributes:
``base_url`` (portal, e.g. ``http://127.0.0.1:41234``), ``port``, ``epoch``, ``faults``,
``access_log`` (path), ``sources`` (parsed ``/sources.json``: source -> base_url, start_urls,
sitemap_urls, allowed_prefixes, default_crawl). Methods: ``url(source, path)``,
``restart(epoch=None, faults=None)`` (same port, so crawled URLs stay valid), ``at(epoch, faults)``
(context manager that restores the previous state), ``access_records(since=0)``, ``log_mark()``,
``stop()``. A test that restarts the shared server must restore it (use ``at``), or use:

``fresh_sample_site`` (function): a factory ``fresh_sample_site(epoch=1, faults=True,
host="127.0.0.1", port=0, gate=False, scale=1)`` returning a private server, stopped after the test
(``scale`` N serves N times the programs and reviews: ``sample_site.scale``).
With ``gate=True`` its ``gate`` (a ``sample_site.gate.GateFile``) holds requests where the test
says: ``gate.hold(prefix, allow)``, ``gate.refuse()``, ``gate.open()``.

Pages (multi-host layout; every source on its own loopback host, same port P)
-----------------------------------------------------------------------------
- ``http://127.0.0.1:P/`` portal index, ``/sources.json``, ``/robots.txt``.
- careers ``bls_ooh`` on 127.0.0.2: ``/ooh/`` (home), ``/ooh/a-z/index.htm`` (the real A-Z index;
  ``/ooh/a-z-index.htm`` 301s there), ``/ooh/<group>/home.htm`` (25 groups),
  ``/ooh/<group>/<slug>.htm`` (342 occupations: 40 saved real pages + 302 generated, half in the raw
  pre-JavaScript form), ``/ooh/ooh-site-map.htm``, ``/ooh/about/ooh-faqs.htm``,
  ``/ooh/how-to-find-a-job/home.htm``, ``/ooh/occupation-finder.htm?...`` (endless faceted trap,
  robots-disallowed), old slugs 301 (e.g. ``/ooh/healthcare/registered-nurse.htm``).
- College Navigator ``collegenavigator`` on 127.0.0.3: ``/collegenavigator/`` (states),
  ``/collegenavigator/?s=AL[&pg=N]`` (15 results per page), ``/collegenavigator/?id=UNITID``
  (profiles of the 6,163 IPEDS institutions: 6,160 at epoch 1, 3 new units appear at epoch 2, real
  2023 closures vanish from epoch 2), sort (``of=``) and favorites (``fv=``) links are disallowed.
- accreditor directory ``directory`` on 127.0.0.4: ``/cahiim/``, ``/cahiim/program-directory``
  (``?state=&degree=&delivery=&page=``, 20 per page), ``/cahiim/program-directory/program/<id>``
  (245 CAHIIM programs at epoch 1), ``/cahiim/programs/<id>`` 301s to the detail page.
- reviews ``reviews`` on 127.0.0.5: ``/reviews/colleges/[?page=N]`` (A-Z index, 50 per page),
  ``/reviews/colleges/<slug>/reviews/[?page=N]`` (20 per page, oldest first; JSON-LD on ~30% of
  schools), ``/api/entity-reviews/?e=<entity id>&page=N&limit=20``, ``/reviews/c/<entity id>``
  301s to the school; ``/reviews/events/calendar/YYYY/MM/`` is an endless calendar (robots-disallowed).
- adversarial ``adversarial`` on 127.0.0.6: ``/adversarial/`` and the hostile pages it links.
- every host: ``/robots.txt``, ``/sitemap.xml`` (sitemap index of that host's sitemaps).

Faults (on by default): links to a few missing pages (404), a page that answers 503 once then 200,
one slow page (~2.5 s), one malformed profile, one profile in ISO-8859-1, old-slug redirects and
duplicate links with ``utm_*``/``sessionid`` parameters; ``sample_site.truth.fault_urls()`` says where.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sample_site.gate import GATE_ENV, GateFile

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0


class SampleSiteProcess:
    """A sample site served by a child process."""

    def __init__(self, workdir: Path, *, epoch: int = 1, faults: bool = True, host: str = "127.0.0.1", port: int = 0,
                 gate: bool = False, scale: int = 1, stale_lastmod: bool = False) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.epoch = epoch
        self.faults = faults
        self.scale = scale
        self.stale_lastmod = stale_lastmod
        """Serve sitemaps whose lastmod stays at the first epoch's date (``--stale-lastmod``)."""
        self.host = host
        self.port = port
        self.access_log = str(workdir / "access.log")
        self.base_url = ""
        self.sources: dict[str, dict] = {}
        self.proc: subprocess.Popen[str] | None = None
        self.gate = GateFile(workdir / "gate.json") if gate else None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SampleSiteProcess:
        """Start the child and wait until it announces its URL and answers."""
        cmd = [sys.executable, "-m", "sample_site", "--host", self.host, "--port", str(self.port),
               "--epoch", str(self.epoch), "--access-log", self.access_log]
        if not self.faults:
            cmd.append("--no-faults")
        if self.scale != 1:
            cmd += ["--scale", str(self.scale)]
        if self.stale_lastmod:
            cmd.append("--stale-lastmod")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        if self.gate is not None:
            env[GATE_ENV] = str(self.gate.path)
        stderr = open(self.workdir / "stderr.log", "a")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        stderr.close()
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline().strip()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith("http://"):
            err = (self.workdir / "stderr.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"sample site did not start (first line {line!r}); stderr:\n{err}")
        self.base_url = line
        self.port = int(line.rsplit(":", 1)[1])
        with urllib.request.urlopen(self.base_url + "/sources.json", timeout=30) as resp:
            data = json.load(resp)
        self.sources = data["sources"]
        return self

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def restart(self, epoch: int | None = None, faults: bool | None = None) -> SampleSiteProcess:
        """Restart on the same port, optionally at another epoch or fault setting."""
        self.stop()
        if epoch is not None:
            self.epoch = epoch
        if faults is not None:
            self.faults = faults
        last: Exception | None = None
        for _ in range(20):  # the old sockets may take a moment to be released
            try:
                return self.start()
            except RuntimeError as exc:
                last = exc
                time.sleep(0.5)
        raise RuntimeError(f"could not restart the sample site on port {self.port}: {last}")

    @contextlib.contextmanager
    def at(self, epoch: int = 1, faults: bool | None = None) -> Iterator[SampleSiteProcess]:
        """Temporarily serve another epoch / fault setting, then restore the previous one."""
        before = (self.epoch, self.faults)
        self.restart(epoch=epoch, faults=self.faults if faults is None else faults)
        try:
            yield self
        finally:
            if (self.epoch, self.faults) != before:
                self.restart(epoch=before[0], faults=before[1])

    # -- helpers ---------------------------------------------------------------------------
    def url(self, source: str, path: str) -> str:
        """Absolute URL of a path on a source's host ('portal' for the portal)."""
        base = self.base_url if source == "portal" else self.sources[source]["base_url"]
        return base + path

    @property
    def base_urls(self) -> dict[str, str]:
        """source (and 'portal') -> base URL, for ``sample_site.truth.expected_items(base_urls=...)``."""
        return {"portal": self.base_url, **{s: v["base_url"] for s, v in self.sources.items()}}

    def log_mark(self) -> int:
        """Number of access-log lines so far (pass to access_records to see only what follows)."""
        try:
            with open(self.access_log, encoding="utf-8") as fh:
                return sum(1 for _ in fh)
        except FileNotFoundError:
            return 0

    def access_records(self, since: int = 0) -> list[dict]:
        """Parsed access-log records (time, client, host, method, path, status, user_agent, duration, bytes)."""
        try:
            with open(self.access_log, encoding="utf-8") as fh:
                lines = fh.readlines()[since:]
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleSiteProcess]:
    """The shared sample site (epoch 1, faults on) of this test session / xdist worker."""
    site = SampleSiteProcess(tmp_path_factory.mktemp("sample_site")).start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def fresh_sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Factory for private sample sites: fresh_sample_site(epoch=1, faults=True, host="127.0.0.1", port=0, gate=False, scale=1)."""
    started: list[SampleSiteProcess] = []

    def make(epoch: int = 1, faults: bool = True, host: str = "127.0.0.1", port: int = 0,
             gate: bool = False, scale: int = 1) -> SampleSiteProcess:
        site = SampleSiteProcess(tmp_path_factory.mktemp("fresh_sample_site"), epoch=epoch, faults=faults, host=host,
                                 port=port, gate=gate, scale=scale)
        started.append(site)
        return site.start()

    try:
        yield make
    finally:
        for site in started:
            site.stop()
