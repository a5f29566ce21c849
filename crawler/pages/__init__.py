"""Page modules: all extraction, one module per source, usable without the Scrapy engine."""
