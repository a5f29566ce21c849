"""Security headers, CSRF, CORS for the JSON API, client fingerprints and a rate limiter shared by workers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
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


class SessionRegistry:
    """Admin sessions that are still valid, kept in a small JSON file under DATA_DIR (shared by every worker).

    Flask's sessions live in a signed cookie: without a server-side list, a copied cookie would keep
    working after the admin logged out. Each login registers a random id; logout removes it.
    """

    def __init__(self, directory: Path, name: str = "admin_sessions") -> None:
        self.path = Path(directory) / f"{name}.json"
        self.lock = FileLock(str(self.path) + ".lock")

    def add(self, sid: str, lifetime_seconds: float, *, now: float | None = None) -> None:
        """Register a new session id until ``now + lifetime_seconds``."""
        now = time.time() if now is None else now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock.acquire(timeout=5):
            state = {k: v for k, v in self._read().items() if v > now}
            state[sid] = now + lifetime_seconds
            self._write(state)

    def is_live(self, sid: object, *, now: float | None = None) -> bool:
        """Whether the id was registered, not revoked and not expired."""
        if not isinstance(sid, str) or not sid:
            return False
        now = time.time() if now is None else now
        expires = self._read().get(sid)
        return expires is not None and expires > now

    def revoke(self, sid: object) -> None:
        """Forget a session id (logout)."""
        if not isinstance(sid, str):
            return
        try:
            with self.lock.acquire(timeout=5):
                state = self._read()
                if state.pop(sid, None) is not None:
                    self._write(state)
        except (Timeout, FileNotFoundError):
            pass

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}

    def _write(self, state: dict[str, float]) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.path)


class SharedRateLimiter:
    """``RateLimiter`` kept in the shared catalog database, for several web nodes (multi-node mode)."""

    def __init__(self, name: str, limit: int, window_seconds: int) -> None:
        self.name, self.limit, self.window = name, limit, window_seconds

    def hit(self, key: str, *, now: float | None = None) -> tuple[bool, int]:
        """Count one attempt by ``key``; returns (allowed, seconds until the next attempt is allowed)."""
        from webapp.db import get_writer

        now = time.time() if now is None else now
        return get_writer().rate_limit_hit(self.name, key, self.limit, self.window, now)


class SharedSessionRegistry:
    """``SessionRegistry`` kept in the shared catalog database, for several web nodes (multi-node mode)."""

    def add(self, sid: str, lifetime_seconds: float, *, now: float | None = None) -> None:
        """Register a new session id until ``now + lifetime_seconds``."""
        from webapp.db import get_writer

        now = time.time() if now is None else now
        get_writer().add_admin_session(sid, now + lifetime_seconds, now)

    def is_live(self, sid: object, *, now: float | None = None) -> bool:
        """Whether the id was registered, not revoked and not expired."""
        from webapp.db import get_catalog

        if not isinstance(sid, str) or not sid:
            return False
        return get_catalog().admin_session_live(sid, time.time() if now is None else now)

    def revoke(self, sid: object) -> None:
        """Forget a session id (logout)."""
        from webapp.db import get_writer

        if isinstance(sid, str):
            get_writer().revoke_admin_session(sid)
