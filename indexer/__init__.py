"""Whoosh index derived from the catalog, and the search function the web app calls.

- ``results``: the contract with the web app (``SearchResult``, ``Hit``, ``FacetValue``, ``SearchError``).
- ``search``: ``search()``, ``suggest()``, ``programs_for_career()`` and the per-process ``Searcher``,
  which runs the search stages in one direction:
  ``request``/``parse`` (parameters, query text) -> ``spelling`` (did you mean) -> ``plan`` (term
  clauses) -> ``match`` (masks; ``restrict`` for filters and radius, ``facets`` for counts) ->
  ``rank`` (BM25, re-ranking) -> ``paging`` (sort orders, the page) -> ``snippets`` (the hits).
  ``autocomplete`` and ``careers`` (a career's programs) are the Searcher's other two requests.
- ``build``: ``sync()`` from the catalog's change log, ``rebuild()`` with an atomic swap, ``optimize()``.
- ``schema``: every field and facet, declared once, and ``to_document()``.
- ``filters``: filter values; ``geo``: near-me locations; ``vocab``/``synonyms``: the query-side vocabulary in ``indexer/data`` (accreditors, states and degree words come from ``model``).
- ``engine``, ``snapshot`` and ``postings``: everything that knows Whoosh's files, searchers and postings.
"""
