"""Snippets over the real Reuters archive read as its text does (issue 8).

The articles are read as the indexer reads them (``baselines.read_corpus``)
and each result's snippet is made as a search makes it
(``highlighting.hit_snippet``), with no index: what is checked is only how
passages are cut and joined. Skipped when ``../shared/corpora`` is absent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from search import highlighting
from search.analysis import analyze
from search.baselines import read_corpus

CORPORA = Path(os.environ.get("NEWSEARCH_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))
FIRST = 100  # articles checked per query, as in the count


@pytest.fixture(scope="module")
def reuters() -> list:
    path = CORPORA / "reuters-21578"
    if not path.is_dir():
        pytest.skip(f"corpus {path} is not available")
    return list(read_corpus(path))


def _terms(text: str) -> frozenset[str]:
    return frozenset(term for term, *_ in analyze(text, mode="query"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _snippets(articles, query: str):
    """(article, snippet segments) of the first ``FIRST`` articles whose snippet marks a word of ``query``."""
    terms, found = _terms(query), []
    word = re.compile(r"\b(" + "|".join(re.escape(w) for w in query.split()) + r")", re.I)
    for article in articles:
        if not word.search(article.excerpt) and not word.search(article.body):
            continue
        segments = highlighting.hit_snippet(article.title, article.excerpt, article.body, terms)
        if any(hit for _, hit in segments):
            found.append((article, segments))
            if len(found) == FIRST:
                break
    return found


@pytest.mark.parametrize("query", ["volcker", "cocoa", "ounces of gold"])
def test_snippets_keep_the_spaces_and_punctuation_around_highlights(reuters, query):
    # Each passage, marks taken away, is the source's own text: a word glued to a
    # highlight ("Paul<mark>Volcker</mark>retired") is not in the source.
    found = _snippets(reuters, query)
    assert len(found) >= FIRST // 2, f"only {len(found)} Reuters articles mark {query!r}"
    glued = []
    for article, segments in found:
        source = _flat(f"{article.excerpt} {article.body}")
        for passage in highlighting.to_text(segments).split(highlighting.ELLIPSIS):
            if _flat(passage) and _flat(passage) not in source:
                glued.append((article.id, passage[:120]))
    assert not glued, glued[:5]


def test_title_only_wire_flashes_do_not_repeat_their_title_as_the_snippet(reuters):
    flashes = [a for a in reuters if highlighting.repeats(a.excerpt, a.title) and "oil" in a.title.lower()]
    assert len(flashes) >= 20  # the "oil prices" top 7 are such flashes
    terms = _terms("oil prices")
    for article in flashes:
        snippet = highlighting.to_text(highlighting.hit_snippet(article.title, article.excerpt, article.body, terms))
        assert _flat(snippet).strip(highlighting.ELLIPSIS + " ") != _flat(article.title), article.id
        if not article.body.strip() or highlighting.repeats(article.body, article.title):
            assert snippet == ""
