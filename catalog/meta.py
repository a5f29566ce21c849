"""Small named values the catalog keeps for its users (e.g. a watermark)."""

from __future__ import annotations

from catalog.connection import CatalogConnection


class Meta(CatalogConnection):
    """The key/value ``meta`` table."""

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A small stored value (e.g. a watermark)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = :key", {"key": key}).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        """Store a small value."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                {"key": key, "value": value},
            )
