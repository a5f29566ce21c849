"""The domain: item dataclasses, every vocabulary and the source registry.

``items`` the item dataclasses; ``vocab`` the values fields may hold and their labels, US states;
``wording`` the words that name degree levels, deliveries and statuses; ``accreditors`` the
accreditor table (``data/accreditors.csv``); ``sources`` the source registry.
Imports nothing of ours and no Scrapy; every other package may import it.
"""
