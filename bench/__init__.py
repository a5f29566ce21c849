"""Benchmarks: crawl, index, search and serving measured against baselines in the same run (see README.md)."""
