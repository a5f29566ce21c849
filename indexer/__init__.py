"""Whoosh index derived from the catalog, and the search function the web app calls."""
