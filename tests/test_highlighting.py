"""Snippets and highlights as segments: the text around a match is the source's (issue 8)."""

from __future__ import annotations

import pytest

from search import highlighting
from search.analysis import analyze
from search.highlighting import ELLIPSIS, hit_snippet, repeats, snippet, to_text


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
