"""Scrapy project: spiders navigate, page modules extract, pipelines store into the catalog."""
