"""Same story, many copies: collapsing syndicated and re-published articles.

``story_key`` (at index time) reduces a title to its sorted set of index
terms, so "U.S. stocks fall" and "Stocks fall in U.S." or a copy with
different punctuation share a key. ``collapse`` (at query time) groups the
matching articles by key, then splits each group wherever consecutive
copies are more than ``WINDOW_DAYS`` apart -- a weekly "COCOA REVIEW" is a
new story each week -- and keeps the best-scoring copy of each story,
remembering the others.
"""

from __future__ import annotations

from collections import Counter

from .analysis import analyze

WINDOW_DAYS = 3
MIN_KEY_TERMS = 2  # a one-word title ("Earnings") is not a story
_DAY = 86_400 * 1_000_000  # the published column counts microseconds


def story_key(title: str) -> str | None:
    terms = sorted({term for term, *_ in analyze(title, mode="query")})
    return " ".join(terms) if len(terms) >= MIN_KEY_TERMS else None


def collapse(scored: list[tuple[float, int]], docnums: list[int], stories: list, published: list,
             window_days: float = WINDOW_DAYS) -> tuple[list[tuple[float, int]], dict[int, list[int]]]:
    """``(score, -docnum)`` matches -> (one per story, {-docnum of a story's best copy: other docnums}).

    Most results have no copy, so only keys that repeat are grouped.
    """
    keys = list(map(stories.__getitem__, docnums))
    repeated = {key for key, count in Counter(keys).items() if count > 1 and key is not None}
    if not repeated:
        return scored, {}
    kept: list[tuple[float, int]] = []
    by_key: dict[str, list[tuple[float, int]]] = {}
    for match, key in zip(scored, keys):
        if key in repeated:
            by_key.setdefault(key, []).append(match)
        else:
            kept.append(match)
    others: dict[int, list[int]] = {}
    window = window_days * _DAY
    for copies in by_key.values():
        for story in _by_time(copies, published, window):
            best = max(story)
            kept.append(best)
            rest = [-negdoc for _, negdoc in sorted(story, reverse=True) if negdoc != best[1]]
            if rest:
                others[best[1]] = rest
    return kept, others


def _by_time(copies: list[tuple[float, int]], published: list, window: float) -> list[list[tuple[float, int]]]:
    """Split copies into stories at gaps longer than ``window``; undated copies are one story."""
    undated = [c for c in copies if published[-c[1]] is None]
    dated = sorted((c for c in copies if published[-c[1]] is not None), key=lambda c: published[-c[1]])
    stories: list[list[tuple[float, int]]] = []
    for copy in dated:
        if stories and published[-copy[1]] - published[-stories[-1][-1][1]] <= window:
            stories[-1].append(copy)
        else:
            stories.append([copy])
    return stories + ([undated] if undated else [])
