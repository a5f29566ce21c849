"""A gate a test closes on part of the sample site, to hold a crawl exactly where the test needs it.

A test that must stop or kill a crawl half-way cannot race it: on a fast machine the crawl is
done before the signal lands. Instead the server is started with ``SAMPLE_SITE_GATE=FILE`` in its
environment and the test writes FILE (``GateFile``), a JSON object the server reads on every
request under the gate's path prefix:

- no file: the gate is open, every request is answered;
- ``{"prefix": P, "allow": N, "refuse": false}``: of the requests whose path starts with P, the
  first N since the server started are answered; later ones wait (raising N lets more through);
- ``"refuse": true``: requests past the allowance, those waiting and any later ones, are answered
  at once with 503 Service Unavailable. A crawl told to stop then ends its in-flight requests
  without waiting, and gets no more pages under P.

A waiting request is answered anyway after ``MAX_HOLD`` seconds, so a test that fails while
holding cannot hang the server.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GATE_ENV = "SAMPLE_SITE_GATE"
MAX_HOLD = 300.0
POLL = 0.05


class Gate:
    """The server's side: ``admit(path)`` waits while the gate holds the request, then says whether to answer it."""

    def __init__(self, path: str | os.PathLike[str], *, poll: float = POLL, max_hold: float = MAX_HOLD) -> None:
        self.path = Path(path)
        self.poll = poll
        self.max_hold = max_hold
        self._lock = threading.Lock()
        self._rule: dict[str, Any] | None = None
        self._passed = 0

    def _read(self) -> dict[str, Any] | None:
        """The rule in the file (None when there is none); a file that cannot be read keeps the last rule."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError:
            return self._rule
        try:
            rule = json.loads(text)
            rule["prefix"], rule["allow"] = str(rule["prefix"]), int(rule["allow"])
        except (ValueError, KeyError, TypeError):
            return self._rule
        return dict(rule)

    def admit(self, path: str) -> bool:
        """Wait while the gate holds a request for ``path``; True to answer it, False to refuse it (503)."""
        deadline = time.monotonic() + self.max_hold
        while True:
            rule = self._read()
            with self._lock:
                self._rule = rule
                if rule is None or not path.startswith(rule["prefix"]):
                    return True
                if self._passed < rule["allow"]:
                    self._passed += 1
                    return True
                if rule.get("refuse"):
                    return False
            if time.monotonic() > deadline:
                return True
            time.sleep(self.poll)


def gate_from_env(environ: Mapping[str, str] = os.environ) -> Gate | None:
    """The gate named by ``SAMPLE_SITE_GATE`` (None when the variable is not set)."""
    path = environ.get(GATE_ENV)
    return Gate(path) if path else None


class GateFile:
    """The test's side: writes the file the server's ``Gate`` reads (whole, never half-written)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._rule: dict[str, Any] | None = None

    def hold(self, prefix: str, allow: int) -> None:
        """Answer the first ``allow`` requests under ``prefix`` since the server started; later ones wait."""
        self._write({"prefix": prefix, "allow": allow, "refuse": False})

    def refuse(self) -> None:
        """Answer the requests past the allowance, waiting or still to come, with 503 at once."""
        if self._rule is not None:
            self._write({**self._rule, "refuse": True})

    def open(self) -> None:
        """Open the gate: every request is answered."""
        self._rule = None
        self.path.unlink(missing_ok=True)

    def _write(self, rule: dict[str, Any]) -> None:
        self._rule = rule
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(rule), encoding="utf-8")
        os.replace(tmp, self.path)
