"""Pytest fixtures that start the bundled sample site on free loopback ports (filled in with the sample site)."""
