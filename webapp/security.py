"""Security headers, CSRF, CORS for the JSON API, client fingerprints and a rate limiter shared by workers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from filelock import FileLock, Timeout
from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

# No inline script or style anywhere: every page works under this policy (a browser test checks it).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
}


def init_app(app: Flask) -> None:
    """Turn on CSRF for every form and add the headers to every response."""
    csrf.init_app(app)
    app.after_request(add_security_headers)
    app.after_request(add_cors_headers)


def add_security_headers(response: Response) -> Response:
    """Headers every response carries; pages with forms or admin data are never stored by caches."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SECURE_COOKIES"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.blueprint == "admin" or request.method == "POST":
        response.headers["Cache-Control"] = "no-store"
    elif request.endpoint == "reviews.write":
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _is_api_request() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def add_cors_headers(response: Response) -> Response:
    """CORS is off unless CORS_ORIGINS lists the calling origin (or ``*``); only GET is ever allowed."""
    if not _is_api_request():
        return response
    allowed = tuple(current_app.config.get("CORS_ORIGINS") or ())
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    if origin and allowed and ("*" in allowed or origin in allowed):
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "3600"
    return response


def client_hash(scope: str = "") -> str:
    """A keyed hash of the client's address: enough to rate-limit, useless to anyone who reads the catalog."""
    address = request.remote_addr or "unknown"
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, f"{scope}|{address}".encode(), hashlib.sha256).hexdigest()[:32]


class RateLimiter:
    """A sliding-window counter kept in a small JSON file under DATA_DIR, so every gunicorn worker shares it."""

    def __init__(self, directory: Path, name: str, limit: int, window_seconds: int) -> None:
        self.path = Path(directory) / f"{name}.json"
        self.lock = FileLock(str(self.path) + ".lock")
        self.limit = limit
        self.window = window_seconds

    def hit(self, key: str, *, now: float | None = None) -> tuple[bool, int]:
        """Count one attempt by ``key``; returns (allowed, seconds until the next attempt is allowed)."""
        now = time.time() if now is None else now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.lock.acquire(timeout=5):
                state = self._read()
                cutoff = now - self.window
                # Drop what fell out of the window for everyone, so the file stays small.
                state = {k: [t for t in v if t > cutoff] for k, v in state.items()}
                state = {k: v for k, v in state.items() if v}
                attempts = state.get(key, [])
                if len(attempts) >= self.limit:
                    retry = int(attempts[0] + self.window - now) + 1
                    self._write(state)
                    return False, max(retry, 1)
                attempts.append(now)
                state[key] = attempts
                self._write(state)
                return True, 0
        except Timeout:
            # Failing closed would lock the admin out because of a stuck lock file; fail open but slow.
            time.sleep(1)
            return True, 0

    def _read(self) -> dict[str, list[float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): [float(t) for t in v if isinstance(t, (int, float))] for k, v in data.items()
                if isinstance(v, list)}

    def _write(self, state: dict[str, list[float]]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.path)
