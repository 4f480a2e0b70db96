"""Same story, many copies: collapsing syndicated and re-published articles.

``story_key`` (at index time) reduces a title to its sorted set of index
terms (given by the indexer, which has just computed them), so "U.S. stocks fall" and "Stocks fall in U.S." or a copy with
different punctuation share a key. ``story_ids`` (once per searcher, on
arrays) numbers the stories: dated articles with one key, split wherever
consecutive copies are more than ``WINDOW_DAYS`` apart -- a weekly "COCOA
REVIEW" is a new story each week. Undated articles are never copies: without
a date, two articles with one title may as well be two reviews or two papers. ``collapse`` (per search) keeps the best-scoring copy
of each story among the matches, remembering the others.
"""

from __future__ import annotations

import numpy as np


WINDOW_DAYS = 3
MIN_KEY_TERMS = 2  # a one-word title ("Earnings") is not a story
_DAY = 86_400 * 1_000_000  # the published column counts microseconds


def story_key(title_terms) -> str | None:
    """A title's index terms -> the key its copies share (None for titles too short to tell)."""
    terms = sorted(set(title_terms))
    return " ".join(terms) if len(terms) >= MIN_KEY_TERMS else None


def story_ids(keys: np.ndarray, stamps: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Per document, the number of the story it belongs to, for dated documents
    that share their story key with another (-1 for the rest). ``keys`` holds
    the story keys as numbers (``arrays.story_hash``; 0: none). Copies with one
    key are split where consecutive copies are more than ``WINDOW_DAYS`` apart.
    Made once per searcher, with one sort."""
    ids = np.full(len(keys), -1, dtype=np.int64)
    keyed = np.flatnonzero((keys != 0) & dated)
    if not len(keyed):
        return ids
    key, stamp = keys[keyed], stamps[keyed]
    order = np.lexsort((keyed, stamp, key))  # by key, then by date
    key, stamp, keyed = key[order], stamp[order], keyed[order]
    new_key = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new_key)
    shared = np.repeat(np.diff(np.r_[starts, len(key)]) > 1, np.diff(np.r_[starts, len(key)]))
    new_story = new_key | (np.r_[0, np.diff(stamp)] > WINDOW_DAYS * _DAY)
    number = np.cumsum(new_story)
    ids[keyed[shared]] = number[shared]
    return ids


class Copies:
    """The other matching copies of each story's best copy (see ``collapse``)."""

    def __init__(self, best: np.ndarray, members: np.ndarray, starts: np.ndarray):
        self._group = dict(zip(best.tolist(), range(len(best))))
        self._members, self._bounds = members, np.r_[starts, len(members)]

    def get(self, docnum: int, default=()) -> list[int]:
        group = self._group.get(docnum)
        if group is None:
            return list(default)
        return self._members[self._bounds[group] + 1:self._bounds[group + 1]].tolist()


NO_COPIES = Copies(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def collapse(scores: np.ndarray, docnums: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, Copies]:
    """Matches (``scores`` of ``docnums``) -> (positions of the matches kept, one per story; their copies).

    A story's best copy has the highest score, the lowest docnum among equal
    scores; its ``Copies`` are the story's other matches in that order.
    """
    stories = ids[docnums]
    keyed = np.flatnonzero(stories >= 0)
    found, where, counts = np.unique(stories[keyed], return_inverse=True, return_counts=True)
    copied = keyed[counts[where] > 1]
    if not len(copied):
        return np.arange(len(docnums)), NO_COPIES
    order = copied[np.lexsort((docnums[copied], -scores[copied], stories[copied]))]
    story_of = stories[order]
    starts = np.flatnonzero(np.r_[True, story_of[1:] != story_of[:-1]])
    alone = np.ones(len(docnums), dtype=bool)
    alone[copied] = False
    kept = np.concatenate([np.flatnonzero(alone), order[starts]])
    return kept, Copies(docnums[order[starts]], docnums[order], starts)
