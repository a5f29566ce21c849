"""The domain: item dataclasses, every vocabulary and the source registry.

Imports nothing of ours and no Scrapy; every other package may import it.
"""
