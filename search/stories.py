"""Same story, many copies: collapsing syndicated and re-published articles.

``story_key`` (at index time) reduces a title to its sorted set of index
terms (given by the indexer, which has just computed them), so "U.S. stocks fall" and "Stocks fall in U.S." or a copy with
different punctuation share a key. ``story_ids`` (once per searcher)
numbers the stories: articles with one key, split wherever consecutive
copies are more than ``WINDOW_DAYS`` apart -- a weekly "COCOA REVIEW" is a
new story each week. ``collapse`` (per search) keeps the best-scoring copy
of each story among the matches, remembering the others.
"""

from __future__ import annotations

import operator
from collections import Counter
from itertools import compress


WINDOW_DAYS = 3
MIN_KEY_TERMS = 2  # a one-word title ("Earnings") is not a story
_DAY = 86_400 * 1_000_000  # the published column counts microseconds


def story_key(title_terms) -> str | None:
    """A title's index terms -> the key its copies share (None for titles too short to tell)."""
    terms = sorted(set(title_terms))
    return " ".join(terms) if len(terms) >= MIN_KEY_TERMS else None


def story_ids(keys: list[str | None], published: list) -> list[int | None]:
    """Per document, the number of the story it belongs to, for documents that
    share their story with another copy (None for the rest). Copies with one
    key are split where consecutive copies are more than ``WINDOW_DAYS``
    apart; undated copies of a key are one story. Made once per searcher."""
    by_key: dict[str, list[int]] = {}
    for docnum, key in enumerate(keys):
        if key is not None:
            by_key.setdefault(key, []).append(docnum)
    ids: list[int | None] = [None] * len(keys)
    window = WINDOW_DAYS * _DAY
    story = 0
    for docnums in by_key.values():
        if len(docnums) < 2:
            continue
        undated = [d for d in docnums if published[d] is None]
        dated = sorted((d for d in docnums if published[d] is not None), key=published.__getitem__)
        previous = None
        for docnum in dated:
            if previous is None or published[docnum] - published[previous] > window:
                story += 1
            ids[docnum] = story
            previous = docnum
        story += 1
        for docnum in undated:
            ids[docnum] = story
        story += 1
    return ids


def collapse(scored: list[tuple[float, int]], docnums: list[int],
             ids: list[int | None]) -> tuple[list[tuple[float, int]], dict[int, list[int]]]:
    """``(score, -docnum)`` matches -> (one per story, {-docnum of a story's best copy: other docnums}).

    Most matches are alone in their story, so the split uses C-level
    map/compress and only stories with several matching copies are grouped.
    """
    stories = list(map(ids.__getitem__, docnums))
    # Story numbers start at 1, so filter(None, ...) keeps articles that have copies at all.
    repeated = {story for story, count in Counter(filter(None, stories)).items() if count > 1}
    if not repeated:
        return scored, {}
    copied = list(map(repeated.__contains__, stories))
    kept = list(compress(scored, map(operator.not_, copied)))
    members: dict[int, list[tuple[float, int]]] = {}
    for match, story in zip(compress(scored, copied), compress(stories, copied)):
        members.setdefault(story, []).append(match)
    others: dict[int, list[int]] = {}
    for copies in members.values():
        copies.sort(reverse=True)
        kept.append(copies[0])
        others[copies[0][1]] = [-negdoc for _, negdoc in copies[1:]]
    return kept, others
