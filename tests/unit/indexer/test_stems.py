"""``indexer.stems`` must give exactly what the index's stem analyzer gives (re-ranking relies on it)."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from indexer.schema import STEM_ANALYZER
from indexer.stems import stem_positions, stems

ROOT = Path(__file__).resolve().parents[3]


def whoosh_positions(text: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in STEM_ANALYZER(text, positions=True)]


def test_every_career_and_school_name_stems_alike():
    names = []
    for path in (ROOT / "sample_site" / "data").rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                names.extend(cell for cell in row[:4] if cell and not cell.isdigit())
        if len(names) > 30_000:
            break
    assert len(names) > 1_000
    for name in names:
        assert stem_positions(name) == whoosh_positions(name), name


@given(st.text(alphabet=st.sampled_from(list("abcéÉü .-'AND the of0123456789\u00e7\u0130_")), max_size=60))
def test_any_text_stems_alike(text):
    assert stem_positions(text) == whoosh_positions(text)
    assert stems(text) == tuple(t.text for t in STEM_ANALYZER(text))


def test_stop_words_leading_a_text_keep_whooshs_numbering():
    assert stem_positions("The University of the Arts") == whoosh_positions("The University of the Arts")
    assert stem_positions("The University of the Arts")[0][1] == 1


@given(st.text(alphabet=st.sampled_from(list("abcéÉü .-'AND the of0123456789\u00e7\u0130_")), max_size=80),
       st.sampled_from(["the", "a", "ab", "é", "of", "abc"]))
def test_the_highlighters_tokens_are_the_analyzers(text, term):
    from indexer.stems import stem_tokens

    for options in ({"chars": True, "mode": "query", "removestops": False}, {"chars": True}, {}):
        fast = [(t.text, t.stopped, getattr(t, "startchar", None), getattr(t, "endchar", None))
                for t in stem_tokens(text, **options)]
        chain = [(t.text, t.stopped, getattr(t, "startchar", None), getattr(t, "endchar", None))
                 for t in STEM_ANALYZER(text, **options)]
        assert fast == chain


def test_snippets_are_the_same_with_the_fast_tokens():
    from whoosh.highlight import ContextFragmenter, highlight

    from indexer.snippets import _MarkFormatter, snippet_html

    texts = []
    for path in sorted((ROOT / "sample_site" / "data").rglob("*.csv"))[:6]:
        texts.extend(path.read_text(encoding="utf-8").splitlines()[:300])
    marked = 0
    for i, text in enumerate(texts):
        terms = {s for s, _pos in stem_positions(text)[i % 3: i % 3 + 2]} | {"nurs", "the"}
        chain = highlight(text, terms, STEM_ANALYZER, ContextFragmenter(maxchars=240, surround=80), _MarkFormatter(),
                          top=2)
        assert snippet_html(text, terms) == (chain or snippet_html(text, set()))
        marked += "<mark>" in chain
    assert marked > 100
