"""Helpers for the sample-site tests: plain HTTP requests that keep headers, bodies and no redirects."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest


@dataclass
class Fetched:
    """One HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """Body decoded as the Content-Type charset says (UTF-8 by default)."""
        ctype = self.headers.get("content-type", "")
        charset = ctype.split("charset=", 1)[1].strip() if "charset=" in ctype else "utf-8"
        return self.body.decode(charset)


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 30.0) -> Fetched:
    """Request a URL without following redirects."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return Fetched(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


@pytest.fixture
def get():
    """The fetch helper as a fixture."""
    return fetch
