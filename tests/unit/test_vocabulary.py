"""One vocabulary, two readers: every name the model knows normalises to the same value when the
crawler reads it from a page (crawler.processors) and when the index reads it from a filter
(indexer.filters), so a crawled value and a search filter cannot disagree."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import pytest

from crawler import processors
from indexer import filters, vocab
from model import items
from model import vocab as model_vocab
from model.accreditors import SCOPES, accreditor_key, accreditors
from model.wording import DEGREE_ABBREVIATIONS, DEGREE_WORDS, DELIVERY_WORDS, STATUS_WORDS

ACCREDITOR_NAMES = sorted({(name, acc.label) for acc in accreditors() for name in acc.names})
STATE_NAMES = sorted(
    {(code, code) for code in model_vocab.US_STATES}
    | {(name, code) for code, name in model_vocab.US_STATES.items()}
    | {(name.upper(), code) for code, name in model_vocab.US_STATES.items()}
    | set(model_vocab.STATE_NAME_VARIANTS.items())
)
DEGREE_NAMES = sorted({*DEGREE_ABBREVIATIONS.items(), *DEGREE_WORDS.items(), *((v, v) for v in model_vocab.DEGREE_LEVELS)})
DELIVERY_NAMES = sorted({*DELIVERY_WORDS.items(), *((v, v) for v in model_vocab.DELIVERIES)})
STATUS_NAMES = sorted({*STATUS_WORDS.items(), *((v, v) for v in model_vocab.ACCREDITATION_STATUSES)})


@pytest.mark.parametrize(("name", "label"), ACCREDITOR_NAMES)
def test_every_accreditor_name_reads_the_same_on_both_sides(name, label):
    assert processors.accreditor_label(name) == label
    assert processors.lookup_accreditor(name).label == label
    assert filters.normalize_value("accreditor", name) == label
    assert vocab.canonical_accreditor(name) == label


@pytest.mark.parametrize(("name", "code"), STATE_NAMES)
def test_every_state_name_reads_the_same_on_both_sides(name, code):
    assert processors.parse_state(name) == code
    assert filters.normalize_value("state", name) == code


@pytest.mark.parametrize(("word", "level"), DEGREE_NAMES)
def test_every_degree_word_reads_the_same_on_both_sides(word, level):
    assert processors.parse_degree_level(word) == level
    assert filters.normalize_value("degree_level", word) == level


@pytest.mark.parametrize(("word", "delivery"), DELIVERY_NAMES)
def test_every_delivery_word_reads_the_same_on_both_sides(word, delivery):
    assert processors.parse_delivery(word) == delivery
    assert filters.normalize_value("delivery", word) == delivery


@pytest.mark.parametrize(("word", "status"), STATUS_NAMES)
def test_every_status_word_reads_the_same_on_both_sides(word, status):
    assert processors.parse_accreditation(word).status == status
    assert filters.normalize_value("accreditation_status", word) == status


def test_accreditor_table_has_one_meaning_per_name():
    owners: dict[str, set[str]] = defaultdict(set)
    for acc in accreditors():
        assert acc.name and acc.scope in SCOPES
        for name in (acc.name, *acc.aliases):
            owners[accreditor_key(name)].add(acc.label)
    labels = [acc.label for acc in accreditors()]
    assert len(labels) == len(set(labels)), "labels are keys and must be unique"
    assert {key: found for key, found in owners.items() if len(found) > 1} == {}


def test_stored_names_are_the_tables_names():
    # What the crawler stores as accreditor_name is what facet labels show.
    acend = processors.lookup_accreditor("ACEND")
    assert acend.name == "Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition and Dietetics"
    assert vocab.accreditor_name("ACEND") == acend.name
    assert filters.facet_label("accreditor", "ACEND") == acend.name


def test_index_version_covers_the_shared_accreditor_table():
    from model.accreditors import DATA_FILE

    assert DATA_FILE in vocab.INDEX_TIME_FILES
    assert all(path.is_file() for path in vocab.INDEX_TIME_FILES)


def test_labels_cover_every_value():
    assert set(model_vocab.KIND_LABELS) == set(model_vocab.KIND_PLURALS) == set(model_vocab.KINDS)
    assert set(model_vocab.DEGREE_LABELS) == set(model_vocab.DEGREE_LEVELS)
    assert set(model_vocab.DELIVERY_LABELS) == set(model_vocab.DELIVERIES)
    assert set(model_vocab.STATUS_LABELS) == set(model_vocab.ACCREDITATION_STATUSES)


def test_vocabularies_stay_importable_from_model_items():
    for name in ("KINDS", "DEGREE_LEVELS", "ACCREDITATION_STATUSES", "DELIVERIES", "CONTROLS", "REVIEW_ORIGINS",
                 "LINK_STATUSES", "US_STATES"):
        assert getattr(items, name) is getattr(model_vocab, name)


def test_model_imports_nothing_of_ours():
    code = ("import sys, model.items, model.vocab, model.wording, model.accreditors, model.sources; "
            "ours = {'catalog', 'collegesearch', 'crawler', 'indexer', 'ops', 'webapp', 'scrapy'}; "
            "sys.exit(1 if ours & {m.split('.')[0] for m in sys.modules} else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
