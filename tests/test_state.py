"""SearcherState: what is read once per searcher lives beside it, not on it,
and a reopened index brings a new state with the new documents in it."""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring

from search.analysis import stem
from search.engine import Engine
from search.indexer import update
from search.state import SearcherState
from search.store import IndexHome

from helpers import build_index, search_for, write_article


def walrus_archive(tmp_path):
    data, index = tmp_path / "data", tmp_path / "index"
    write_article(data, "2021/01/first.md", title="First walrus sighting", topics=["Walruses"],
                  published="2021-01-01T00:00:00Z", provider={"name": "Arctic Post", "domain": "arctic.test"},
                  body="A walrus was seen on the ice floe.")
    build_index(data, index)
    return data, index


def add_zeppelin(data):
    write_article(data, "2021/02/second.md", title="Walrus meets dirigible", topics=["Zeppelins"],
                  published="2021-02-01T00:00:00Z", provider={"name": "Sky Daily", "domain": "sky.test"},
                  body="The dirigible floated over the walrus colony.")


def facet_values(state: SearcherState, name: str) -> set[str]:
    everyone = range(state.searcher.doc_count_all())
    return {item["value"] for item in state.facets.count(everyone)[name]}


def test_an_updated_index_brings_a_new_state_with_the_new_document(tmp_path):
    data, index = walrus_archive(tmp_path)
    eng = Engine(index, recheck_seconds=0)
    try:
        before = eng.state()
        assert eng.state() is before  # nothing changed on disk: the same state
        assert before.vocabulary.count("walrus") == 2 and before.labels("topic") == ["Walruses"]
        add_zeppelin(data)
        update(data, eng.home)
        after = eng.state()
        assert after is not before and after.searcher is not before.searcher
        assert after.labels("topic") == ["Walruses", "Zeppelins"] and before.labels("topic") == ["Walruses"]
        assert facet_values(after, "topics") == {"Walruses", "Zeppelins"}
        assert facet_values(after, "providers") == {"Arctic Post", "Sky Daily"}
        assert facet_values(before, "topics") == {"Walruses"}
        assert after.vocabulary.count("dirigible") == 2 and before.vocabulary.count("dirigible") == 0
        assert eng.suggest("zep")[0] == {"text": "Zeppelins", "kind": "topic"}
    finally:
        eng.close()


def test_scores_equal_whoosh_bm25f_in_every_segment(tmp_path):
    data, index = walrus_archive(tmp_path)
    add_zeppelin(data)
    update(data, IndexHome(index))  # the update writes a second segment
    state = SearcherState.open(IndexHome(index).require_current())
    plain = whoosh_index.open_dir(str(state.generation)).searcher(weighting=scoring.BM25F())
    try:
        assert len(state.searcher.leaf_searchers()) == 2
        for word in ("walrus", "dirigible", "colony"):
            q = Q.Term("text", stem(word))
            ours = [(hit.docnum, hit.score) for hit in state.searcher.search(q, limit=None)]
            theirs = [(hit.docnum, pytest.approx(hit.score, rel=1e-12)) for hit in plain.search(q, limit=None)]
            assert ours and ours == theirs, word  # the same up to rounding (the sum is ordered differently)
    finally:
        plain.close()
        state.close()


def test_nothing_is_kept_on_whoosh_objects(engine):
    # Use every per-searcher value: facets, dates, labels, prefixes, vocabulary, story copies, norms.
    search_for(engine, "oil*", since="2000", topics=["Energy"])
    search_for(engine, "topic:ener* bank", since="2000")
    search_for(engine, "goverment oil")
    engine.suggest("ban")
    state = engine.state()
    assert state.labels("topic") and state.vocabulary.words and state.facets.published
    searcher = state.searcher
    for obj in [searcher, searcher.reader()] + [sub for sub, _ in searcher.leaf_searchers()] + \
            [sub.reader() for sub, _ in searcher.leaf_searchers()]:
        assert not any(k.startswith("_newsearch") for k in vars(obj)), obj


def test_a_state_opens_its_searcher_with_a_weighting_of_its_own(engine):
    first = SearcherState.open(engine.state().generation)
    second = SearcherState.open(engine.state().generation)
    try:
        assert first.searcher.weighting is first.weighting
        assert first.weighting is not second.weighting
    finally:
        first.close()
        second.close()
