"""Web app unit tests: the shared fixtures (tests/plugins/webapp.py), and every test fails on an unhandled error."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_unhandled_errors(no_unhandled_errors: pytest.LogCaptureFixture) -> None:
    """A 500 from our own bug must fail the test that caused it, not hide behind the friendly page."""
