"""Spiders: navigation only (start URLs, pagination, detail links)."""
