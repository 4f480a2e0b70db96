"""Phrases matched a segment at a time: what Whoosh's ``Phrase`` finds, with its scores.

Whoosh matches a phrase document by document (``SpanNear2``): for each
document that has all the words it reads their positions into span
objects and compares them, several Python calls per candidate and
position, which made a phrase of two common words the slowest search
there is. ``phrase_scores`` instead

* takes the documents that have every word, and their scores, from the
  words' whole posting lists (``term_scores``: numpy, or ``termarrays``);
* takes the positions of just those documents from ``termarrays`` for a
  frequent word, or else from its posting blocks, skipping the blocks that
  hold none of them;
* keeps the documents where the words follow each other within the slop
  (comparing all positions at once, with numpy), scored as ``SpanNear2`` scores them: the sum of the words' scores added
  in Whoosh's binary-tree order, so the bits are the same.

It answers None for what it does not cover (a boost, a slop over 1 with
more than two words, postings it cannot read at once): the caller then
walks Whoosh's matcher as before.
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher

from .sorted_sets import common, isin_sorted

Scored = tuple[np.ndarray, np.ndarray]  # (segment docnums ascending, scores)


def phrase_scores(q: Q.Phrase, sub, context, term_scores_of: Callable[[Q.Term], Scored | None]) -> Scored | None:
    """(docnums, scores) of phrase ``q`` in the segment of ``sub``, or None (walk it instead).
    ``term_scores_of(term)`` gives a word's (docnums, scores) in this segment without deleted documents."""
    if not isinstance(q, Q.Phrase) or q.boost != 1 or len(q.words) < 2 or q.slop < 1:
        return None
    if q.slop > 1 and len(q.words) > 2:
        return None
    field = sub.schema[q.fieldname] if q.fieldname in sub.schema else None
    if field is None or not field.format or not field.format.supports("positions"):
        return None
    try:
        words = [field.to_bytes(word) for word in q.words]
    except ValueError:
        return _nothing()
    if any((q.fieldname, word) not in sub.reader() for word in words):
        return _nothing()  # as Whoosh: a word the segment lacks matches nothing
    scored = [term_scores_of(Q.Term(q.fieldname, word)) for word in words]
    if any(found is None for found in scored):
        return None
    candidates = scored[0][0]
    for docnums, _ in scored[1:]:
        candidates = common(candidates, docnums, sub.doc_count_all())
    located = {}
    for word in set(words):
        located[word] = _located(Q.Term(q.fieldname, word).matcher(sub, context), field.format, candidates)
        if located[word] is None:
            return None
    docnums = candidates[_in_order([located[word] for word in words], q.slop, len(candidates))]
    parts = [scores[np.searchsorted(found, docnums)] for found, scores in scored]
    return docnums, _tree_sum(parts)


def _nothing() -> Scored:
    return np.zeros(0, np.int64), np.zeros(0, np.float64)


Located = tuple[np.ndarray, np.ndarray]  # (index of the candidate each position is in, the position)


def _located(matcher, format_, candidates: np.ndarray) -> Located | None:
    """Every position of the word in ``candidates`` (all in its posting list, ascending):
    from ``termarrays`` for a frequent word, else read from its posting blocks."""
    if isinstance(matcher, FilterMatcher):  # a segment with deletions: the postings are the child's
        matcher = matcher.child
    if type(matcher) is not W3LeafMatcher:
        return None
    stored = getattr(matcher.scorer, "stored", None)
    if stored is not None:
        return stored.located(np.searchsorted(stored.docs, candidates))
    found = _block_positions(matcher, format_, candidates)
    if found is None:
        return None
    owners = np.repeat(np.arange(len(found)), [len(positions) for positions in found])
    return owners, np.fromiter(itertools.chain.from_iterable(found), np.int64, count=len(owners))


def _block_positions(matcher, format_, docnums: np.ndarray) -> list[list[int]] | None:
    """The positions of the word in each of ``docnums``, read a block at a time
    through ``W3LeafMatcher``'s private block attributes, as ``ranking.term_scores``
    reads them (checked against whoosh3 3.54.0)."""
    found: list[list[int]] = []
    wanted = docnums.tolist()
    at = 0
    decode = format_.decode_positions
    while at < len(wanted) and matcher.is_active():
        if matcher.block_max_id() < wanted[at]:
            matcher._next_block()  # none of this block's documents is wanted: its data is never read
            continue
        matcher._read_ids()
        matcher._read_values()
        ids, values = matcher._ids, matcher._values
        where = {docnum: i for i, docnum in enumerate(ids)}
        while at < len(wanted) and wanted[at] <= ids[-1]:
            found.append(decode(values[where[wanted[at]]]))
            at += 1
        matcher._next_block()
    return found if at == len(wanted) else None


def _in_order(located: list[Located], slop: int, count: int) -> np.ndarray:
    """Which of ``count`` candidates have the words in order, each next word 1..``slop``
    positions after the one before (``slop`` 1: one after another), as ``SpanNear2``
    decides it; ``located`` holds each word's positions."""
    owners, positions = located[0]
    starts = (owners << 32) | positions
    if slop == 1:
        for step, (owners, positions) in enumerate(located[1:], 1):
            fits = positions >= step
            starts = starts[isin_sorted(starts, (owners[fits] << 32) | (positions[fits] - step))]
        kept = starts >> 32
    else:
        owners, positions = located[1]
        kept = np.concatenate([starts[isin_sorted(starts, (owners[positions >= step] << 32)
                                                  | (positions[positions >= step] - step))]
                               for step in range(1, slop + 1)]) >> 32
    inside = np.zeros(count, dtype=bool)
    inside[kept] = True
    return inside


def _tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """The parts added as ``make_binary_tree`` nests Whoosh's intersection matchers: (a + (b + c))."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])
