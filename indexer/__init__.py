"""Whoosh index derived from the catalog, and the search function the web app calls.

- ``results``: the contract with the web app (``SearchResult``, ``Hit``, ``FacetValue``, ``SearchError``).
- ``search``: ``search()``, ``suggest()``, ``programs_for_career()`` and the per-process ``Searcher``.
- ``build``: ``sync()`` from the catalog's change log, ``rebuild()`` with an atomic swap, ``optimize()``.
- ``schema``: every field and facet, declared once, and ``to_document()``.
- ``query``: the forgiving query parser and the relevance features; ``filters``: filter values;
  ``geo``: near-me locations; ``vocab``/``synonyms``: the vocabulary in ``indexer/data``.
- ``engine`` and ``scoring``: everything that knows Whoosh's files and postings.
"""
