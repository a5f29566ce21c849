"""``AppConfigError``, in a module of its own so the parts of the app that raise it need not import the package."""

from __future__ import annotations


class AppConfigError(RuntimeError):
    """The app cannot start with these settings; the message says what to fix."""
