"""Snippets and highlights as segments: the text around a match is the source's (issue 8)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from search import highlighting
from search.baselines import read_corpus
from search.documents import Article
from search.analysis import analyze
from search.highlighting import ELLIPSIS, hit_snippet, repeats, shorten, snippet, to_text
from tests.helpers import write_archive


def terms(text: str) -> frozenset[str]:
    return frozenset(term for term, *_ in analyze(text, mode="query"))


FILLER = "The committee met again on Tuesday and heard more evidence from several witnesses. " * 4


@pytest.mark.parametrize("text, expected", [
    # A paragraph or line break next to a highlight becomes a space, never nothing.
    ("Former Fed chairman Paul\nVolcker\nretired last year.", "Paul Volcker retired"),
    ("cocoa production of 235,665 tonnes in 1987.\n\nCocoa volume was down.", "1987. Cocoa volume"),
    ("An average grade of 0.35\nounces\nof gold per ton.", "0.35 ounces of gold per"),
    ("Paul \n\n Volcker said so.", "Paul Volcker said"),
])
@pytest.mark.parametrize("padded", [False, True])  # whole (short) and fragment (long) texts
def test_breaks_around_a_highlight_become_one_space(text, expected, padded):
    source = FILLER + text + " " + FILLER if padded else text
    segments = snippet(source, terms("volcker cocoa ounces gold"))
    assert segments is not None and any(hit for _, hit in segments)
    shown = to_text(segments)
    assert "\n" not in shown
    assert expected in shown, shown


def test_spaces_and_punctuation_at_a_highlights_edges_are_kept():
    text = FILLER + 'He said: "Volcker, (the chairman) - retired." Then Volcker\'s term ended.' + FILLER
    segments = snippet(text, terms("volcker"))
    shown = to_text(segments)
    assert 'He said: "Volcker, (the chairman) - retired." Then Volcker\'s term ended.' in shown
    assert [t for t, hit in segments if hit] == ["Volcker", "Volcker's"]


def test_shortened_text_is_one_line():
    assert to_text(highlighting.shorten("First line\n\nsecond line")) == "First line second line"


@pytest.mark.parametrize("text, title, expected", [
    ("ARCO RAISES CRUDE OIL PRICES 50 CTS", "ARCO raises crude oil prices 50 cts", True),
    ("Arco raises crude oil", "ARCO RAISES CRUDE OIL PRICES 50 CTS", True),  # the title's start
    ("Arco raises crude oil pri", "ARCO RAISES CRUDE OIL PRICES 50 CTS", True),  # cut mid-word
    ("ARCO RAISES CRUDE OIL PRICES, its chairman said on Tuesday", "ARCO RAISES CRUDE OIL PRICES", False),
    ("Oil prices fell as Arco cut its posted prices", "ARCO RAISES CRUDE OIL PRICES", False),
    ("", "Anything", True),
    ("...", "Anything", True),
])
def test_repeats(text, title, expected):
    assert repeats(text, title) is expected


def test_a_title_only_flash_has_no_snippet():
    title = "ARCO RAISES CRUDE OIL PRICES 50 CTS BARREL, TODAY, WTI TO 19.00"
    assert hit_snippet(title, title, "", terms("oil prices")) == []
    assert hit_snippet(title, title.title(), title, terms("oil prices")) == []
    assert hit_snippet(title, title, "", terms("zeppelin")) == []


def test_a_flash_whose_excerpt_repeats_the_title_takes_its_snippet_from_the_body():
    title = "ARCO RAISES CRUDE OIL PRICES"
    body = "Atlantic Richfield said it raised the prices it pays for crude oil by 50 cts a barrel."
    segments = hit_snippet(title, title, body, terms("oil prices"))
    assert to_text(segments) == body
    assert [t for t, hit in segments if hit] == ["prices", "oil"]
    # No match in the body: its start, still not the title.
    assert to_text(hit_snippet(title, title, body, terms("zeppelin"))) == body


def test_an_excerpt_that_adds_to_the_title_is_kept():
    title = "Volcker to retire"
    excerpt = "Paul Volcker will retire as Federal Reserve chairman in August, the White House said."
    assert to_text(hit_snippet(title, excerpt, "", terms("volcker"))) == excerpt
    long_body = FILLER * 3
    shown = to_text(hit_snippet(title, excerpt, long_body, terms("zeppelin")))
    assert shown == excerpt  # the excerpt's start when nothing matches, as before
    assert to_text(hit_snippet(title, "", long_body, terms("zeppelin"))).endswith(ELLIPSIS)


# What ``repeats`` and ``hit_snippet`` were before they stopped reading words the answer
# does not need (a body's words past the title's count; the body when the excerpt matched):
# the faster ones must give the same snippets.
_EVERY_WORD = re.compile(r"\w+")


def _repeats_reading_every_word(text: str, title: str) -> bool:
    words = _EVERY_WORD.findall(text.casefold())
    if not words:
        return True
    heading = _EVERY_WORD.findall(title.casefold(), 0, len(text) + 1_000)
    if len(words) > len(heading):
        return False
    *first, last = words
    return heading[:len(first)] == first and heading[len(first)].startswith(last)


def _hit_snippet_reading_the_body(title: str, excerpt: str, body: str, terms: frozenset[str]):
    excerpt = "" if _repeats_reading_every_word(excerpt, title) else excerpt
    body = "" if _repeats_reading_every_word(body, title) else body
    return snippet(excerpt, terms) or snippet(body, terms) or shorten(excerpt or body)


def _analyzed_spans(text: str, wanted: frozenset[str]):
    """``highlighting._spans`` as it was, from ``analyze``'s terms."""
    span, matched = None, False
    for term, _pos, start, end in analyze(text, mode="index"):
        if span is None or start != span[0] or end != span[1]:
            if span is not None:
                yield span[0], span[1], matched
            span, matched = (start, end), False
        matched = matched or term in wanted
    if span is not None:
        yield span[0], span[1], matched


def _same_snippets(articles, queries) -> int:
    checked = 0
    for article in articles:
        title, excerpt, body = article.title, article.excerpt, article.body[:20_000]
        every_term = terms(f"{title} {excerpt} {body}") | {term for term, *_ in analyze(title)}
        for text in (title, excerpt, body):
            for wanted in (every_term, terms(" ".join(queries)), frozenset()):
                assert list(highlighting._spans(text, wanted)) == list(_analyzed_spans(text, wanted))
        for text in (excerpt, body, title.lower(), (title + " and more")[:len(title)], ""):
            assert repeats(text, title) is _repeats_reading_every_word(text, title), (title, text)
        for query in (*queries, title):
            wanted = terms(query)
            assert hit_snippet(title, excerpt, body, wanted) == _hit_snippet_reading_the_body(
                title, excerpt, body, wanted), (article.id, query)
            checked += 1
    return checked


QUERIES = ["oil prices", "coffee", "interest rates", "gold", "zeppelin", "said", "bank merger", "wheat exports"]


def test_snippets_are_as_they_were_on_the_fixture_archives(tmp_path):
    articles = list(read_corpus(Path(__file__).resolve().parents[1] / "data"))
    articles += list(read_corpus(write_archive(tmp_path / "sample")))
    flash = "ARCO RAISES CRUDE OIL PRICES"
    articles += [  # a title-only flash, an excerpt that repeats the title cut short, a body that starts as the title
        Article(id="flash", path="flash.md", title=flash, excerpt=flash),
        Article(id="cut", path="cut.md", title=flash, excerpt="Arco raises crude oil pri",
                body=flash + " by 50 cts a barrel, the company said. " + FILLER),
        Article(id="same", path="same.md", title="Gold", excerpt="gold", body="Gold"),
    ]
    assert _same_snippets(articles, QUERIES) > 100


@pytest.mark.parametrize("text", [
    "The U.S. and US officials met us in the US-Japan talks; U.S.-made cars.",
    "COVID-19 e-commerce AT&T don't Volcker's chairman’s 3.5 1,000 tonnes",
    "Société Générale's Zürich ÉTATS-UNIS naïve café US and us, ＵＳ",
    "of the and -- a-the & the-of", "", "   ", "Ünïcödé-wörds’ ß straße STRASSE",
])
def test_spans_are_the_analyzers(text):
    every_term = frozenset(term for term, *_ in analyze(text))
    for wanted in (every_term, frozenset(list(every_term)[::2]), terms("us u.s japan cafe strasse"), frozenset()):
        assert list(highlighting._spans(text, wanted)) == list(_analyzed_spans(text, wanted))
    assert [span for span in highlighting._spans(text, every_term) if not span[2]] == []


def test_snippets_are_as_they_were_on_reuters():
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "reuters-21578"
    if not corpus.is_dir():
        pytest.skip(f"corpus {corpus} is not available")
    articles = list(itertools.islice(read_corpus(corpus), 600))
    assert _same_snippets(articles, QUERIES) == len(articles) * (len(QUERIES) + 1)
