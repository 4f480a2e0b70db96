"""Ranking: ``NewsBM25`` gives exactly Whoosh's BM25F scores, document by document.

The engine multiplies scores by priors (recency, quality, heat), so these
tests compare raw Whoosh searcher scores with each weighting, for queries
read by the engine's own parser.
"""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.searching import Searcher

from search.indexer import IndexHome, update
from search.querying import parse
from search.ranking import VERBOSE_B, VERBOSE_K1, NewsBM25
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


def test_news_bm25_scorers_read_the_same_statistics_as_whoosh_s(two_segments):
    # NewsBM25's scorer reads the average length once per searcher and a term's best
    # quality only when asked: the same values as Whoosh's BM25FScorer reads for each.
    ix = whoosh_index.open_dir(str(IndexHome(two_segments).current()))
    try:
        news, plain = ix.searcher(weighting=NewsBM25()), ix.searcher(weighting=scoring.BM25F())
        compared = 0
        for (mine, _), (theirs, _) in zip(news.leaf_searchers(), plain.leaf_searchers()):
            for word in ("harbor", "oil", "rate", "bank", "zeppelin"):
                if not mine.reader().doc_frequency("text", word):
                    continue
                ours = news.weighting.scorer(mine, "text", word)
                whoosh = plain.weighting.scorer(theirs, "text", word)
                assert (ours.idf, ours.avgfl) == (whoosh.idf, whoosh.avgfl)
                assert ours.max_quality() == whoosh.max_quality()
                compared += 1
        assert compared >= 6
        news.close()
        plain.close()
    finally:
        ix.close()


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


# ---------------------------------------------------------------- long queries: the verbose reading and RM3


def test_relevance_model_weighs_words_by_document_score_and_drops_common_ones():
    from collections import Counter

    from search import feedback
    from search.feedback import relevance_model

    documents = [(Counter({"cocoa": 3, "bahia": 1, "said": 4}), 3.0), (Counter({"cocoa": 1, "crop": 1}), 1.0),
                 (Counter(), 5.0), (Counter({"ignored": 1}), 0.0)]
    shares = {"said": 0.5}  # in half the archive: tells nothing
    model = relevance_model(documents, lambda term: shares.get(term, 0.01), terms=3, max_share=0.1, power=1,
                            min_documents=1)
    # cocoa: 0.75 * 3/8 + 0.25 * 1/2; bahia: 0.75 * 1/8; crop: 0.25 * 1/2; then scaled to sum to 1.
    raw = {"cocoa": 0.75 * 3 / 8 + 0.25 / 2, "bahia": 0.75 / 8, "crop": 0.25 / 2}
    assert list(model) == ["cocoa", "crop", "bahia"]
    assert model == pytest.approx({term: weight / sum(raw.values()) for term, weight in raw.items()})
    assert list(relevance_model(documents, lambda term: 0.01, terms=2, power=1, min_documents=1)) == ["cocoa", "said"]
    # With min_documents=2 a word must be in two of the feedback documents: only cocoa is.
    assert relevance_model(documents, lambda term: shares.get(term, 0.01), power=1, min_documents=2) == {"cocoa": 1.0}
    # By default a document weighs by its score to SCORE_POWER, and any word of any feedback document may be chosen.
    assert relevance_model(documents, lambda term: shares.get(term, 0.01), terms=3, max_share=0.1) == \
        relevance_model(documents, lambda term: shares.get(term, 0.01), terms=3, max_share=0.1,
                        power=feedback.SCORE_POWER, min_documents=1) != model
    # A power above 1 leans on the best documents: scores 3 and 1 weigh 9 to 1 at power 2.
    squared = relevance_model(documents, lambda term: shares.get(term, 0.01), terms=3, max_share=0.1, power=2,
                              min_documents=1)
    raw = {"cocoa": 0.9 * 3 / 8 + 0.1 / 2, "bahia": 0.9 / 8, "crop": 0.1 / 2}
    assert list(squared) == ["cocoa", "bahia", "crop"]
    assert squared == pytest.approx({term: weight / sum(raw.values()) for term, weight in raw.items()})
    # Only the ratios of the scores count, not their scale.
    scaled = [(counts, score * 7) for counts, score in documents]
    assert relevance_model(scaled, lambda term: 0.01, power=3, min_documents=1) == pytest.approx(
        relevance_model(documents, lambda term: 0.01, power=3, min_documents=1))
    # No numbers; one feedback document is all there is, so its words are in all of them.
    assert relevance_model([(Counter({"x1": 1, "7": 3}), 1.0)], lambda term: 0.0) == {"x1": 1.0}
    assert relevance_model([], lambda term: 0.0) == {}


def test_interpolation_keeps_the_query_weights_and_adds_the_feedback_in_proportion():
    from search.feedback import interpolate

    original = {"cocoa": 2.0, "brazil": 1.0}
    mixed = interpolate(original, {"cocoa": 0.5, "bahia": 0.5}, original_weight=0.75)
    # Mixing 0.75 * (2/3, 1/3) with 0.25 * (1/2, 1/2), scaled by 3 / 0.75 so the query's words keep theirs.
    assert mixed == pytest.approx({"cocoa": 2.0 + 0.5, "brazil": 1.0, "bahia": 0.5})
    assert interpolate(original, {}) == original
    assert interpolate(original, {"x": 1.0}, original_weight=1.0) == original


def _long_reading(archive_index, text):
    from search.querying import verbose

    state = SearcherState.open(IndexHome(archive_index).require_current())
    try:
        reading = parse(text, state)
        return reading, verbose(reading)
    finally:
        state.close()


def test_a_long_query_is_read_as_any_of_its_words_weighted_by_how_often_they_are_typed(archive):
    from whoosh import query as Q

    from search.querying import query_weights

    reading, q = _long_reading(archive[1], "what is the number of interest rates rises, and rates in the harbor -oil")
    assert isinstance(q, Q.AndNot) and q.b == Q.Or([Q.Term("text", "oil")])  # excluded words stay excluded
    # "rates" typed twice counts twice; no reward for matching more words (no Or with a scale).
    assert query_weights(q) == {"number": 1.0, "interest": 1.0, "rate": 2.0, "rise": 1.0, "harbor": 1.0}
    assert not any(isinstance(part, Q.Or) and part.scale for part in q.a.a.children())
    _, short = _long_reading(archive[1], "bank")
    assert short is None


def test_feedback_adds_words_from_the_best_matches_and_only_typed_words_are_highlighted(archive):
    from search.analysis import analyze
    from search.engine import Engine, _expanded, _Scope, _score_all
    from search.querying import query_weights, reweighted, verbose

    from helpers import search_for

    engine = Engine(archive[1], recheck_seconds=0)
    try:
        text = "why did the bank of england raise interest rates to fight inflation"
        response = search_for(engine, text, page_size=50, collapse=False)
        assert response.total and "long_query" in [note.code for note in response.notes]
        assert not response.fallback
        # The feedback words only raise articles that have a typed word: the same matches.
        state = engine.state()
        q = verbose(parse(text, state))
        matches = _score_all(state.searcher, q, _Scope(), state.facets.live)[0]
        assert response.total == len(matches)
        expanded = _expanded(state.searcher, q, _Scope(), state.facets.live, float("inf"))
        assert len(query_weights(expanded)) > len(query_weights(q))
        zeppelin = _score_all(state.searcher, parse("zeppelin", state).query, _Scope(), state.facets.live)[0]
        assert len(zeppelin) and not set(zeppelin) & set(matches)  # a word only other articles have
        added = reweighted(q, {**query_weights(q), "zeppelin": 5.0})
        assert _score_all(state.searcher, added, _Scope(), state.facets.live)[0].tolist() == matches.tolist()
        marked = {fragment for hit in response.hits for part in (hit.title_segments, hit.snippet_segments)
                  for fragment, matched in part if matched}
        typed = {term for term, *_ in analyze(text, mode="query")}
        assert marked
        for fragment in marked:  # never a word feedback added
            assert {term for term, *_ in analyze(fragment, mode="index")} & typed, fragment
    finally:
        engine.close()


def test_weighted_reading_with_feedback_is_scored_as_whoosh_scores_it(two_segments):
    from whoosh import query as Q

    from search.engine import _expanded, _Scope, _score_all
    from search.querying import query_weights, verbose

    state = SearcherState.open(IndexHome(two_segments).require_current())
    try:
        reading = parse("bank rates interest rates harbor traffic on the lake", state)
        q = verbose(reading)
        expanded = _expanded(state.searcher, q, _Scope(), state.facets.live, float("inf"))
        assert set(query_weights(expanded)) > set(query_weights(q))  # words from the best matches
        for query in (q, expanded):
            docnums, scores, _ = _score_all(state.searcher, query, _Scope(), state.facets.live)
            walked = {hit.docnum: hit.score for hit in state.searcher.search(query, limit=None)}
            assert dict(zip(docnums.tolist(), scores.tolist())) == walked  # to the bit
            # With a long query's own parameters, as Whoosh's BM25F scores with them.
            retuned = state.searcher.weighting.retuned(VERBOSE_K1, VERBOSE_B)
            docnums, scores, _ = _score_all(state.searcher, query, _Scope(), state.facets.live, weighting=retuned)
            plain = state.searcher.reader()
            walked_retuned = {hit.docnum: hit.score for hit in Searcher(plain, weighting=scoring.BM25F(
                K1=VERBOSE_K1, B=VERBOSE_B), closereader=False).search(query, limit=None)}
            assert dict(zip(docnums.tolist(), scores.tolist())) == pytest.approx(walked_retuned, rel=1e-12)
            assert walked_retuned != walked
        assert isinstance(expanded, Q.AndMaybe)  # neighbouring words close together still count
    finally:
        state.close()


def test_a_long_query_is_scored_with_bm25_parameters_of_its_own(archive, monkeypatch):
    from search import engine as engine_module
    from search.engine import Engine

    from helpers import search_for

    long_text = "why did the bank of england raise interest rates to fight inflation"
    engine = Engine(archive[1], recheck_seconds=0)
    try:
        def scores(text):
            return [(hit.id, hit.score) for hit in search_for(engine, text, page_size=50, collapse=False).hits]

        before_long, before_short = scores(long_text), scores("interest rates")
        assert before_long and before_short
        monkeypatch.setattr(engine_module, "VERBOSE_K1", 5.0)
        monkeypatch.setattr(engine_module, "VERBOSE_B", 0.1)
        assert scores("interest rates") == before_short
        assert scores(long_text) != before_long
        monkeypatch.setattr(engine_module, "VERBOSE_K1", VERBOSE_K1)
        monkeypatch.setattr(engine_module, "VERBOSE_B", VERBOSE_B)
        assert scores(long_text) == before_long  # norms cached under their own parameters, not mixed up
    finally:
        engine.close()


def test_feedback_reads_a_bounded_part_of_each_document(monkeypatch):
    from search import feedback

    stored = {"title": "Cocoa crop", "body": "cocoa harvest " * 10 + "zanzibar " * 5, "excerpt": "ignored excerpt"}
    counts = feedback.document_terms(stored)
    assert counts["cocoa"] == 11 and counts["zanzibar"] == 5 and "ignor" not in counts
    monkeypatch.setattr(feedback, "MAX_TEXT_CHARS", len("cocoa harvest ") * 10)
    assert "zanzibar" not in feedback.document_terms(stored)
    assert feedback.document_terms({"body": None, "title": ""}) == {}
