"""State the web nodes share in multi-node mode: login attempts per client, live admin sessions, the signing key.

One machine keeps these in small files under DATA_DIR (``webapp/security.py``); several web
nodes behind a load balancer must see the same ones, so with a PostgreSQL catalog they live in
its database. The same statements run on SQLite (the tests use both).
"""

from __future__ import annotations

import secrets
import zlib

from catalog.meta import Meta

SECRET_KEY_META = "web_secret_key"


class WebState(Meta):
    """Rate-limit counters, admin sessions and the shared signing key."""

    def rate_limit_hit(self, scope: str, client: str, limit: int, window_seconds: float,
                       now: float) -> tuple[bool, int]:
        """Count one attempt by ``client``; returns (allowed, seconds until the next attempt is allowed)."""
        with self.transaction():
            if self.conn.postgres:
                # Attempts of one client are counted one at a time on every node (SQLite's writer lock does it there).
                self.conn.execute("SELECT pg_advisory_xact_lock(:key)",
                                  {"key": zlib.crc32(f"{scope}|{client}".encode())})
            cutoff = now - window_seconds
            self.conn.execute("DELETE FROM rate_limit_hits WHERE scope = :scope AND at <= :cutoff",
                              {"scope": scope, "cutoff": cutoff})
            row = self.conn.execute(
                "SELECT COUNT(*), MIN(at) FROM rate_limit_hits WHERE scope = :scope AND client = :client",
                {"scope": scope, "client": client}).fetchone()
            count, first = (int(row[0]), row[1]) if row else (0, None)
            if count >= limit and first is not None:
                return False, max(int(first + window_seconds - now) + 1, 1)
            self.conn.execute("INSERT INTO rate_limit_hits (scope, client, at) VALUES (:scope, :client, :at)",
                              {"scope": scope, "client": client, "at": now})
            return True, 0

    def add_admin_session(self, sid: str, expires_at: float, now: float) -> None:
        """Register a live admin session (and forget expired ones)."""
        with self.transaction():
            self.conn.execute("DELETE FROM admin_sessions WHERE expires_at <= :now", {"now": now})
            self.conn.execute("INSERT INTO admin_sessions (sid, expires_at) VALUES (:sid, :expires_at)"
                              " ON CONFLICT (sid) DO UPDATE SET expires_at = excluded.expires_at",
                              {"sid": sid, "expires_at": expires_at})

    def admin_session_live(self, sid: str, now: float) -> bool:
        """Whether a session id was registered, not revoked and not expired."""
        row = self.conn.execute("SELECT expires_at FROM admin_sessions WHERE sid = :sid", {"sid": sid}).fetchone()
        return row is not None and float(row[0]) > now

    def revoke_admin_session(self, sid: str) -> None:
        """Forget a session id (logout)."""
        with self.transaction():
            self.conn.execute("DELETE FROM admin_sessions WHERE sid = :sid", {"sid": sid})

    def shared_secret_key(self) -> str:
        """The key every web node signs sessions with: made once, by whichever node asks first."""
        with self.transaction():
            self.conn.execute("INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO NOTHING",
                              {"key": SECRET_KEY_META, "value": secrets.token_hex(32)})
            return str(self.get_meta(SECRET_KEY_META))
