"""SearcherState: what is read once per searcher lives beside it, not on it,
and a reopened index brings a new state with the new documents in it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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


def _in_thread(call):
    found = []
    worker = threading.Thread(target=lambda: found.append(call()))
    worker.start()
    worker.join()
    return found[0]


def test_each_thread_searches_with_a_searcher_of_its_own_sharing_the_state(tmp_path):
    data, index = walrus_archive(tmp_path)
    add_zeppelin(data)
    update(data, IndexHome(index))  # two segments
    eng = Engine(index, recheck_seconds=60)
    try:
        mine = eng.state()
        theirs = _in_thread(eng.state)
        assert theirs.searcher is not mine.searcher and theirs.state is mine.state
        assert theirs.facets is mine.facets and theirs.vocabulary is mine.vocabulary
        assert theirs.labels("topic") == mine.labels("topic") == ["Walruses", "Zeppelins"]
        pairs = zip(mine.searcher.leaf_searchers(), theirs.searcher.leaf_searchers())
        for (my_sub, _), (their_sub, _) in pairs:
            assert their_sub.reader() is not my_sub.reader()
            assert (theirs.weighting.norm_array(their_sub, "text", 1.0)
                    is mine.weighting.norm_array(my_sub, "text", 1.0))  # computed once, shared
    finally:
        eng.close()


def test_threads_searching_at_once_get_what_one_thread_gets(tmp_path):
    data, index = walrus_archive(tmp_path)
    add_zeppelin(data)
    update(data, IndexHome(index))
    eng = Engine(index, recheck_seconds=60)
    queries = ["walrus", "dirigible colony", "walrus OR ice", "floe*", '"walrus colony"', "topic:zeppelins walrus"]

    def answers():
        return [[(hit.id, hit.score) for hit in search_for(eng, q).hits] for q in queries]

    try:
        alone = answers()
        assert all(alone[:2])
        start = threading.Barrier(6)

        def together():
            start.wait()
            return [answers() for _ in range(20)]

        with ThreadPoolExecutor(6) as pool:
            runs = [run for batch in pool.map(lambda _: together(), range(6)) for run in batch]
        assert all(run == alone for run in runs)
    finally:
        eng.close()


def test_a_thread_closes_its_own_searcher_when_the_index_changes(tmp_path):
    data, index = walrus_archive(tmp_path)
    eng = Engine(index, recheck_seconds=0)
    try:
        eng.state()  # this thread lends the state's own searcher
        worker_lanes = []
        ready, go = threading.Event(), threading.Event()

        def worker():
            worker_lanes.append(eng.state())
            ready.set()
            go.wait()
            worker_lanes.append(eng.state())

        thread = threading.Thread(target=worker)
        thread.start()
        ready.wait()
        add_zeppelin(data)
        update(data, eng.home)
        go.set()
        thread.join()
        old, new = worker_lanes
        assert old.searcher.is_closed and not new.searcher.is_closed
        assert new.vocabulary.count("dirigible") == 2
    finally:
        eng.close()
