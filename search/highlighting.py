"""Where the words matched: highlighted titles and snippets.

Whoosh's fragmenter, scorer and formatter pick passages of long texts; this module feeds
them tokens from our analyzer (one token per span of text, matched when
any of the terms the span indexes under -- ``COVID-19`` is indexed as
``covid-19``, ``covid`` and ``19`` -- is a query term) and formats
fragments as ``(text, matched)`` segments, which each face renders its
own way (HTML ``<mark>``, terminal bold).
"""

from __future__ import annotations

import itertools
import re
from typing import Iterable

from whoosh import query as Q
from whoosh.analysis import Token
from whoosh.highlight import BasicFragmentScorer, ContextFragmenter, Formatter, top_fragments

from .analysis import _PARTS, _STEMS, CAPITAL_US, STOP_WORDS, TOKEN, US_ACRONYM, _normalise, fold, stem

Segments = list[tuple[str, bool]]
ELLIPSIS = "…"


def query_terms(q: Q.Query) -> frozenset[str]:
    """Index terms a result should show as matched (not the excluded ones)."""
    found: set[str] = set()

    def walk(node: Q.Query) -> None:
        if isinstance(node, Q.Not):
            return
        if isinstance(node, Q.AndNot):
            walk(node.a)
            return
        if isinstance(node, Q.Phrase):
            found.update(node.words)
        elif isinstance(node, Q.Term) and isinstance(node.text, str):
            found.add(node.text)
        elif not node.is_leaf():
            for sub in node.children():
                walk(sub)

    walk(q)
    return frozenset(found)


def _spans(text: str, terms: frozenset[str]) -> Iterable[tuple[int, int, bool]]:
    """``(start, end, matched)`` for each span of text the analyzer indexes.

    The spans and terms are ``analyze(text, mode="index")``'s (one span per token; a
    joined word's parts share its span), read here without positions, tuples or a
    generator per term: a page's titles and snippets are most of what a search spends
    after scoring. tests/test_highlighting.py holds it to spans made from ``analyze``."""
    ascii_only = text.isascii()
    source = text.lower() if ascii_only else text
    stems, stop = _STEMS, STOP_WORDS
    for match in TOKEN.finditer(source):
        kind = match.lastgroup
        word = match.group()
        if not ascii_only:
            word = fold(word)
        if kind == "word":
            if "'" in word or "\u2019" in word:
                word = _normalise(kind, word)
            if not word or word in stop:
                continue
            if word == "us" and text[match.start():match.end()] == CAPITAL_US:
                yield match.start(), match.end(), US_ACRONYM in terms
            else:
                yield match.start(), match.end(), (stems.get(word) or stem(word)) in terms
        elif kind == "joined":
            yield match.start(), match.end(), word in terms or any(
                stem(part) in terms for part in _PARTS.split(word) if part and part not in stop)
        else:  # an acronym or a number: indexed as it is
            word = _normalise(kind, word)
            if word and word not in stop:
                yield match.start(), match.end(), word in terms


def _tokens(text: str, terms: frozenset[str]) -> Iterable[Token]:
    """The spans as Whoosh tokens, for its fragmenters."""
    for start, end, matched in _spans(text, terms):
        yield Token(startchar=start, endchar=end, matched=matched, text=text[start:end])


_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*")


def one_line(segments: Segments) -> Segments:
    """Snippets are one line: each line or paragraph break, with the spaces around
    it, becomes one space. Only the break itself is replaced, never the space at
    a segment's edge, which is what keeps ``Paul Volcker`` from reading
    ``PaulVolcker`` when the break falls between a word and a highlight."""
    return [(_LINE_BREAK.sub(" ", t) if "\n" in t else t, hit) for t, hit in segments if t]


class SegmentFormatter(Formatter):
    """Formats fragments as lists of ``(text, matched)`` pairs."""

    def format_fragment(self, fragment, replace=False) -> Segments:
        segments: Segments = []
        index, text = fragment.startchar, fragment.text
        for token in sorted(fragment.matches, key=lambda t: (t.startchar, -t.endchar)):
            if token.startchar < index:
                continue
            if token.startchar > index:
                segments.append((text[index:token.startchar], False))
            segments.append((text[token.startchar:token.endchar], True))
            index = token.endchar
        segments.append((text[index:fragment.endchar], False))
        return one_line(segments)

    def format(self, fragments, replace=False) -> Segments:
        joined: Segments = []
        for number, fragment in enumerate(fragments):
            if number:
                joined.append((f" {ELLIPSIS} ", False))
            joined.extend(self.format_fragment(fragment))
        return joined


_FORMATTER = SegmentFormatter()


def whole(text: str, terms: frozenset[str]) -> Segments:
    """All of ``text`` with matched words marked (titles, short excerpts).

    No fragment to choose, so the matched spans are cut out directly."""
    if not text:
        return []
    segments: Segments = []
    index = 0
    for start, end, matched in _spans(text, terms):
        if matched:
            if start > index:
                segments.append((text[index:start], False))
            segments.append((text[start:end], True))
            index = end
    if index < len(text):
        segments.append((text[index:], False))
    return segments


def snippet(text: str, terms: frozenset[str], maxchars: int = 220, count: int = 2) -> Segments | None:
    """The best passages of ``text`` around matched words, or None if none match."""
    if not text or not terms:
        return None
    if len(text) <= maxchars:  # short enough to show whole
        segments = whole(text, terms)
        return one_line(segments) if any(hit for _, hit in segments) else None
    fragmenter = ContextFragmenter(maxchars=maxchars, surround=60)
    fragments = top_fragments(fragmenter.fragment_tokens(text, _tokens(text, terms)), count,
                              BasicFragmentScorer(), lambda f: f.startchar, minscore=1)
    if not fragments:
        return None
    segments = _FORMATTER.format(fragments)
    if fragments[0].startchar > 0:
        segments.insert(0, (ELLIPSIS, False))
    if fragments[-1].endchar < len(text):
        segments.append((ELLIPSIS, False))
    return segments


def shorten(text: str, maxchars: int = 220) -> Segments:
    if len(text) <= maxchars:
        return one_line([(text, False)]) if text else []
    cut = text[:maxchars].rsplit(" ", 1)[0]
    return one_line([(cut, False), (ELLIPSIS, False)])


_WORDS = re.compile(r"\w+")


def repeats(text: str, title: str) -> bool:
    """Whether ``text`` says nothing ``title`` doesn't: its words (case and
    punctuation aside) are the title's, or the title's first ones, the last
    maybe cut short (a wire flash's excerpt is its headline; an excerpt is
    often the body's opening, cut). ``title`` may be a whole body."""
    heading = _WORDS.findall(title.casefold(), 0, len(text) + 1_000)  # no more than the text can repeat
    # Only as many of the text's words as the heading has, and one more: a text with more words
    # than the heading says something else, however long it is (a body need not be split whole).
    words = [match.group() for match in itertools.islice(_WORDS.finditer(text.casefold()), len(heading) + 1)]
    if not words:
        return True
    if len(words) > len(heading):
        return False
    *first, last = words
    return heading[:len(first)] == first and heading[len(first)].startswith(last)  # the last word may be cut


def hit_snippet(title: str, excerpt: str, body: str, terms: frozenset[str]) -> Segments:
    """A result's snippet: the passages of the excerpt, else of the body, around
    the matched words, else the start of either. A text that only repeats
    the title (``repeats``) is never used: the title is shown already, so a
    title-only wire flash has no snippet rather than its headline twice."""
    excerpt = "" if repeats(excerpt, title) else excerpt
    found = snippet(excerpt, terms)
    if found:  # the body is not looked at: most results match in their excerpt
        return found
    body = "" if repeats(body, title) else body
    return snippet(body, terms) or shorten(excerpt or body)


def to_text(segments: Segments) -> str:
    return "".join(t for t, _ in segments)
