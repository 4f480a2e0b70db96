"""Ranking: ``NewsBM25`` gives exactly Whoosh's BM25F scores, document by document.

The engine multiplies scores by priors (recency, quality, heat), so these
tests compare raw Whoosh searcher scores with each weighting, for queries
read by the engine's own parser.
"""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh import scoring

from search.indexer import IndexHome, update
from search.querying import parse
from search.ranking import NewsBM25
from search.state import SearcherState

from helpers import ARTICLES, build_index, write_archive, write_article

QUERIES = [
    "oil",  # one word
    "harbor",  # one word, ten articles
    "bank rates",  # several words, all required
    "tourists lake zeppelin",
    "zeppelin OR airship",
    '"interest rates"',  # a phrase
    '"harbor report" alpha',  # a phrase beside a word
    "title:bank",  # a word in the title only
]


def scores(ix, query, weighting) -> dict[int, float]:
    with ix.searcher(weighting=weighting) as searcher:
        return {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}


def assert_same_scores(index_folder, text: str) -> None:
    news = NewsBM25()
    generation = IndexHome(index_folder).current()
    ix = whoosh_index.open_dir(str(generation))
    state = SearcherState.open(generation)
    try:
        query = parse(text, state).query
        theirs = scores(ix, query, scoring.BM25F(B=news.B, K1=news.K1))
        ours = scores(ix, query, news)
    finally:
        state.close()
        ix.close()
    assert theirs, f"{text!r} matches nothing: nothing to compare"
    assert ours == pytest.approx(theirs, rel=1e-12, abs=0)


@pytest.mark.parametrize("text", QUERIES)
def test_news_bm25_scores_equal_whoosh_bm25f(archive, text):
    assert_same_scores(archive[1], text)


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory):
    """An index of ``ARTICLES`` and, from an update, a second segment with one more article."""
    root = tmp_path_factory.mktemp("segments")
    data = write_archive(root / "data")
    build_index(data, root / "index")
    write_article(data, "2024/01/harbor-kilo.md", title="Harbor report kilo", published="2024-01-01T00:00:00Z",
                  excerpt="Weekly harbor traffic, with bank rates, oil and interest rates on the lake.")
    report = update(data, IndexHome(root / "index"))
    assert report.indexed == 1 and report.documents == len(ARTICLES) + 1
    ix = whoosh_index.open_dir(str(IndexHome(root / "index").current()))
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 2
    ix.close()
    return root / "index"


@pytest.mark.parametrize("text", QUERIES)
def test_news_bm25_scores_equal_whoosh_bm25f_across_segments(two_segments, text):
    # The length norms are kept per segment, each against the whole index's average length.
    assert_same_scores(two_segments, text)


def test_frequent_words_read_from_term_arrays_score_exactly_as_from_their_blocks(tmp_path, monkeypatch):
    import numpy as np
    from whoosh.query import Term

    from search import termarrays
    from search.ranking import term_scores

    monkeypatch.setattr(termarrays, "FREQUENT", 2)
    build_index(write_archive(tmp_path / "data"), tmp_path / "index")
    generation = IndexHome(tmp_path / "index").current()
    assert (generation / termarrays.FOLDER).is_dir()
    state = SearcherState.open(generation)
    ix = whoosh_index.open_dir(str(generation))
    compared = 0
    try:
        with ix.searcher(weighting=NewsBM25()) as plain:  # no term arrays: every posting list read from blocks
            for (ours, _), (theirs, _) in zip(state.searcher.leaf_searchers(), plain.leaf_searchers()):
                for word, info in ours.reader().iter_field("text"):
                    matcher = Term("text", word).matcher(ours, state.searcher.context())
                    assert (matcher.scorer.stored is not None) == (info.doc_frequency() >= 2)
                    if matcher.scorer.stored is None:
                        continue
                    arrays_read = term_scores(matcher)
                    blocks_read = term_scores(Term("text", word).matcher(theirs, plain.context()))
                    assert np.array_equal(arrays_read[0], blocks_read[0])
                    assert np.array_equal(arrays_read[1], blocks_read[1])  # bit for bit
                    compared += 1
    finally:
        state.close()
        ix.close()
    assert compared >= 20, compared
