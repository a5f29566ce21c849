"""The admin password hash (``COLLEGESEARCH_ADMIN_PASSWORD_HASH``), made by ``collegesearch hash-password``.

It lives below the web app so the CLI can make a hash without importing ``webapp``; the web app's
``flask hash-password`` and its login check use the same rules.
"""

from __future__ import annotations

from werkzeug.security import generate_password_hash

MIN_PASSWORD_CHARS = 12


def make_password_hash(password: str) -> str:
    """A Werkzeug (scrypt) hash of the admin password; ``ValueError`` for one shorter than 12 characters."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"use at least {MIN_PASSWORD_CHARS} characters for the admin password")
    return generate_password_hash(password)
