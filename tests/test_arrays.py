"""Per-segment arrays stored with the index, and the array paths of searching:
they must give exactly what the per-document Python code they replace gave."""

from __future__ import annotations

import random
import shutil
from collections import Counter

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as Q

from search import arrays, stories
from search.engine import Engine, _filter_mask, _ranked, _Scope, _score_all, _scored_at_once
from search.querying import filter_query
from search.indexer import update
from search.ranking import DAY_MICROSECONDS, TIE_BREAK, priors
from search.state import SearcherState
from search.store import IndexHome

from helpers import at_once_and_walked, build_index, search_for, write_archive, write_article

QUERIES = [dict(text="bank"), dict(text="oil", sort="newest"), dict(text="oil", sort="oldest"),
           dict(text="rates", since="2021"), dict(text="", topics=["Markets"]), dict(text="bank", collapse=False),
           dict(text="inflation OR oil", until="2022-01"), dict(text="bank", page=2, page_size=1)]


def responses(index) -> list[dict]:
    eng = Engine(index, recheck_seconds=0)
    try:
        return [_without_time(search_for(eng, **query).to_json()) for query in QUERIES]
    finally:
        eng.close()


def _without_time(answer: dict) -> dict:
    answer.pop("took_ms", None)
    return answer


@pytest.fixture
def built(tmp_path):
    data = write_archive(tmp_path / "data")
    index = tmp_path / "index"
    build_index(data, index)
    return data, index


def test_a_build_stores_the_arrays_of_every_segment(built):
    gen = IndexHome(built[1]).require_current()
    with whoosh_index.open_dir(str(gen)).searcher() as searcher:
        for sub, _ in searcher.leaf_searchers():
            reader = sub.reader()
            stored = arrays.load(gen / arrays.FOLDER / reader.segment().segment_id(), reader.doc_count_all())
            fresh = arrays.read(reader, searcher.schema)
            assert stored is not None and isinstance(stored.published, np.memmap)
            assert stored.labels == fresh.labels and "Markets" in stored.labels["topic"]
            for name in ("published", "story", "length"):
                assert np.array_equal(getattr(stored, name), getattr(fresh, name)), name
            for name in ("quality", "heat"):
                assert np.array_equal(getattr(stored, name), getattr(fresh, name), equal_nan=True), name


def test_an_index_without_arrays_opens_with_the_same_answers_and_saves_them(built):
    gen = IndexHome(built[1]).require_current()
    before = responses(built[1])
    shutil.rmtree(gen / arrays.FOLDER)
    assert responses(built[1]) == before
    assert any((gen / arrays.FOLDER).iterdir())  # computed at open and saved for the next one


def test_updates_add_segments_and_deletions_the_answers_follow(built):
    data, index = built
    (data / "2020/04/crude-oil.md").unlink()
    write_article(data, "2023/01/oil-again.md", title="Crude oil prices rise again", topics=["Energy", "Markets"],
                  published="2023-01-02T10:00:00Z", provider={"name": "Reuters", "domain": "reuters.com"},
                  body="Oil rose.")
    update(data, IndexHome(index))
    state = SearcherState.open(IndexHome(index).require_current())
    try:
        assert len(state.searcher.leaf_searchers()) == 2 and state.searcher.reader().has_deletions()
        table, reader = state.facets, state.searcher.reader()
        live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        # Every facet count equals the number of live documents holding the term (postings skip deleted ones).
        for name, field in (("topics", "topic"), ("providers", "source"), ("years", "year")):
            counted = {item["value"]: item["count"] for item in table.count(live, size=1000)[name]}
            expected = {term.decode() if isinstance(term, bytes) else term:
                        len(list(reader.postings(field, term).all_ids())) for term in reader.lexicon(field)}
            assert counted == {k: v for k, v in expected.items() if v}, name
        assert table.dated.sum() == sum(1 for d in live if reader.stored_fields(d).get("published"))
    finally:
        state.close()
    ids = [hit["id"] for hit in _without_time(search_for(Engine(index), "oil", sort="newest").to_json())["results"]]
    assert ids[0] == "2023/01/oil-again" and "2020/04/crude-oil" not in ids


def test_priors_are_the_python_formula_to_the_bit(engine):
    table = engine.state().facets
    weight, half_life = 0.05, 365.0
    quality = [None if q != q else q for q in table.quality.tolist()]
    heat = [None if h != h else h for h in table.heat.tolist()]
    stamps = [table.published[d] for d in range(table.size)]
    newest = max(s for s in stamps if s is not None)
    top_quality = max((q for q in quality if q), default=0) or 1
    top_heat = max((h for h in heat if h), default=0) or 1
    expected = []
    for stamp, q, h in zip(stamps, quality, heat):
        prior = 1.0
        if stamp is not None:
            prior += weight * 0.5 ** ((newest - stamp) / (half_life * DAY_MICROSECONDS))
        prior += TIE_BREAK * (max(q or 0, 0) / top_quality + max(h or 0, 0) / top_heat)
        expected.append(prior)
    assert priors(table, weight, half_life).tolist() == expected
    assert len(set(expected)) > 3


def _story_ids_in_python(keys, published):
    """The per-document story numbering arrays replaced (None: undated, never a copy)."""
    by_key: dict = {}
    for docnum, key in enumerate(keys):
        if key:
            by_key.setdefault(key, []).append(docnum)
    ids, story = [None] * len(keys), 0
    for docnums in by_key.values():
        if len(docnums) < 2:
            continue
        dated = sorted((d for d in docnums if published[d] is not None), key=published.__getitem__)
        previous = None
        for docnum in dated:
            if previous is None or published[docnum] - published[previous] > stories.WINDOW_DAYS * stories._DAY:
                story += 1
            ids[docnum] = story
            previous = docnum
        story += 1
    return ids


def _groups(ids) -> set[frozenset[int]]:
    """Which documents share a story (a story of one document is the same as none)."""
    members: dict = {}
    for docnum, story in enumerate(ids):
        if story is not None and story >= 0:
            members.setdefault(story, set()).add(docnum)
    return {frozenset(m) for m in members.values() if len(m) > 1}


@pytest.mark.parametrize("seed", range(5))
def test_story_ids_group_as_the_python_loop_did(seed):
    rng = random.Random(seed)
    size = 400
    keys = [rng.choice([0, 0, 1, 2, 3, 4, 5, 6]) for _ in range(size)]
    published = [None if rng.random() < 0.1 else rng.randrange(0, 20) * stories._DAY for _ in range(size)]
    ids = stories.story_ids(np.array(keys, dtype=np.uint64),
                            np.array([p or 0 for p in published], dtype=np.int64),
                            np.array([p is not None for p in published]))
    expected = _groups(_story_ids_in_python(keys, published))
    assert _groups(ids.tolist()) == expected and expected


def _collapse_in_python(scored, ids):
    """Per story the best (score, -docnum) and the other docnums, as the Python code did."""
    stories_of = [ids[-negdoc] for _, negdoc in scored]
    repeated = {s for s, n in Counter(s for s in stories_of if s >= 0).items() if n > 1}
    kept, members = [], {}
    for match, story in zip(scored, stories_of):
        (members.setdefault(story, []) if story in repeated else kept).append(match)
    others = {}
    for copies in members.values():
        copies.sort(reverse=True)
        kept.append(copies[0])
        others[-copies[0][1]] = [-negdoc for _, negdoc in copies[1:]]
    return sorted(kept), others


@pytest.mark.parametrize("seed", range(5))
def test_collapse_keeps_the_same_copies_as_the_python_loop(seed):
    rng = random.Random(seed)
    ids = np.array([rng.choice([-1, -1, 1, 2, 3, 4, 5]) for _ in range(300)], dtype=np.int64)
    docnums = np.array(sorted(rng.sample(range(300), 120)), dtype=np.int64)
    scores = np.array([rng.choice([1.0, 1.5, 2.0, 2.5]) for _ in docnums])  # many ties
    kept, copies = stories.collapse(scores, docnums, ids)
    expected_kept, expected_others = _collapse_in_python(list(zip(scores.tolist(), (-docnums).tolist())), ids)
    assert sorted(zip(scores[kept].tolist(), (-docnums[kept]).tolist())) == expected_kept
    assert {d: copies.get(d) for d in expected_others} == expected_others and expected_others


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_ranking_on_arrays_is_the_sorted_order_of_before(sort):
    rng = random.Random(7)
    size = 200

    class Table:
        dated = np.array([rng.random() > 0.2 for _ in range(size)])
        stamps = np.array([rng.randrange(5) for _ in range(size)], dtype=np.int64)

    docnums = np.array(sorted(rng.sample(range(size), 150)), dtype=np.int64)
    scores = np.array([rng.choice([1.0, 2.0, 3.0]) for _ in docnums])
    groups = list(zip(scores.tolist(), (-docnums).tolist()))
    if sort == "relevance":
        expected = sorted(groups, reverse=True)[:40]
    else:
        stamp = lambda g: int(Table.stamps[-g[1]]) if Table.dated[-g[1]] else None  # noqa: E731
        undated = -(2**63) if sort == "newest" else 2**63
        expected = sorted(groups, key=lambda g: (undated if stamp(g) is None else stamp(g), g[1]),
                          reverse=(sort == "newest"))[:40]
    ranked = _ranked(docnums, scores, Table, sort, 40)
    assert list(zip(scores[ranked].tolist(), (-docnums[ranked]).tolist())) == expected



def _walked(searcher, q):
    """Every match's (docnum, score) from walking Whoosh's matchers, as searching did before."""
    found = []
    for sub, offset in searcher.leaf_searchers():
        matcher = q.matcher(sub, searcher.context())
        while matcher.is_active():
            found.append((matcher.id() + offset, matcher.score()))
            matcher.next()
    return found


@pytest.mark.parametrize("words", [["bank"], ["oil"], ["bank", "rate"], ["oil", "price"], ["zzznothing"],
                                   ["week", "traffic", "weather"], ["weather", "week", "traffic"],
                                   ["week", "traffic", "weather", "harbor"]])
def test_words_that_must_all_appear_are_scored_at_once_to_the_same_bits(built, words):
    data, index = built
    write_article(data, "2023/01/oil-again.md", title="Oil prices and bank rates", topics=["Energy"],
                  published="2023-01-02T10:00:00Z", body="Oil price, bank rate.")
    (data / "2020/04/crude-oil.md").unlink()  # deletions in the first segment
    (data / "2022/08/boe-rates.md").write_text((data / "2022/08/boe-rates.md").read_text() + "\nMore bank news.\n")
    update(data, IndexHome(index))  # a second segment
    state = SearcherState.open(IndexHome(index).require_current())
    try:
        terms = [Q.Term("text", word) for word in words]
        q = terms[0] if len(terms) == 1 else Q.And(terms)
        live = state.facets.live
        docnums, scores, _ = _score_all(state.searcher, q, _Scope(), live)
        assert list(zip(docnums.tolist(), scores.tolist())) == _walked(state.searcher, q)
        first = state.searcher.leaf_searchers()[0][0]
        assert len(state.searcher.leaf_searchers()) == 2 and first.reader().has_deletions()
        at_once = _scored_at_once(q, first, state.searcher.context(), live[:first.reader().doc_count_all()])
        assert len(docnums) or words == ["zzznothing"]
        assert at_once is not None  # three words or more too, in Whoosh's order, even where frequencies tie

    finally:
        state.close()


@pytest.mark.parametrize("filters", [dict(topics=["markets"]), dict(sources=["reuters"]), dict(sources=["bbc.co.uk"]),
                                     dict(topics=["Energy", "Travel"], sources=["Reuters"]), dict(topics=["nope"])])
def test_filters_from_arrays_are_the_documents_whoosh_finds(engine, filters):
    state = engine.state()
    q = Q.And(filter_query(state, **filters))
    mask = _filter_mask(state.searcher, q, state.facets)
    assert np.flatnonzero(mask).tolist() == sorted(state.searcher.docs_for_query(q))
    assert filters == dict(topics=["nope"]) or mask.any()


PHRASES = [(["oil", "price"], 1), (["interest", "rate"], 1), (["bank", "rate"], 1), (["harbor", "report"], 1),
           (["oil", "price", "bank"], 1), (["bank", "bank"], 1), (["rate", "interest"], 1), (["oil", "zzznothing"], 1),
           (["oil", "rate"], 5), (["bank", "rate"], 3)]


@pytest.mark.parametrize("frequent", [1, 1000])  # postings from termarrays, or all read from blocks
@pytest.mark.parametrize("words, slop", PHRASES)
def test_phrases_are_matched_at_once_as_whoosh_matches_them(tmp_path, monkeypatch, words, slop, frequent):
    from search import termarrays

    monkeypatch.setattr(termarrays, "FREQUENT", frequent)
    data = write_archive(tmp_path / "data")
    build_index(data, tmp_path / "index")
    write_article(data, "2023/01/oil-again.md", title="Oil prices and bank rates", topics=["Energy"],
                  published="2023-01-02T10:00:00Z", body="Oil price, bank rate. Rates of interest, bank bank.")
    (data / "2020/04/crude-oil.md").unlink()  # deletions in the first segment
    update(data, IndexHome(tmp_path / "index"))
    state = SearcherState.open(IndexHome(tmp_path / "index").require_current())
    try:
        for q in (Q.Phrase("text", words, slop=slop), Q.And([Q.Phrase("text", words, slop=slop), Q.Term("text", "oil")])):
            docnums, scores, _ = _score_all(state.searcher, q, _Scope(), state.facets.live)
            assert list(zip(docnums.tolist(), scores.tolist())) == _walked(state.searcher, q)
            assert len(docnums) or "zzznothing" in words or isinstance(q, Q.And)
        first = state.searcher.leaf_searchers()[0][0]
        assert _scored_at_once(Q.Phrase("text", words, slop=slop), first, state.searcher.context(),
                               state.facets.live[:first.reader().doc_count_all()]) is not None
    finally:
        state.close()


OR_QUERIES = [["oil", "bank"], ["oil", "bank", "harbor"], ["week", "traffic", "weather", "oil"], ["port", "weather", "edit"],
              ["summari", "week", "weather", "port", "edit", "oil"],
              ["oil", "zzznothing", "bank"]]


@pytest.mark.parametrize("needs_current", [False, True])  # Whoosh's two ways of adding an Or's scores
@pytest.mark.parametrize("words", OR_QUERIES)
def test_any_of_several_words_is_scored_at_once_to_the_same_bits(built, words, needs_current):
    data, index = built
    write_article(data, "2023/01/oil-again.md", title="Oil prices and bank rates", topics=["Energy"],
                  published="2023-01-02T10:00:00Z", body="Oil price, bank rate, harbor traffic.")
    (data / "2020/04/crude-oil.md").unlink()  # deletions in the first segment
    update(data, IndexHome(index))
    state = SearcherState.open(IndexHome(index).require_current())
    found = 0
    try:
        for q in (Q.Or([Q.Term("text", w) for w in words]),
                  Q.And([Q.Or([Q.Term("text", w) for w in words]), Q.Term("text", "oil")]),
                  Q.Or([Q.Phrase("text", ["oil", "price"]), Q.Term("text", words[-1])])):
            for _, at_once, walked in at_once_and_walked(q, state, state.searcher.context(needs_current=needs_current)):
                assert at_once == walked
                found += len(walked)
    finally:
        state.close()
    assert found


def test_whole_index_arrays_are_saved_once_per_index_state(built):
    from search.ranking import priors

    data, index = built
    gen = IndexHome(index).require_current()
    first = SearcherState.open(gen)
    try:
        expected = priors(first.facets, 0.05, 365.0).copy(), first.facets.stories.copy()
        [saved] = (gen / arrays.FOLDER).glob("derived-*")
        assert {path.name for path in saved.iterdir()} == {"stories.npy", "priors-0.05-365.0.npy"}
    finally:
        first.close()
    second = SearcherState.open(gen)  # another process of the same index: read, not computed
    try:
        assert isinstance(second.facets.stories, np.memmap)
        assert np.array_equal(second.facets.stories, expected[1])
        assert np.array_equal(priors(second.facets, 0.05, 365.0), expected[0])
    finally:
        second.close()
    write_article(data, "2023/01/oil-again.md", title="Crude oil prices turn negative", topics=["Energy"],
                  published="2020-04-21T09:00:00Z", body="Again.")  # a copy of a story: the story numbers change
    update(data, IndexHome(index))
    third = SearcherState.open(gen)
    try:
        [now] = (gen / arrays.FOLDER).glob("derived-*")
        assert now != saved and not isinstance(third.facets.stories, np.memmap)  # a new state: computed again
        assert len(third.facets.stories) == len(expected[1]) + 1
        assert (third.facets.stories >= 0).sum() > (expected[1] >= 0).sum()
    finally:
        third.close()


LONG_QUERIES = ["bank rates interest rates harbor traffic on the lake", "why did oil prices and bank rates rise -weather",
                'oil prices "interest rates" bank harbor week']


@pytest.mark.parametrize("text", LONG_QUERIES)
def test_long_queries_weighted_and_expanded_are_scored_at_once_to_the_same_bits(built, text):
    # A long query's reading (words weighted by how often typed, a proximity bonus) and
    # the same with feedback words, over a segment with deletions and a second one.
    from search.engine import _expanded
    from search.querying import parse, query_weights, verbose

    data, index = built
    write_article(data, "2023/01/oil-again.md", title="Oil prices and bank rates", topics=["Energy"],
                  published="2023-01-02T10:00:00Z", body="Oil price, bank rate, harbor traffic, interest rates rise.")
    (data / "2020/04/crude-oil.md").unlink()  # deletions in the first segment
    update(data, IndexHome(index))
    state = SearcherState.open(IndexHome(index).require_current())
    try:
        q = verbose(parse(text, state))
        expanded = _expanded(state.searcher, q, _Scope(), state.facets.live, float("inf"))
        assert len(query_weights(expanded)) > len(query_weights(q)) >= 3
        assert any(weight != 1.0 for weight in query_weights(expanded).values())
        for query in (q, expanded):
            compared = 0
            for sub, at_once, walked in at_once_and_walked(query, state):
                if isinstance(query, Q.AndNot):
                    # Whoosh's AndNotMatcher keeps a's first match when b's first is before it
                    # (its _find_first only looks at equal ids); at once, b excludes every match.
                    excluded = set(query.b.matcher(sub, state.searcher.boolean_context()).all_ids())
                    walked = [(docnum, score) for docnum, score in walked if docnum not in excluded]
                assert at_once == walked
                compared += len(walked)
            assert compared
    finally:
        state.close()
