"""Posting lists of frequent words as numpy arrays, written with each segment a build writes.

Scoring a word reads its whole posting list, and matching a phrase the
positions of its words. Whoosh keeps postings in pickled blocks, positions
pickled once more inside, so reading a word that is in a fifth of the
archive costs about as much as the rest of a search put together, and
grows with the archive. The build writer (``postings.BuildSegmentWriter``)
holds each word's postings in arrays anyway; it saves those of the words
in at least ``FREQUENT`` documents of the segment, which hold most of its
postings, for ``ranking.term_scores`` and ``phrases`` to read without
decoding anything:

* ``<generation>/terms/<segment id>/``: ``docs.npy`` (segment document
  numbers), ``weights.npy`` (float32: the weights exactly as Whoosh's
  blocks hold them), ``counts.npy`` (positions per posting),
  ``positions.npy`` (all of them, posting after posting) and
  ``terms.json`` (term -> where its postings and positions start and end);
* ``save(folder, terms)`` writes them at once; ``TermArrays.load(folder)``
  memory-maps them and ``stored(term)`` answers a ``Stored`` or None.

Segments without them (an update's, a merge's, an older build's) and the
rarer words are read through Whoosh, as before.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np

FOLDER = "terms"
FREQUENT = 1024  # documents of a segment: ~1,300 words of a 50,000-article segment, ~70% of its postings


class Stored(NamedTuple):
    """One word's postings in one segment, in document order."""

    docs: np.ndarray  # segment document numbers
    weights: np.ndarray  # float32
    counts: np.ndarray  # how many positions each posting has
    positions: np.ndarray  # every posting's positions, one posting after another

    def located(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the postings at ``rows``: (which of them each position belongs to, the position)."""
        counts = self.counts.astype(np.int64)
        starts = np.cumsum(counts) - counts
        wanted, first = counts[rows], starts[rows]
        owner = np.repeat(np.arange(len(rows)), wanted)
        within = np.arange(int(wanted.sum())) - np.repeat(np.cumsum(wanted) - wanted, wanted)
        return owner, self.positions[np.repeat(first, wanted) + within].astype(np.int64)


class TermArrays:
    def __init__(self, spans: dict[bytes, list[int]], arrays: dict[str, np.ndarray]):
        self._spans, self._arrays = spans, arrays

    @classmethod
    def load(cls, folder: Path) -> "TermArrays | None":
        """The arrays saved in ``folder``, memory-mapped; None if there are none usable."""
        try:
            spans = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in Stored._fields}
        except (OSError, ValueError):
            return None
        if not len(arrays["docs"]) == len(arrays["weights"]) == len(arrays["counts"]):
            return None
        return cls({term.encode("utf-8"): span for term, span in spans.items()}, arrays)

    def stored(self, term: bytes) -> Stored | None:
        """``term``'s postings, or None if they were not saved."""
        span = self._spans.get(term)
        if span is None:
            return None
        start, end, first, last = span
        docs, weights, counts, positions = (self._arrays[name] for name in Stored._fields)
        return Stored(docs[start:end], weights[start:end], counts[start:end], positions[first:last])


def folder_for(generation: Path, segment_id: str) -> Path:
    return Path(generation) / FOLDER / segment_id


def save(folder: Path, terms: list[tuple[bytes, Stored]]) -> None:
    """Write ``(term, postings)`` to ``folder`` at once (a temporary folder renamed)."""
    if not terms:
        return
    temp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        spans, start, first = {}, 0, 0
        for term, stored in terms:
            spans[term.decode("utf-8")] = (start, start + len(stored.docs), first, first + len(stored.positions))
            start, first = start + len(stored.docs), first + len(stored.positions)
        for name in Stored._fields:
            joined = np.concatenate([getattr(stored, name) for _, stored in terms])
            if name != "weights":  # counts and positions are small numbers: the smallest type that holds them
                joined = joined.astype(np.min_scalar_type(int(joined.max()) if len(joined) else 0))
            np.save(temp / f"{name}.npy", joined.astype(np.float32) if name == "weights" else joined)
        (temp / "terms.json").write_text(json.dumps(spans, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
